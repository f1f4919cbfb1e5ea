"""``/metrics`` for Prometheus: what this host's processes recorded, and what the database says.

Two sources. The processes of this host (HTTP latency, agent and LLM calls, matching
decisions) through prometheus-client's multiprocess files. The database, read at each scrape:
queue depth and oldest age, active runs, approvals waiting, outbox messages, and runs started
and finished and step durations, tailed from DBOS's tables. The database figures are the
cluster's, whichever process answers: sum per-host series across hosts, never these.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select, text

from gtm_feedback import metrics
from gtm_feedback.approval.models import Approval, ApprovalStatus
from gtm_feedback.config import Settings, is_postgres
from gtm_feedback.db.session import get_engine, session_scope
from gtm_feedback.durable.queues import QUEUES
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.access import VIEWER

router = APIRouter(tags=["health"])

#: Seconds a run's or step's end may be stamped before its transaction commits: the tail
#: reads up to this long ago, so no row is committed behind it.
LAG = 5.0
STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


@router.get("/metrics", include_in_schema=False, dependencies=[VIEWER])
def prometheus(request: Request) -> Response:
    """Every metric in Prometheus's text format (a viewer's API token: a bearer token)."""
    found = metrics.registry()
    found.register(request.app.state.database_metrics)
    return Response(generate_latest(found), media_type=CONTENT_TYPE_LATEST)


class RunTail:
    """Runs started and finished, and step durations, since this process began.

    Read from DBOS's tables a window at a time: what ended between the last scrape and
    ``LAG`` seconds ago. Counters from the process's start, as Prometheus expects.
    """

    def __init__(self, since: float) -> None:
        self._since_ms = _whole_second_ms(since)
        self._lock = threading.Lock()
        self.started: Counter[str] = Counter()
        self.finished: Counter[tuple[str, str]] = Counter()
        self.steps: dict[str, list[float]] = {}  # per step: bucket counts, then count and sum

    def advance(self, connection: Connection, tables: str) -> None:
        """Count what ended in the window since the last call."""
        with self._lock:
            until = _whole_second_ms(time.time() - LAG)
            if until <= self._since_ms:
                return
            window = {"a": self._since_ms, "b": until}
            for name, count in connection.execute(text(_STARTED.format(t=tables)), window):
                self.started[name] += count
            for name, status, count in connection.execute(text(_FINISHED.format(t=tables)), window):
                self.finished[(name, status)] += count
            for name, took_ms in connection.execute(text(_STEPS.format(t=tables)), window):
                self._step(name, max(0, took_ms) / 1000)
            self._since_ms = until

    def _step(self, name: str, seconds: float) -> None:
        tally = self.steps.setdefault(name, [0.0] * (len(STEP_BUCKETS) + 2))
        for index, bound in enumerate(STEP_BUCKETS):
            if seconds <= bound:
                tally[index] += 1
        tally[-2] += 1
        tally[-1] += seconds

    def families(self) -> Iterable[Metric]:
        """The tail's counters and the step histogram."""
        with self._lock:
            started = CounterMetricFamily(
                "gtmfb_runs_started", "Runs created, by workflow.", labels=["workflow"]
            )
            for name, count in sorted(self.started.items()):
                started.add_metric([name], count)
            finished = CounterMetricFamily(
                "gtmfb_runs_finished",
                "Runs that ended, by workflow and status.",
                labels=["workflow", "status"],
            )
            for (name, status), count in sorted(self.finished.items()):
                finished.add_metric([name, status], count)
            steps = HistogramMetricFamily(
                "gtmfb_step_duration_seconds", "Time each step took.", labels=["step"]
            )
            for name, tally in sorted(self.steps.items()):
                buckets = [(str(b), tally[i]) for i, b in enumerate(STEP_BUCKETS)]
                steps.add_metric([name], [*buckets, ("+Inf", tally[-2])], sum_value=tally[-1])
        return [started, finished, steps]


def _whole_second_ms(epoch: float) -> int:
    # DBOS stamps runs in whole seconds on SQLite under Python < 3.12 (unixepoch('subsec')
    # came later): windows on whole seconds count a run stamped 12:00:00.000 and created at
    # 12:00:00.700 in the window that holds 12:00:00, never in none.
    return int(epoch) * 1000


