"""The queues background work runs on, and the ways to start a run on them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from dbos import DBOS, SetWorkflowID, WorkflowHandle

from gtm_feedback.config import Settings
from gtm_feedback.durable.pacer import Pace, QueuePacer

T = TypeVar("T")


@dataclass(frozen=True)
class QueueSpec:
    """A DBOS queue the application uses; registered after launch (DBOS 3.4 requires it)."""

    name: str
    worker_concurrency: int | None = None
    #: Runs at once over every process (None: no limit); 1 makes the queue's runs take turns.
    global_concurrency: int | None = None
    #: People wait for its answer: polled at the feedback interval while work waits on it and
    #: at the background one when idle; other queues at the background and the idle ones.
    urgent: bool = False


# Background work is split by kind so a flood of one cannot starve the others.
QUEUES = (
    QueueSpec("feedback", worker_concurrency=4, urgent=True),
    QueueSpec("requests", worker_concurrency=2),
    QueueSpec("notifications", worker_concurrency=4),
    QueueSpec("embeddings", worker_concurrency=1),
    QueueSpec("insights", worker_concurrency=2),
    QueueSpec("imports", worker_concurrency=1),
    QueueSpec("slack", worker_concurrency=4, urgent=True),
    QueueSpec("matching", worker_concurrency=1),
    # Saved-view alerts: one run at a time anywhere, so no two runs read the same unsent alerts.
    QueueSpec("view_alerts", worker_concurrency=1, global_concurrency=1),
)

#: Per queue, how many more runs this process may start at once instead of enqueueing them.
_DIRECT: dict[str, threading.BoundedSemaphore] = {}
#: The pacer of a process that consumes the queues (None elsewhere).
_PACER: list[QueuePacer] = []


def paces(settings: Settings) -> dict[str, Pace]:
    """Each queue's polling interval while runs wait on it, and while none does."""
    urgent = Pace(settings.feedback_polling_interval, settings.queue_polling_interval)
    background = Pace(settings.queue_polling_interval, settings.queue_idle_polling_interval)
    return {spec.name: urgent if spec.urgent else background for spec in QUEUES}


def register_queues(settings: Settings, runs_work: bool) -> None:
    """Register every queue with the launched DBOS; ``runs_work``: this process consumes them,
    so its own feedback submissions may start at once (``start_soon``) and it paces the
    queues' polling (``durable/pacer.py``)."""
    for spec, pace in zip(QUEUES, paces(settings).values(), strict=True):
        DBOS.register_queue(
            spec.name,
            worker_concurrency=spec.worker_concurrency,
            global_concurrency=spec.global_concurrency,
            polling_interval_sec=pace.busy,
            # A queue's settings live in the database, shared by every process: a command
            # line only uses the queues, the processes that run them set them.
            on_conflict="update_if_latest_version" if runs_work else "never_update",
        )
    _DIRECT.clear()
    if runs_work and settings.feedback_direct_starts > 0:
        _DIRECT["feedback"] = threading.BoundedSemaphore(settings.feedback_direct_starts)
    stop_pacing()
    if runs_work:
        _PACER.append(QueuePacer(paces(settings), check_every=settings.queue_polling_interval))
        _PACER[0].start()


def pacer() -> QueuePacer | None:
    """This process's pacer, if it consumes the queues."""
    return _PACER[0] if _PACER else None


def stop_pacing() -> None:
    """Stop this process's pacer, if it has one (before DBOS shuts down)."""
    while _PACER:
        _PACER.pop().stop()


def enqueue(
    queue_name: str, run_id: str, workflow: Callable[..., T], *args: Any
) -> WorkflowHandle[T]:
    """Enqueue ``workflow(*args)`` under ``run_id``; the same id twice keeps the first run."""
    queue = DBOS.retrieve_queue(queue_name)
    if queue is None:
        raise RuntimeError(f"queue {queue_name!r} is not registered: launch through the runtime")
    with SetWorkflowID(run_id):
        handle = queue.enqueue(workflow, *args)
    for pacer in _PACER:
        pacer.hurry(queue_name)
    return handle


def start_soon(queue_name: str, run_id: str, workflow: Callable[..., Any], *args: Any) -> None:
    """Start ``workflow(*args)`` under ``run_id`` now in this process if it has a free slot for
    the queue, else enqueue it; either way durably, and the same id twice keeps the first run.

    A queue is polled (every ``feedback_polling_interval``): a person waiting for the answer
    would pay half an interval on average, most of a fast match's time. Started directly, the
    run is recorded PENDING for this executor before this returns, so a crash resumes it at
    restart like any claimed queue run.
    """
    slots = _DIRECT.get(queue_name)
    if slots is None or not slots.acquire(blocking=False):
        enqueue(queue_name, run_id, workflow, *args)
        return
    try:
        if DBOS.get_workflow_status(run_id) is not None:  # a repeat: keep the first run
            slots.release()
            return
        with SetWorkflowID(run_id):
            handle = DBOS.start_workflow(workflow, *args)
    except BaseException:
        slots.release()
        raise
    _release_when_done(handle, slots)


def _release_when_done(handle: WorkflowHandle[Any], slots: threading.BoundedSemaphore) -> None:
    # DBOS runs a started workflow on its executor and hands back the future (``future`` on its
    # handle); a handle without one (a run started elsewhere) holds no slot of ours.
    future = getattr(handle, "future", None)
    if isinstance(future, Future):
        future.add_done_callback(lambda _done: slots.release())
    else:
        slots.release()
