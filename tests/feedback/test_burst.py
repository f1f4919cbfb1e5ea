"""A burst of 200 concurrent submissions on a real server: nothing accepted is lost.

Every answer is 202, or 503 with Retry-After (the client then retries with its key); every
accepted submission reaches its outcome exactly once and no run ends in ERROR.
"""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from gtm_feedback.db.session import dispose_engines, session_scope
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.models import Role
from tests.servers import api_headers, run_status, server_env, start, stop, wait_ready

BURST = 200


def _bodies(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        {
            "pain": rows[n % len(rows)]["text"] + ("" if n < len(rows) else f" (case {n})"),
            "severity": rows[n % len(rows)]["severity"],
            "account_id": rows[n % len(rows)]["account_id"],
            "submitter_email": rows[n % len(rows)]["submitter_email"],
        }
        for n in range(BURST)
    ]


async def _submit(client: httpx.AsyncClient, n: int, body: dict[str, str]) -> dict[str, Any]:
    """POST until accepted, honouring Retry-After; what the first answer was, and the run."""
    first: int | None = None
    for _ in range(60):
        answer = await client.post("/api/feedback", json=body, headers={"Idempotency-Key": f"b{n}"})
        first = first or answer.status_code
        if answer.status_code == 202:
            return {"first": first, "run_id": answer.json()["run_id"]}
        assert answer.status_code in (429, 503), answer.text
        assert answer.headers["retry-after"].isdigit()
        await asyncio.sleep(float(answer.headers["retry-after"]))
    raise AssertionError(f"submission {n} never accepted")


async def _burst(
    base: str, auth: dict[str, str], bodies: list[dict[str, str]]
) -> tuple[list[dict[str, Any]], float]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=120, headers=auth)
    async with client:
        started = time.monotonic()
        answers = await asyncio.gather(*(_submit(client, n, b) for n, b in enumerate(bodies)))
        return list(answers), time.monotonic() - started


def _settle(
    base: str, auth: dict[str, str], runs: list[str], timeout: float = 600
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    states: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        states = {run: run_status(base, run, auth) for run in runs}
        if all(s["status"] in ("SUCCESS", "ERROR") for s in states.values()):
            return states
        time.sleep(1.0)
    pending = [r for r, s in states.items() if s["status"] not in ("SUCCESS", "ERROR")]
    raise AssertionError(f"{len(pending)} runs unfinished after {timeout} s")


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_burst_of_200_loses_nothing(
    tmp_path: Path, request: pytest.FixtureRequest, database: str
) -> None:
    settings = {"followup_delay": "1h", "intake_rate_limit": "off"}  # one client, many posts
    if database == "postgres":
        settings["database_url"] = request.getfixturevalue("empty_pg_url")
    env, base = server_env(tmp_path / "data", **settings)
    auth = api_headers(env, Role.member)
    log = tmp_path / "server.log"
    server = start(env, log)
    try:
        wait_ready(base)
        answers, _ = asyncio.run(_burst(base, auth, _bodies(tmp_path / "data")))
        assert {a["first"] for a in answers} <= {202, 429, 503}
        runs = [a["run_id"] for a in answers]
        assert len(set(runs)) == BURST
        states = _settle(base, api_headers(env), runs)
    finally:
        stop(server)
    failed = {r: s["error"] for r, s in states.items() if s["status"] == "ERROR"}
    assert failed == {}, log.read_text()[-3000:]
    results = [s["result"] for s in states.values()]
    stored = {r["feedback_id"] for r in results if r["feedback_id"]}
    waiting = sum(r["outcome"] == "waiting" for r in results)
    assert len(stored) + waiting == BURST
    url = settings.get("database_url") or f"sqlite:///{tmp_path / 'data' / 'gtm_feedback.sqlite'}"
    with session_scope(url) as session:
        rows = session.execute(select(Feedback.id).where(Feedback.id.in_(stored))).scalars().all()
        assert sorted(rows) == sorted(stored)  # each accepted submission's feedback, once
        keys = session.execute(select(OutboxMessage.key)).scalars().all()
        assert len(keys) == len(set(keys))  # no message twice
        burst_rows = session.execute(
            select(func.count()).select_from(Feedback).where(Feedback.id.like("fb_sub_%"))
        ).scalar_one()
        assert burst_rows == len(stored)
    dispose_engines()
