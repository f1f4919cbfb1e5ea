"""What every workflow shares: the permanent-error rule for step retries, and fan-out."""

from __future__ import annotations

import pkgutil
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, TypeVar

from dbos import DBOS, SetWorkflowID, WorkflowHandle
from pydantic import BaseModel

T = TypeVar("T")

#: How many child runs a fan-out keeps in flight at once, by default.
FANOUT_LIMIT = 16


class PermanentError(RuntimeError):
    """A failure retrying cannot fix (unknown id, invalid input): the step stops retrying."""


class InvalidInputError(ValueError):
    """A start refused before any run: each (field, message) says what is wrong."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors))
        self.errors = errors


def retry_unless_permanent(error: BaseException) -> bool:
    """``should_retry`` for steps: retry transient failures, never permanent ones."""
    return not isinstance(error, PermanentError)


#: Options of steps that call the outside (Slack, webhooks): 5 attempts, 1 s doubling.
OUTBOUND_RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 5,
    "interval_seconds": 1.0,
    "backoff_rate": 2.0,
    "should_retry": retry_unless_permanent,
}


#: The topic a durable sleep listens on, and the event a sleeping run publishes.
WAKE_TOPIC = "wake-up"
SLEEP_EVENT = "sleeping"


def durable_sleep(seconds: float) -> bool:
    """Sleep durably (a restart sleeps only what is left), unless woken: True if woken early.

    ``DBOS.sleep`` blocks its thread in ``time.sleep``, which nothing can cut short. This waits
    for a message on :data:`WAKE_TOPIC` with the sleep as its timeout instead, so an operator
    ("send the follow-up now") or a test (:func:`wake_up`) can end it. While it sleeps, the
    run's :data:`SLEEP_EVENT` says for how long.
    """
    DBOS.set_event(SLEEP_EVENT, {"seconds": seconds})
    woken = DBOS.recv(WAKE_TOPIC, timeout_seconds=seconds)
    DBOS.set_event(SLEEP_EVENT, None)
    return woken is not None


def wake_up(run_id: str) -> None:
    """End the durable sleep of ``run_id`` now (or its next one, if it is not sleeping yet)."""
    DBOS.send(run_id, {"wake": True}, topic=WAKE_TOPIC)


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


@dataclass(frozen=True)
class Startable:
    """A workflow, the model its body must validate against, and its run-id prefix."""

    name: str
    input_type: type[BaseModel]
    workflow: Callable[[Any], Any]
    summary: str
    #: Starts it another way than a plain start: (validated input, idempotency key) -> run id.
    start: Callable[[Any, str | None], str] | None = None


@cache
def discover_workflow_modules() -> tuple[str, ...]:
    """Every domain's ``workflows`` / ``*_workflows`` module (``gtm_feedback.<domain>.…``)."""
    import gtm_feedback

    names = []
    for info in pkgutil.walk_packages(gtm_feedback.__path__, "gtm_feedback."):
        last = info.name.rsplit(".", 1)[-1]
        in_domain = info.name.count(".") >= 2 and not info.ispkg
        if in_domain and (last == "workflows" or last.endswith("_workflows")):
            names.append(info.name)
    # Walked once per process: the runtime and the registry both ask.
    return tuple(sorted(names))
