"""Fan-out: one child run per item, a sliding window of them in flight, results in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from dbos import DBOS, SetWorkflowID, WorkflowHandle

T = TypeVar("T")

#: How many child runs a fan-out keeps in flight at once, by default.
FANOUT_LIMIT = 16


@dataclass(frozen=True)
class Branch(Generic[T]):
    """One child run of a fan-out: its id, and its result or its error."""

    run_id: str
    result: T | None
    error: str | None


def fan_out(
    workflow: Callable[..., T],
    calls: Sequence[tuple[str, tuple[Any, ...]]],
    *,
    limit: int = FANOUT_LIMIT,
) -> list[Branch[T]]:
    """Run ``workflow`` once per ``(run_id, args)`` as child runs, at most ``limit`` at once.

    Call it from a workflow body. Each child is a durable workflow of its own (its steps
    retried, recovered with its parent), unlike a thread, whose steps DBOS would not record.
    Children are started without a queue so the fan-out works in any process, including a
    CLI one that listens to no queue. A sliding window bounds how many run at once: the next
    child starts as soon as the oldest one in flight has finished. Results are awaited in
    call order, so a replay makes the same calls in the same order. A failed branch is
    reported in its :class:`Branch`, never raised, so it does not lose the others.
    """
    branches: list[Branch[T]] = []
    in_flight: deque[tuple[str, WorkflowHandle[T]]] = deque()
    for run_id, args in calls:
        if len(in_flight) >= limit:
            branches.append(_collect(*in_flight.popleft()))
        with SetWorkflowID(run_id):
            in_flight.append((run_id, DBOS.start_workflow(workflow, *args)))
    branches.extend(_collect(run_id, handle) for run_id, handle in in_flight)
    return branches


def _collect(run_id: str, handle: WorkflowHandle[T]) -> Branch[T]:
    try:
        return Branch(run_id, handle.get_result(), None)
    except Exception as exc:  # recorded by DBOS, so a replay takes the same branch
        return Branch(run_id, None, f"{type(exc).__name__}: {exc}")
