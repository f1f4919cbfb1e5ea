"""Act on runs: cancel, resume or retry one, and pick runs by filter (runs page and CLI).

Works through DBOS itself (a launched process, the web server) or a ``DBOSClient`` (the command
line, which must not run workflows: a run resumed there would die with the command).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, get_args

from dbos import WorkflowStatus

from gtm_feedback.durable.registry import startable
from gtm_feedback.durable.runs import FINISHED

#: Every status a run can have (DBOS's ``WorkflowStatusString``).
RunStatus = Literal[
    "PENDING",
    "ENQUEUED",
    "DELAYED",
    "SUCCESS",
    "ERROR",
    "CANCELLED",
    "MAX_RECOVERY_ATTEMPTS_EXCEEDED",
]
STATUSES = frozenset(get_args(RunStatus))
Action = Literal["cancel", "resume", "retry"]
ACTIONS: tuple[Action, ...] = ("cancel", "resume", "retry")
#: The statuses each action applies to (any other is left alone, with a reason).
APPLIES_TO: dict[Action, frozenset[str]] = {
    "cancel": frozenset({"PENDING", "ENQUEUED", "DELAYED"}),
    # A run that crashed its process too often stops being recovered: resume retries it.
    "resume": frozenset({"CANCELLED", "ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"}),
    "retry": FINISHED,
}


class RunControl(Protocol):
    """What both ``DBOS`` and ``DBOSClient`` offer for this module."""

    def list_workflows(
        self,
        *,
        workflow_ids: list[str] | None = None,
        status: str | list[str] | None = None,
        start_time: str | None = None,
        end_time: str | None = None,
        name: str | list[str] | None = None,
        queue_name: str | list[str] | None = None,
        limit: int | None = None,
        sort_desc: bool = False,
        load_input: bool = True,
        load_output: bool = True,
    ) -> list[WorkflowStatus]:
        """Runs matching DBOS's filters."""
        ...

    def cancel_workflow(self, workflow_id: str) -> None:
        """Cancel a run."""
        ...

    def resume_workflow(self, workflow_id: str) -> Any:
        """Resume a cancelled or failed run."""
        ...

    def fork_workflow(self, workflow_id: str, start_step: int) -> Any:
        """A new run from a step of an old one."""
        ...


@dataclass(frozen=True)
class RunFilter:
    """Which runs: by workflow, status, queue and age (newest first, at most ``limit``)."""

    workflows: Sequence[str] = ()
    statuses: Sequence[str] = ()
    queue: str | None = None
    newer_than: timedelta | None = None
    older_than: timedelta | None = None
    limit: int | None = 50

    def is_empty(self) -> bool:
        """True when nothing narrows the runs down (bulk actions refuse that)."""
        return not (self.workflows or self.statuses or self.queue or self.newer_than) and (
            self.older_than is None
        )


@dataclass(frozen=True)
class Done:
    """What an action did to one run: ``target`` is the run to look at next."""

    run_id: str
    acted: bool
    target: str
    notice: str
    known: bool = True


def workflow_names(given: Sequence[str]) -> list[str]:
    """DBOS's names for workflows given by their startable name (``process-feedback``) or
    function name, with or without ``_workflow``."""
    known = {name: item.workflow for name, item in startable().items()}
    names = []
    for name in given:
        if name.strip() in known:
            names.append(known[name.strip()].__name__)
            continue
        plain = name.strip().replace("-", "_")
        names += [plain] if plain.endswith("_workflow") else [plain, f"{plain}_workflow"]
    return names


def select_runs(
    control: RunControl, chosen: RunFilter, now: datetime | None = None
) -> list[WorkflowStatus]:
    """The runs ``chosen`` names, newest first (their inputs and results not loaded)."""
    now = now or datetime.now(UTC)
    return control.list_workflows(
        name=workflow_names(chosen.workflows) or None,
        status=list(chosen.statuses) or None,
        queue_name=chosen.queue,
        start_time=(now - chosen.newer_than).isoformat() if chosen.newer_than else None,
        end_time=(now - chosen.older_than).isoformat() if chosen.older_than else None,
        limit=chosen.limit,
        sort_desc=True,
        load_input=False,
        load_output=False,
    )


def act(control: RunControl, run_id: str, action: Action) -> Done:
    """Cancel a waiting or running run, resume a cancelled or failed one, or retry a finished
    one as a new run; a run in another state is left as it is, with the reason."""
    found = control.list_workflows(workflow_ids=[run_id], load_input=False, load_output=False)
    if not found:
        return Done(run_id, False, run_id, f"No run with id {run_id}.", known=False)
    status = found[0].status
    if status not in APPLIES_TO[action]:
        return Done(run_id, False, run_id, f"Cannot {action} a run that is {status}.")
    if action == "cancel":
        control.cancel_workflow(run_id)
        return Done(run_id, True, run_id, "Cancelled.")
    if action == "resume":
        control.resume_workflow(run_id)
        return Done(run_id, True, run_id, "Resumed.")
    target = str(control.fork_workflow(run_id, 1).workflow_id)
    return Done(run_id, True, target, f"Retried as a new run (from {run_id}).")
