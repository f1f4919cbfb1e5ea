"""Queues are polled fast while work waits on them and slowly while none does."""

from __future__ import annotations

import time
from pathlib import Path

from dbos import DBOS

from gtm_feedback.config import Settings
from gtm_feedback.durable.pacer import Pace, QueuePacer
from gtm_feedback.durable.queues import QUEUES, enqueue, pacer, paces
from gtm_feedback.migrations import upgrade
from gtm_feedback.runtime import dbos_runtime


@DBOS.workflow()
def _paced_workflow(value: int) -> int:
    return value + 1


def _interval(name: str) -> float:
    queue = DBOS.retrieve_queue(name)
    assert queue is not None
    return queue.polling_interval_sec  # read from the database, where the worker reads it


def test_a_queue_with_waiting_work_is_polled_at_its_busy_pace(tmp_path: Path) -> None:
    # A command line consumes no queue: what it enqueues stays waiting for the check to see.
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.app_database_url)  # a command holds a lease: it needs the schema
    with dbos_runtime(settings, "cli"):
        paced = QueuePacer({"insights": Pace(0.5, 7.0), "imports": Pace(0.5, 7.0)}, 60)
        assert paced.check() == {"insights": 7.0, "imports": 7.0}
        assert _interval("insights") == 7.0
        enqueue("insights", "paced-1", _paced_workflow, 1)
        assert paced.check() == {"insights": 0.5, "imports": 7.0}
        assert (_interval("insights"), _interval("imports")) == (0.5, 7.0)


def test_a_worker_paces_its_queues_and_still_runs_what_arrives(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        feedback_polling_interval=0.05,
        queue_polling_interval=0.2,
        queue_idle_polling_interval=0.5,
    )
    with dbos_runtime(settings, "test"):
        assert pacer() is not None
        wanted = {name: pace.idle for name, pace in paces(settings).items()}
        deadline = time.monotonic() + 30
        while {q.name: _interval(q.name) for q in QUEUES} != wanted:
            assert time.monotonic() < deadline, "the queues never went to their idle pace"
            time.sleep(0.1)
        assert (wanted["feedback"], wanted["insights"]) == (0.2, 0.5)
        handle = enqueue("insights", "paced-2", _paced_workflow, 41)
        assert handle.get_result() == 42  # claimed within the idle interval, then run
    assert pacer() is None  # stopped with DBOS
