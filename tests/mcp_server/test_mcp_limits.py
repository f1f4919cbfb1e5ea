"""The MCP tool that files feedback counts against the same per-user rate as the REST intake."""

from __future__ import annotations

import anyio
from mcp import Client

from gtm_feedback.mcp_server.server import build_server
from gtm_feedback.testing import WorkflowKit
from gtm_feedback.user.access import Principal
from gtm_feedback.user.models import Role
from gtm_feedback.web.ratelimit import RateLimit, client_key

MEMBER = Principal("us_limit", "mo@tests.example", "Mo", Role.member, address="mcp")


def test_submissions_over_the_rate_are_refused(workflows: WorkflowKit) -> None:
    limit = RateLimit("2/minute")
    limit.check(client_key(MEMBER.user_id))  # one submission already made through the API
    server = build_server(workflows.settings, as_user=MEMBER, intake_limit=limit)
    arguments = {"pain": "Exports time out", "severity": "low", "account_id": "acc_none"}

    async def scenario() -> list[str]:
        async with Client(server) as client:
            answers = [await client.call_tool("submit_feedback", arguments) for _ in range(2)]
        return [" ".join(getattr(p, "text", "") for p in a.content) for a in answers]

    within, over = anyio.run(scenario)
    assert "over the limit" not in within  # counted, then refused for its unknown account
    assert "acc_none" in within
    assert "over the limit of 2 per 1 minute" in over
