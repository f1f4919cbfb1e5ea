"""The workflow test kit (``gtm_feedback.testing``) on the project's real workflows."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.feedback.schemas import (
    CreateRequestInput,
    FeedbackSubmission,
    ProcessFeedbackInput,
)
from gtm_feedback.feedback.workflows import create_request_workflow, process_feedback_workflow
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.sample.loader import seed
from gtm_feedback.testing import WorkflowKit, kit_settings


@pytest.fixture
def workflow_settings(tmp_path: Path) -> Settings:
    # An hour's follow-up and a week's approval wait: the kit skips and decides them.
    settings = kit_settings(tmp_path / "kit", followup_delay=3600.0)
    seed(
        settings.app_database_url,
        settings.data_dir,
        seed_value=7,
        now=datetime(2026, 11, 1, tzinfo=UTC),
    )
    embedder = get_embedder(settings)
    with session_scope(settings.app_database_url) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)
    return settings


def test_a_follow_up_sleep_is_skipped(workflows: WorkflowKit) -> None:
    started = time.monotonic()
    created = workflows.run(
        create_request_workflow,
        CreateRequestInput(
            pain="Finance needs invoices pushed to NetSuite daily.", creator_email="rep@x.example"
        ),
    )
    assert workflows.wait_for_sleep(created.followup_run_id) == 3600.0
    workflows.wake_up(created.followup_run_id)
    assert workflows.result(created.followup_run_id) is True  # nobody added feedback
    [message] = workflows.messages(kind="follow_up")
    assert created.slug in message.text
    assert time.monotonic() - started < 60  # not an hour


def test_an_approval_is_waited_for_and_decided(workflows: WorkflowKit) -> None:
    with session_scope(workflows.url) as session:
        account = session.scalars(select(Feedback.account_id).limit(1)).one()
    submission = FeedbackSubmission(
        pain="Our reps need the mobile app to work without signal.",
        severity="high",
        account_id=account,
        submitter_email="seller@x.example",
    )
    data = ProcessFeedbackInput(submission_id="sub_kit1", submission=submission)
    first = workflows.run(process_feedback_workflow, data, run_id="feedback-sub_kit1")
    assert (first.tier, first.outcome) == ("approval", "waiting")
    approval = workflows.wait_for_approval("feedback-sub_kit1")
    assert approval.payload["request_id"] == first.request_id
    assert [m.kind for m in workflows.messages(kind="approval_request")] == ["approval_request"]
    workflows.decide(approval.token, approved=True)
    assert first.decision_run_id is not None
    decided = workflows.result(first.decision_run_id)
    assert (decided.outcome, decided.request_id) == ("attached", first.request_id)


def test_a_run_left_waiting_does_not_outlive_the_test(workflows: WorkflowKit) -> None:
    created = workflows.run(
        create_request_workflow,
        CreateRequestInput(
            pain="Admins want a weekly CSV of seat usage.", creator_email="rep@x.example"
        ),
    )
    workflows.wait_for_sleep(created.followup_run_id)
    # The kit's teardown cancels it and wakes its sleep: no thread is left behind.


_LEFT_SLEEPING = """
from concurrent.futures import ThreadPoolExecutor
import time

pytest_plugins = ["gtm_feedback.testing"]

_POOL = ThreadPoolExecutor(max_workers=1)  # like DBOS's executor: joined at exit


def test_leaves_a_run_sleeping():
    _POOL.submit(time.sleep, 3600)  # a follow-up's hour


def test_outcome():
    assert OUTCOME
"""


@pytest.mark.parametrize(("outcome", "status"), [("True", 0), ("False", 1)])
def test_pytest_exits_with_its_status_though_a_run_sleeps(
    tmp_path: Path, outcome: str, status: int
) -> None:
    """A thread left sleeping for an hour does not hold the test process open (CI hung so)."""
    (tmp_path / "test_left.py").write_text(_LEFT_SLEEPING.replace("OUTCOME", outcome))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,  # the property: far less than the hour the thread sleeps
        check=False,
    )
    assert run.returncode == status, run.stdout + run.stderr
    assert ("1 failed" in run.stdout) is (status == 1)
