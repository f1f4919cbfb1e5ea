"""``gtm-feedback runs``: list, show, cancel, resume and retry through a DBOS client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from dbos import DBOS, SetWorkflowID
from sqlalchemy import select, text
from typer.testing import CliRunner

from gtm_feedback.cli import app
from gtm_feedback.config import get_settings
from gtm_feedback.db.session import get_engine, session_scope
from gtm_feedback.feedback.workflows import request_followup_workflow
from gtm_feedback.monitoring.retention import scheduled_retention_workflow
from gtm_feedback.testing import WorkflowKit
from gtm_feedback.user.models import AuditEvent

runner = CliRunner()


@pytest.fixture
def cli(workflows: WorkflowKit, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Run ``gtm-feedback runs …`` on the launched test database; its output."""
    monkeypatch.setenv("GTMFB_DATA_DIR", str(workflows.settings.data_dir))
    get_settings.cache_clear()

    def run(*args: str, code: int = 0, answer: str | None = None) -> str:
        done = runner.invoke(app, ["runs", *args], input=answer)
        assert done.exit_code == code, done.output
        return " ".join(done.output.split())

    yield run
    get_settings.cache_clear()


def _status(run_id: str) -> str | None:
    found = DBOS.get_workflow_status(run_id)
    return found.status if found else None


def _until(run_id: str, wanted: set[str], timeout: float = 30) -> str | None:
    deadline = time.monotonic() + timeout
    while (status := _status(run_id)) not in wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return status


def _start_followup(run_id: str, delay: float) -> None:
    with SetWorkflowID(run_id):
        DBOS.start_workflow(request_followup_workflow, "fr_missing", "a@example.com", delay, 0)


def test_list_show_and_act_on_runs(cli: Callable[..., str], workflows: WorkflowKit) -> None:
    _start_followup("sleeping", 3600)
    _start_followup("finished", 0)
    assert _until("finished", {"SUCCESS"}) == "SUCCESS"
    assert _until("sleeping", {"PENDING"}) == "PENDING"

    listed = json.loads(cli("list", "--workflow", "request-followup", "--json"))
    assert {r["id"]: r["status"] for r in listed} == {"sleeping": "PENDING", "finished": "SUCCESS"}
    assert [r["id"] for r in json.loads(cli("list", "-s", "pending", "--json"))] == ["sleeping"]
    assert json.loads(cli("list", "--newer-than", "1h", "--older-than", "2h", "--json")) == []
    shown = json.loads(cli("show", "finished", "--json"))
    assert shown["status"] == "SUCCESS"
    names = [step["name"] for step in shown["steps"]]
    assert "_feedback_count_step" in names  # and the run's other steps, in order
    assert [step["step"] for step in shown["steps"]] == sorted(
        step["step"] for step in shown["steps"]
    )
    assert "_feedback_count_step" in cli("show", "finished")  # the table says the same

    preview = cli(
        "cancel", "-w", "request_followup", "-s", "PENDING", "--older-than", "0s", answer="n"
    )
    assert (
        "1 run(s) match; cancel applies to those that are DELAYED or ENQUEUED or PENDING" in preview
    )
    assert _status("sleeping") == "PENDING"  # answered no: nothing done
    cancelled = cli("cancel", "-w", "request_followup", "-s", "PENDING", "--yes")
    assert "1 of 1 run(s): cancel done." in cancelled
    assert _until("sleeping", {"CANCELLED"}) == "CANCELLED"

    assert "Cannot cancel a run that is SUCCESS." in cli("cancel", "finished")
    assert "Resumed." in cli("resume", "sleeping")
    assert _until("sleeping", {"PENDING", "ENQUEUED"}) in {"PENDING", "ENQUEUED"}
    retried = cli("retry", "finished")
    assert "Retried as a new run (from finished)." in retried
    forks = DBOS.list_workflows(forked_from="finished", load_input=False)
    assert len(forks) == 1
    assert "No run with id nope." in cli("resume", "nope")

    with session_scope(workflows.url) as session:
        logged = session.scalars(select(AuditEvent.action).where(AuditEvent.target != "")).all()
    assert sorted(logged) == ["run.cancel", "run.resume", "run.retry"]


def test_bad_runs_commands_say_why(cli: Callable[..., str]) -> None:
    assert "give run ids, or filters" in cli("cancel", code=2)
    assert "give run ids or filters, not both" in cli("cancel", "x", "--status", "PENDING", code=2)
    assert "unknown status BOGUS" in cli("list", "--status", "bogus", code=2)
    assert "not a duration: '3x'" in cli("list", "--older-than", "3x", code=2)
    assert "No run with id nope." in cli("show", "nope", code=2)


def _age_run(workflows: WorkflowKit, run_id: str, days: float) -> None:
    # The record's creation time, moved back: what a month of waiting would leave.
    with get_engine(workflows.settings.dbos_database_url).begin() as connection:
        connection.execute(
            text(
                "UPDATE workflow_status SET created_at = created_at - :ms WHERE workflow_uuid = :id"
            ),
            {"ms": int(days * 86_400_000), "id": run_id},
        )


def test_purge_removes_old_finished_runs_only(
    cli: Callable[..., str], workflows: WorkflowKit
) -> None:
    _start_followup("sleeping", 3600)
    _start_followup("finished", 0)
    _start_followup("recent", 0)
    assert _until("finished", {"SUCCESS"}) == _until("recent", {"SUCCESS"}) == "SUCCESS"
    assert _until("sleeping", {"PENDING"}) == "PENDING"
    _age_run(workflows, "finished", 40)
    _age_run(workflows, "sleeping", 40)  # old, but still waiting: kept

    assert "1 finished run(s) older than 30 day(s)" in cli("purge", "--dry-run")
    assert _status("finished") == "SUCCESS"  # a dry run removes nothing
    assert "0 finished run(s) older than 60 day(s)" in cli("purge", "--older-than", "60d")
    assert "Removed 1 run(s)" in cli("purge", "--yes")
    assert (_status("finished"), _status("recent"), _status("sleeping")) == (
        None,
        "SUCCESS",
        "PENDING",
    )
    with session_scope(workflows.settings.app_database_url) as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert "runs.purge" in actions


def test_the_daily_schedule_purges_by_the_retention_setting(workflows: WorkflowKit) -> None:
    _start_followup("old", 0)
    assert _until("old", {"SUCCESS"}) == "SUCCESS"
    _age_run(workflows, "old", workflows.settings.run_retention_days + 1)
    with SetWorkflowID("retention-firing"):
        removed = scheduled_retention_workflow(datetime.now(UTC), None)
    assert removed == 1
    assert _status("old") is None