_STARTED = (
    "SELECT name, count(*) FROM {t}workflow_status "
    "WHERE created_at >= :a AND created_at < :b GROUP BY name"
)
_FINISHED = (
    "SELECT name, status, count(*) FROM {t}workflow_status "
    "WHERE completed_at >= :a AND completed_at < :b GROUP BY name, status"
)
_STEPS = (
    "SELECT function_name, completed_at_epoch_ms - started_at_epoch_ms FROM {t}operation_outputs "
    "WHERE completed_at_epoch_ms >= :a AND completed_at_epoch_ms < :b "
    "AND started_at_epoch_ms IS NOT NULL"
)
_QUEUES = (
    "SELECT queue_name, count(*), min(created_at) FROM {t}workflow_status "
    "WHERE status = 'ENQUEUED' AND queue_name IS NOT NULL GROUP BY queue_name"
)
_ACTIVE = (
    "SELECT name, status, count(*) FROM {t}workflow_status "
    "WHERE status IN ('PENDING', 'ENQUEUED') GROUP BY name, status"
)


class DatabaseMetrics(Collector):
    """The figures read from the database at each scrape."""

    def __init__(self, settings: Settings) -> None:
        self._app_url = settings.app_database_url
        self._system_url = settings.dbos_database_url
        # DBOS keeps its tables in the ``dbos`` schema on PostgreSQL, in its own file on SQLite.
        self._tables = "dbos." if is_postgres(self._system_url) else ""
        self.tail = RunTail(time.time())

    def collect(self) -> Iterable[Metric]:
        """Queues, active runs, the run tail, approvals waiting and the outbox."""
        with get_engine(self._system_url).connect() as connection:
            queues = [
                tuple(row) for row in connection.execute(text(_QUEUES.format(t=self._tables)))
            ]
            active = list(connection.execute(text(_ACTIVE.format(t=self._tables))))
            self.tail.advance(connection, self._tables)
        yield from _queue_families(queues)
        runs = GaugeMetricFamily(
            "gtmfb_runs_active",
            "Runs waiting in a queue (ENQUEUED) or under way (PENDING), by workflow.",
            labels=["workflow", "status"],
        )
        for name, status, count in active:
            runs.add_metric([name, status], count)
        yield runs
        yield from self.tail.families()
        yield from self._app_families()

    def _app_families(self) -> Iterable[Metric]:
        with session_scope(self._app_url) as session:
            waiting = session.scalar(
                select(func.count()).where(Approval.status == ApprovalStatus.PENDING)
            )
            outbox = session.execute(
                select(OutboxMessage.kind, func.count()).group_by(OutboxMessage.kind)
            ).all()
        yield GaugeMetricFamily(
            "gtmfb_approvals_waiting", "Approvals waiting for a person.", value=waiting or 0
        )
        messages = GaugeMetricFamily(
            "gtmfb_outbox_messages",
            "Messages kept in the outbox (no Slack to deliver them), by kind.",
            labels=["kind"],
        )
        for kind, count in outbox:
            messages.add_metric([kind], count)
        yield messages


def _queue_families(queues: Sequence[tuple[Any, ...]]) -> Iterable[Metric]:
    depth = GaugeMetricFamily(
        "gtmfb_queue_depth", "Runs waiting in each queue for a worker.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "gtmfb_queue_oldest_age_seconds",
        "How long the oldest run waiting in each queue has waited.",
        labels=["queue"],
    )
    now_ms = time.time() * 1000
    waiting = {queue: (count, first_ms) for queue, count, first_ms in queues}
    # Every queue the app uses, an empty one at zero: a series that vanishes when its queue
    # drains cannot be told from a process that stopped reporting.
    for queue in sorted({spec.name for spec in QUEUES} | set(waiting)):
        count, first_ms = waiting.get(queue, (0, now_ms))
        depth.add_metric([queue], count)
        oldest.add_metric([queue], max(0.0, (now_ms - first_ms) / 1000))
    return [depth, oldest]
