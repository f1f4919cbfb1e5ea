"""The MCP server as an assistant meets it: the official SDK's client against a real
`gtm-feedback serve` (streamable HTTP at /mcp, bearer tokens) and a real `gtm-feedback mcp`
(stdio); the tools go through the matching engine, the intake and the approvals inbox."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult
from sqlalchemy import select

from gtm_feedback.db.session import session_scope
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.user.models import Role
from tests.servers import (
    CLI,
    api_headers,
    database_url,
    run_status,
    server_env,
    start,
    stop,
    wait_ready,
)

TOOLS = {
    "search_requests",
    "get_request",
    "submit_feedback",
    "list_approvals",
    "decide_approval",
    "area_insights",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, str], str]]:
    """A real server with its workers, the sample loaded and embedded."""
    data_dir = tmp_path_factory.mktemp("mcp")
    env, base = server_env(data_dir, approval_timeout="600")
    subprocess.run([str(CLI), "embeddings", "sync"], env=env, check=True, capture_output=True)
    server = start(env, data_dir / "server.log")
    try:
        try:
            wait_ready(base)
        except AssertionError as exc:  # show why
            raise AssertionError((data_dir / "server.log").read_text()[-3000:]) from exc
        yield env, base
    finally:
        stop(server)


@asynccontextmanager
async def over_http(base: str, headers: dict[str, str]) -> AsyncIterator[Client]:
    """The SDK's client on the app's streamable-HTTP endpoint, with a token."""
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{base}/mcp", http_client=http)
        async with Client(transport) as client:
            yield client


def _data(result: CallToolResult) -> Any:
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured is not None
    return structured.get("result", structured)


def _error(result: CallToolResult) -> str:
    assert result.is_error
    return " ".join(getattr(part, "text", "") for part in result.content)


def test_http_needs_a_valid_token(served: tuple[dict[str, str], str]) -> None:
    _, base = served
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"accept": "application/json, text/event-stream"}
    assert httpx.post(f"{base}/mcp", json=body, headers=headers).status_code == 401
    forged = {**headers, "authorization": "Bearer gtmfb_not-a-real-token"}
    assert httpx.post(f"{base}/mcp", json=body, headers=forged).status_code == 401


def test_search_get_and_insights_over_http(served: tuple[dict[str, str], str]) -> None:
    env, base = served
    viewer = api_headers(env, Role.viewer, "vi@tests.example")

    async def scenario() -> None:
        async with over_http(base, viewer) as client:
            listed = await client.list_tools()
            assert {tool.name for tool in listed.tools} == TOOLS
            assert all(tool.description for tool in listed.tools)
            hits = _data(
                await client.call_tool(
                    "search_requests", {"query": "log in with Okta single sign-on", "limit": 3}
                )
            )
            assert 1 <= len(hits) <= 3
            best = hits[0]
            assert 0 < best["confidence"] <= 1
            assert best["reason"]
            assert best["url"].endswith(f"/requests/{best['slug']}")
            assert "sso" in best["slug"] or "sign" in best["slug"]
            detail = _data(await client.call_tool("get_request", {"slug": best["slug"]}))
            assert detail["title"] == best["title"]
            assert detail["feedback_count"] == len(detail["feedback"])
            missing = await client.call_tool("get_request", {"slug": "no-such-request"})
            assert "no feature request" in _error(missing)
            no_area = await client.call_tool("area_insights", {"area": "nowhere"})
            assert "known:" in _error(no_area)
            # A viewer reads; filing feedback needs a member.
            refused = await client.call_tool(
                "submit_feedback",
                {"pain": "x", "severity": "low", "account_id": "acc_001"},
            )
            assert "member role" in _error(refused)
            bad = await client.call_tool("search_requests", {"query": ""})
            assert bad.is_error

    anyio.run(scenario)


def _account(env: dict[str, str]) -> str:
    with session_scope(database_url(env)) as session:
        return str(session.scalars(select(Feedback.account_id).limit(1)).one())


def _wait_finished(base: str, run_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = run_status(base, run_id, headers)
        if run.get("status") in {"SUCCESS", "ERROR"}:
            return run
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish")


def test_submit_then_decide_the_approval(served: tuple[dict[str, str], str]) -> None:
    env, base = served
    member = api_headers(env, Role.member, "mo@tests.example")
    approver = api_headers(env, Role.approver, "pat@tests.example")
    pain = "Our reps need the mobile app to work without signal."
    arguments = {"pain": pain, "severity": "high", "account_id": _account(env)}

    async def scenario() -> tuple[str, str]:
        async with over_http(base, member) as client:
            once = _data(
                await client.call_tool("submit_feedback", arguments | {"idempotency_key": "k1"})
            )
            twice = _data(
                await client.call_tool("submit_feedback", arguments | {"idempotency_key": "k1"})
            )
            assert once == twice
            assert "approver role" in _error(await client.call_tool("list_approvals", {}))
            blank = await client.call_tool("submit_feedback", arguments | {"pain": "   "})
            assert "invalid input: pain" in _error(blank)
        first = _wait_finished(base, once["run_id"], approver)["result"]
        assert (first["tier"], first["outcome"]) == ("approval", "waiting")
        async with over_http(base, approver) as client:
            inbox = _data(await client.call_tool("list_approvals", {}))
            waiting = [a for a in inbox if a["workflow_id"] == first["decision_run_id"]]
            assert len(waiting) == 1
            decided = _data(
                await client.call_tool(
                    "decide_approval", {"token": waiting[0]["token"], "approved": True}
                )
            )
            assert (decided["status"], decided["decided_by"]) == ("approved", "pat@tests.example")
            again = await client.call_tool(
                "decide_approval", {"token": waiting[0]["token"], "approved": False}
            )
            assert "already approved" in _error(again)
        return once["submission_id"], first["decision_run_id"]

    submission_id, decision_run = anyio.run(scenario)
    result = _wait_finished(base, decision_run, approver)["result"]
    assert (result["tier"], result["outcome"]) == ("approval", "attached")
    with session_scope(database_url(env)) as session:
        stored = session.get(Feedback, f"fb_{submission_id}")
        assert stored is not None
        assert stored.description == pain
        assert stored.creator is not None
        assert stored.creator.email == "mo@tests.example"


def test_stdio_serves_the_same_tools(served: tuple[dict[str, str], str], tmp_path: Path) -> None:
    env, base = served
    token = api_headers(env, Role.member, "stdio@tests.example")["Authorization"].split()[1]
    params = StdioServerParameters(
        command=str(CLI), args=["mcp"], env={**env, "GTMFB_MCP_TOKEN": token}
    )

    pain = "The invoice PDF shows the wrong VAT rate for Austrian customers."

    async def scenario() -> str:
        async with Client(params) as client:
            listed = await client.list_tools()
            assert {tool.name for tool in listed.tools} == TOOLS
            hits = _data(await client.call_tool("search_requests", {"query": "dark mode"}))
            assert hits
            assert hits[0]["slug"]
            refused = await client.call_tool("list_approvals", {})
            assert "approver role" in _error(refused)
            arguments = {"pain": pain, "severity": "low", "account_id": _account(env)}
            submitted = _data(await client.call_tool("submit_feedback", arguments))
            return str(submitted["run_id"])

    # Queued by the stdio process, run by the server's workers.
    run_id = anyio.run(scenario)
    assert _wait_finished(base, run_id, api_headers(env))["status"] == "SUCCESS"
    bad = subprocess.run(
        [str(CLI), "mcp"],
        env={**env, "GTMFB_MCP_TOKEN": "gtmfb_wrong"},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2
    assert b"not valid" in bad.stderr
    assert bad.stdout == b""
