"""Run inspection: a workflow run's status, result or error, and its steps with durations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dbos import DBOS, WorkflowStatus
from pydantic import BaseModel

#: Run statuses that will not change any more.
FINISHED = frozenset({"SUCCESS", "ERROR", "CANCELLED"})


class StepOut(BaseModel):
    """One step of a run."""

    step: int
    name: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_ms: int | None
    output: Any
    error: str | None
    child_run_id: str | None


class RunSummary(BaseModel):
    """A workflow run as the runs list shows it."""

    run_id: str
    workflow: str
    status: str
    created_at: datetime | None
    updated_at: datetime | None
    duration_ms: int | None
    parent_run_id: str | None = None
    queue: str | None = None


class RunOut(RunSummary):
    """One workflow run with its result or error and its steps."""

    result: Any
    error: str | None
    progress: Any = None
    steps: list[StepOut]


def run_summary(status: WorkflowStatus) -> RunSummary:
    """A run's status, times and place (no inputs, outputs or steps: cheap to list)."""
    finished = status.status in FINISHED
    return RunSummary(
        run_id=status.workflow_id,
        workflow=status.name,
        status=status.status,
        created_at=_when(status.created_at),
        updated_at=_when(status.updated_at),
        duration_ms=_span(status.created_at, status.updated_at) if finished else None,
        parent_run_id=status.parent_workflow_id,
        queue=status.queue_name,
    )


def _when(epoch_ms: int | None) -> datetime | None:
    return None if epoch_ms is None else datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def _span(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def jsonable(value: Any) -> Any:
    """A JSON-ready form of a workflow input, output or step output."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _error(error: BaseException | None) -> str | None:
    return None if error is None else f"{type(error).__name__}: {error}"


def run_details(run_id: str, source: Any = DBOS) -> RunOut | None:
    """The run, or ``None`` if DBOS has no workflow with this id (``source``: ``DBOS`` in a
    launched process, else a ``DBOSClient``)."""
    found = source.list_workflows(workflow_ids=[run_id])
    if not found:
        return None
    status = found[0]
    steps = [
        StepOut(
            step=step["function_id"],
            name=step["function_name"],
            started_at=_when(step["started_at_epoch_ms"]),
            ended_at=_when(step["completed_at_epoch_ms"]),
            duration_ms=_span(step["started_at_epoch_ms"], step["completed_at_epoch_ms"]),
            output=jsonable(step["output"]),
            error=_error(step["error"]),
            child_run_id=step["child_workflow_id"],
        )
        for step in source.list_workflow_steps(run_id)
    ]
    return RunOut(
        **run_summary(status).model_dump(),
        result=jsonable(status.output),
        error=_error(status.error),
        progress=jsonable(source.get_event(run_id, "progress", timeout_seconds=0)),
        steps=steps,
    )


def own_work_ms(run_id: str) -> float | None:
    """A run's own work: first step start to last step end (no time spent waiting in a queue)."""
    steps = DBOS.list_workflow_steps(run_id, load_output=False)
    starts = [s["started_at_epoch_ms"] for s in steps if s["started_at_epoch_ms"]]
    ends = [s["completed_at_epoch_ms"] for s in steps if s["completed_at_epoch_ms"]]
    if not starts or not ends:
        return None
    return float(max(ends) - min(starts))


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[int(share * (len(ordered) - 1))]


def dbos_ready() -> bool:
    """True when DBOS is launched and its system database answers."""
    DBOS.list_workflows(limit=1)
    return True
