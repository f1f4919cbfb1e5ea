"""The queues background work runs on, and the one way to enqueue a run on them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from dbos import DBOS, SetWorkflowID, WorkflowHandle

T = TypeVar("T")


@dataclass(frozen=True)
class QueueSpec:
    """A DBOS queue the application uses; registered after launch (DBOS 3.4 requires it)."""

    name: str
    worker_concurrency: int | None = None
    polling_interval_sec: float = 0.1


# Background work is split by kind so a flood of one cannot starve the others.
QUEUES = (
    QueueSpec("feedback", worker_concurrency=4),
    QueueSpec("requests", worker_concurrency=2),
    QueueSpec("notifications", worker_concurrency=4),
    QueueSpec("embeddings", worker_concurrency=1),
    QueueSpec("insights", worker_concurrency=2),
    QueueSpec("imports", worker_concurrency=1),
    QueueSpec("slack", worker_concurrency=4),
    QueueSpec("matching", worker_concurrency=1),
)


def register_queues() -> None:
    """Register every queue with the launched DBOS."""
    for spec in QUEUES:
        DBOS.register_queue(
            spec.name,
            worker_concurrency=spec.worker_concurrency,
            polling_interval_sec=spec.polling_interval_sec,
        )


def enqueue(
    queue_name: str, run_id: str, workflow: Callable[..., T], *args: Any
) -> WorkflowHandle[T]:
    """Enqueue ``workflow(*args)`` under ``run_id``; the same id twice keeps the first run."""
    queue = DBOS.retrieve_queue(queue_name)
    if queue is None:
        raise RuntimeError(f"queue {queue_name!r} is not registered: launch through the runtime")
    with SetWorkflowID(run_id):
        return queue.enqueue(workflow, *args)
