"""Testing workflows: a pytest plugin with a launched DBOS per test, and time and people on cue.

Enable it in a ``conftest.py`` with ``pytest_plugins = ["gtm_feedback.testing"]``, then ask
for the ``workflows`` fixture::

    def test_the_follow_up(workflows: WorkflowKit) -> None:
        created = workflows.run(create_request_workflow, CreateRequestInput(...))
        workflows.wait_for_sleep(created.followup_run_id)
        workflows.wake_up(created.followup_run_id)        # an hour, skipped
        assert workflows.result(created.followup_run_id) is True
        assert workflows.messages(kind="follow_up")

Each test gets a fresh SQLite database (migrated), DBOS launched on it with the real queues
and adapters (offline agents, the outbox as the messenger), and everything torn down after,
including runs left waiting.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from dbos import DBOS, SetWorkflowID
from sqlalchemy import select

from gtm_feedback import runtime
from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.models import Approval, ApprovalStatus
from gtm_feedback.config import Settings
from gtm_feedback.db.session import dispose_engines, session_scope
from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.durable.sleep import SLEEP_EVENT, WAKE_TOPIC, wake_up
from gtm_feedback.migrations import upgrade
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.audit import Actor

T = TypeVar("T")


@dataclass
class WorkflowKit:
    """A launched DBOS on a fresh database, and what tests do with workflows."""

    settings: Settings

    @property
    def url(self) -> str:
        """The application database."""
        return self.settings.app_database_url

    def start(self, workflow: Callable[..., T], *args: Any, run_id: str | None = None) -> str:
        """Start a run (without waiting); its id."""
        run_id = run_id or f"test-{uuid.uuid4().hex[:12]}"
        with SetWorkflowID(run_id):
            DBOS.start_workflow(workflow, *args)
        return run_id

    def run(self, workflow: Callable[..., T], *args: Any, run_id: str | None = None) -> T:
        """Run a workflow to the end and return its typed result (its error is raised)."""
        started = self.start(workflow, *args, run_id=run_id)
        result: T = DBOS.retrieve_workflow(started).get_result()
        return result

    def result(self, run_id: str, timeout: float = 30) -> Any:
        """The result of a run, once it has finished."""
        self._until(lambda: self._status(run_id) in FINISHED, timeout, f"{run_id} to finish")
        return DBOS.retrieve_workflow(run_id).get_result()

    def wait_for_sleep(self, run_id: str, timeout: float = 30) -> float:
        """Wait until the run sleeps durably (``durable_sleep``); the seconds it sleeps for."""
        found: dict[str, Any] = {}

        def sleeping() -> bool:
            event = DBOS.get_event(run_id, SLEEP_EVENT, timeout_seconds=0)
            found["event"] = event
            return isinstance(event, dict)

        self._until(sleeping, timeout, f"{run_id} to sleep")
        return float(found["event"]["seconds"])

    def wake_up(self, run_id: str) -> None:
        """End the run's durable sleep now, as if the time had passed."""
        wake_up(run_id)

    def wait_for_approval(self, run_id: str, timeout: float = 30) -> Approval:
        """The pending approval the run (or its decision child) waits on, once recorded."""
        found: list[Approval] = []

        def recorded() -> bool:
            with session_scope(self.url) as session:
                query = select(Approval).where(
                    Approval.workflow_id.in_([run_id, f"{run_id}-decision"]),
                    Approval.status == ApprovalStatus.PENDING,
                )
                row = session.scalars(query).first()
                if row is not None:
                    session.expunge(row)
                    found.append(row)
            return bool(found)

        self._until(recorded, timeout, f"an approval for {run_id}")
        return found[0]

    def decide(self, token: str, approved: bool, user: str = "tester@example.com") -> None:
        """Decide an approval the way the inbox, Slack and the API do (the run resumes)."""
        actor = Actor(None, user, "test")
        approvals.decide_and_resume(self.url, token=token, approved=approved, actor=actor)

    def messages(self, kind: str | None = None) -> list[OutboxMessage]:
        """Messages sent so far (the outbox records them all here), oldest first."""
        with session_scope(self.url) as session:
            query = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.id)
            if kind is not None:
                query = query.where(OutboxMessage.kind == kind)
            rows = list(session.scalars(query))
            for row in rows:
                session.expunge(row)
            return rows

    def _status(self, run_id: str) -> str | None:
        status = DBOS.get_workflow_status(run_id)
        return status.status if status else None

    def _until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}")

    def release_waiting(self) -> None:
        """Cancel runs still pending and wake their waits, so no thread outlives the test."""
        pending = DBOS.list_workflows(status=["PENDING", "ENQUEUED"], load_input=False)
        for run in pending:
            DBOS.cancel_workflow(run.workflow_id)
        with session_scope(self.url) as session:
            waits = session.execute(
                select(Approval.workflow_id, Approval.token).where(
                    Approval.status == ApprovalStatus.PENDING
                )
            ).all()
        for run in pending:
            DBOS.send(run.workflow_id, None, topic=WAKE_TOPIC)
        for workflow_id, token in waits:
            DBOS.send(workflow_id, None, topic=approvals.topic(token))


_EXIT_STATUS = pytest.StashKey[int]()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remember the run's exit status for :func:`pytest_unconfigure`."""
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Exit once pytest has reported everything, without joining DBOS's executor threads.

    As ``gtm-feedback serve`` does: a run a test left sleeping outside the ``workflows``
    fixture (a follow-up waits an hour) holds a DBOS executor thread, which the interpreter
    would join at exit; and once the test's PostgreSQL database is dropped, DBOS retries its
    connection without end. Our CI once hung there until its time ran out.
    """
    status = config.stash.get(_EXIT_STATUS, None)
    if status is None:  # the session never started (pytest --help, a usage error)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def kit_settings(folder: Path, **overrides: Any) -> Settings:
    """Settings on a fresh, migrated SQLite database in ``folder``."""
    settings = Settings(data_dir=folder, **overrides)
    upgrade(settings.app_database_url)
    return settings


@pytest.fixture
def workflow_settings(tmp_path: Path) -> Settings:
    """Override to change settings (e.g. ``followup_delay``) for the ``workflows`` fixture."""
    return kit_settings(tmp_path / "workflows")


@pytest.fixture
def workflows(workflow_settings: Settings) -> Iterator[WorkflowKit]:
    """DBOS launched on the test's own database for the test, then torn down."""
    runtime.launch(workflow_settings, "test")
    kit = WorkflowKit(workflow_settings)
    try:
        yield kit
    finally:
        kit.release_waiting()
        runtime.shutdown()
        dispose_engines()
