"""Retention: finished runs older than ``GTMFB_RUN_RETENTION_DAYS`` go, with their steps.

Only DBOS's records of runs are removed (inputs, outputs, steps, events). What the runs made
stays: feedback, requests, insight reports, approvals, the outbox and the audit trail live in
the app's own tables. Runs still waiting, running or failed beyond recovery stay until someone
acts on them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dbos import DBOS

from gtm_feedback.durable.control import RunControl
from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.integrations import adapters
from gtm_feedback.logging import get_logger

log = get_logger(__name__)

SCHEDULE_NAME = "run-retention"
#: Runs removed per statement: one batch's ids fit any database's parameter limit.
BATCH = 500


class RunRemover(RunControl, Protocol):
    """``DBOS`` or a ``DBOSClient``: list runs and delete them."""

    def delete_workflows(self, workflow_ids: list[str], *, delete_children: bool = False) -> None:
        """Remove these runs and everything DBOS recorded for them."""
        ...


def expired(control: RunControl, older_than: timedelta, limit: int | None = None) -> list[str]:
    """The ids of finished runs created more than ``older_than`` ago, oldest first."""
    cutoff = datetime.now(UTC) - older_than
    found = control.list_workflows(
        status=sorted(FINISHED),
        end_time=cutoff.isoformat(),
        limit=limit,
        load_input=False,
        load_output=False,
    )
    return [run.workflow_id for run in found]


def purge(control: RunRemover, older_than: timedelta) -> int:
    """Remove every finished run older than ``older_than``, a batch at a time; how many."""
    removed: set[str] = set()
    while batch := [r for r in expired(control, older_than, BATCH) if r not in removed]:
        control.delete_workflows(batch)
        removed.update(batch)
    return len(removed)


@DBOS.step()
def purge_step(days: float) -> int:
    """Remove the finished runs older than ``days`` (a step: done once per firing)."""
    removed = purge(DBOS, timedelta(days=days))
    log.info("runs.purged", removed=removed, older_than_days=days)
    return removed


@DBOS.workflow()
def scheduled_retention_workflow(scheduled_at: datetime, _context: Any) -> int:
    """Daily: remove finished runs older than the retention (``0``: keep every run)."""
    days = adapters.current().settings.run_retention_days
    return purge_step(days) if days > 0 else 0
