"""A real process killed during a merge; its restart finishes it: moved once, told once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import func, select, text

from gtm_feedback.config import Settings
from gtm_feedback.db.session import dispose_engines, session_scope
from gtm_feedback.feature_request.models import FeatureRequest, RequestMerge, request_followers
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.migrations import upgrade
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.sample.loader import seed
from gtm_feedback.user.models import AuditEvent
from tests.runs import SAMPLE_NOW

WORKER = Path(__file__).parents[1] / "merge_crash_worker.py"
SOURCE, INTO = "offline-mode-in-the-mobile-app", "saml-single-sign-on-with-okta-and-azure-ad"


def _merged(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        with session_scope(url) as session:
            if session.scalar(select(func.count()).select_from(RequestMerge)):
                return
        time.sleep(0.02)
    raise AssertionError("the merge never committed")


class State(NamedTuple):
    feedback: dict[str, int]  # feedback per request slug
    followers: set[str]  # of either request
    told: list[str]  # recipients of merge messages
    audits: int


def _state(url: str) -> State:
    with session_scope(url) as session:
        ids = {
            r.slug: r.id
            for r in session.scalars(
                select(FeatureRequest).where(FeatureRequest.slug.in_([SOURCE, INTO]))
            )
        }
        count = {
            slug: session.execute(
                select(func.count()).where(Feedback.request_id == rid)
            ).scalar_one()
            for slug, rid in ids.items()
        }
        followers = set(
            session.scalars(
                select(request_followers.c.user_id).where(
                    request_followers.c.request_id.in_(ids.values())
                )
            )
        )
        told = list(
            session.scalars(
                select(OutboxMessage.recipient_user_id).where(OutboxMessage.key.like("merged:%"))
            )
        )
        audits = session.execute(
            select(func.count()).where(AuditEvent.action == "request.merge")
        ).scalar_one()
        return State(count, followers, [str(t) for t in told], audits)


def test_a_merge_killed_midway_finishes_once_after_restart(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    url = settings.app_database_url
    upgrade(url)
    seed(url, tmp_path, seed_value=7, now=SAMPLE_NOW)
    before = _state(url)
    dispose_engines()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    command = [sys.executable, str(WORKER), str(tmp_path)]
    first = subprocess.Popen(
        [*command, "start", SOURCE, INTO],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _merged(url, time.monotonic() + 90)  # killed as soon as the merge committed
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    with session_scope(settings.dbos_database_url) as session:  # DBOS's own record of it
        status = session.execute(
            text("SELECT status FROM workflow_status WHERE workflow_uuid = :id"),
            {"id": "merge-requests-crash"},
        ).scalar_one()
    # Killed as the merge committed, before the fan-out to the followers: the restart must
    # recover the run (the merge step may even run again, and must then change nothing).
    assert status == "PENDING"
    second = subprocess.run(
        [*command, "recover", SOURCE, INTO],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    result = json.loads(second.stdout.strip().splitlines()[-1])
    after = _state(url)
    moved = before.feedback[SOURCE]
    assert result["feedback_moved"] == moved
    assert after.feedback == {SOURCE: 0, INTO: before.feedback[INTO] + moved}
    assert sorted(after.told) == sorted(before.followers)  # each follower of either, once
    assert after.audits == 1
