"""Crash: a real server killed with SIGKILL while processing a burst of submissions, restarted.

Every submission must end with exactly one outcome, no feedback row twice, no message twice.
"""

from __future__ import annotations

import csv
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select

from gtm_feedback.db.session import session_scope
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.outbox.models import OutboxMessage
from tests.servers import api_headers, run_status, server_env, start, wait_ready

SUBMISSIONS = 80


def _finished(base: str, run_id: str, auth: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = run_status(base, run_id, auth)
        if state.get("status") in {"SUCCESS", "ERROR"}:
            return state
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


def _first_incoming(tmp_path: Path) -> dict[str, str]:
    with (tmp_path / "data" / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        return next(csv.DictReader(handle))


def test_sleep_and_approval_wait_survive_a_restart(tmp_path: Path) -> None:
    env, base = server_env(tmp_path / "data", followup_delay="20s")
    auth = api_headers(env)
    log = tmp_path / "server.log"
    row = _first_incoming(tmp_path)
    server = start(env, log)
    wait_ready(base)

    def submit(pain: str) -> str:
        body = {
            "pain": pain,
            "severity": "medium",
            "account_id": row["account_id"],
            "submitter_email": row["submitter_email"],
        }
        answer = httpx.post(f"{base}/api/feedback", json=body, timeout=10, headers=auth)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["run_id"])

    created = _finished(base, submit("The invoice PDF shows the wrong VAT rate for Germany."), auth)
    request_id = created["result"]["request_id"]
    asked = _finished(base, submit("Our reps need the mobile app to work without signal."), auth)
    decision_run = asked["result"]["decision_run_id"]
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    time.sleep(8.0)  # down for 8 s of the 20 s sleep

    server = start(env, log)
    try:
        wait_ready(base)
        followup = _finished(base, f"followup-{request_id}", auth, timeout=60)
        assert followup["result"] is True
        # Woke at the original time (20 s after it started; later only if the restart took
        # longer than 12 s on a busy machine), not 20 s after the restart: that would be at
        # least 8 + 20 = 28 s.
        assert 20_000 <= followup["duration_ms"] < 28_000, followup["duration_ms"]
        inbox = httpx.get(f"{base}/api/approvals", timeout=10, headers=auth).json()["items"]
        token = next(a["token"] for a in inbox if a["workflow_id"] == decision_run)
        decided = httpx.post(
            f"{base}/api/approvals/{token}", json={"approved": True}, timeout=10, headers=auth
        )
        assert decided.status_code == 200
        outcome = _finished(base, decision_run, auth)["result"]
        assert (outcome["tier"], outcome["outcome"]) == ("approval", "attached")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def test_killed_server_finishes_every_submission_exactly_once(tmp_path: Path) -> None:
    # The queue is polled once a second: while the burst is sent, some submissions start at once
    # (direct starts) and the rest wait in the queue, so the kill finds both kinds unfinished.
    env, base = server_env(tmp_path / "data", followup_delay="1h", feedback_polling_interval="1s")
    auth = api_headers(env)
    log = tmp_path / "server.log"
    server = start(env, log)
    wait_ready(base)
    with (tmp_path / "data" / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        incoming = list(csv.DictReader(handle))

    def submit(n: int) -> str:
        row = incoming[n % len(incoming)]
        body = {
            "pain": f"{row['text']} (#{n})",
            "severity": row["severity"],
            "account_id": row["account_id"],
            "submitter_email": row["submitter_email"],
        }
        headers = auth | {"Idempotency-Key": f"k{n}"}
        answer = httpx.post(f"{base}/api/feedback", json=body, headers=headers, timeout=60)
        assert answer.status_code == 202, answer.text
        return str(answer.json()["run_id"])

    # A concurrent burst (sent one at a time, each would finish before the next was sent).
    with ThreadPoolExecutor(16) as pool:
        runs = list(pool.map(submit, range(SUBMISSIONS)))
    server.send_signal(signal.SIGKILL)
    server.wait(timeout=30)
    with sqlite3.connect(tmp_path / "data" / "dbos_system.sqlite") as system:
        finished = system.execute(
            "SELECT count(*) FROM workflow_status WHERE status = 'SUCCESS' "
            "AND workflow_uuid LIKE 'feedback-sub_%' AND workflow_uuid NOT LIKE '%-decision'"
        ).fetchone()[0]
        direct = system.execute(
            "SELECT count(*) FROM workflow_status WHERE queue_name IS NULL "
            "AND workflow_uuid LIKE 'feedback-sub_%' AND workflow_uuid NOT LIKE '%-decision'"
        ).fetchone()[0]
    assert direct > 0  # some started at once, the others went through the queue
    assert finished < len(runs)  # the kill interrupted the work

    server = start(env, log)
    try:
        wait_ready(base)
        deadline = time.monotonic() + 180
        states: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            states = {run: run_status(base, run, auth) for run in runs}
            settled = [s for s in states.values() if s["status"] == "SUCCESS"]
            if len(settled) == len(runs):
                break
            time.sleep(0.5)
        failed = {r: s["error"] for r, s in states.items() if s["status"] == "ERROR"}
        assert failed == {}
        unsettled = [r for r, s in states.items() if s["status"] != "SUCCESS"]
        assert unsettled == [], log.read_text()[-3000:]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    url = f"sqlite:///{tmp_path / 'data' / 'gtm_feedback.sqlite'}"
    with session_scope(url) as session:
        results = [r["result"] for r in states.values()]
        created = {r["feedback_id"] for r in results if r["feedback_id"] is not None}
        # Every run has one outcome: attached / created, or waiting for a person.
        assert {r["outcome"] for r in results} <= {"attached", "created", "waiting"}
        assert len(created) + sum(r["outcome"] == "waiting" for r in results) == len(runs)
        stored = (
            session.execute(select(Feedback.id).where(Feedback.id.in_(created))).scalars().all()
        )
        assert sorted(stored) == sorted(created)  # each outcome's feedback exists, once (PK)
        keys = session.execute(select(OutboxMessage.key)).scalars().all()
        assert len(keys) == len(set(keys))
        per_submission = session.execute(
            select(func.count()).select_from(Feedback).where(Feedback.id.like("fb_sub_%"))
        ).scalar_one()
        assert per_submission == len(created)
