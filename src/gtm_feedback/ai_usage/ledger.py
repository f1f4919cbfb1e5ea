"""The usage ledger the agent runner records into: rows written by a background thread, and
this month's spend for the budget check, read at most every few seconds."""

from __future__ import annotations

import atexit
import queue
import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from gtm_feedback.ai_usage.models import AgentCall
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.ai.runner import CallRecord
from gtm_feedback.logging import get_logger

log = get_logger(__name__)

#: How long a read of the month's spend is trusted (the budget check runs on every call).
SPENT_TTL_S = 10.0


def month_start(now: datetime | None = None) -> datetime:
    """The first instant of ``now``'s calendar month, UTC."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class SqlLedger:
    """Records agent runs in ``agent_calls``.

    An agent may run while its caller holds a write transaction: on SQLite a second writer in
    the same thread would wait for it, so the rows go through a queue to a writer thread of
    their own (flushed at exit; a crash loses at most the last moment's rows).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._queue: queue.Queue[CallRecord] = queue.Queue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None
        self._spent: tuple[float, float, datetime] | None = None  # (value, read at, month)

    def record(self, call: CallRecord) -> None:
        """Queue the run's row, and count its cost at once for the budget check."""
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write, name="ai-usage", daemon=True)
                self._writer.start()
                atexit.register(self.flush)
            if self._spent is not None:
                value, read_at, month = self._spent
                self._spent = (value + call.cost_usd, read_at, month)
        self._queue.put(call)

    def spent_this_month(self) -> float:
        """Dollars spent this calendar month (UTC); a row still queued may be missing from one
        read (the cap is meant for months, not for the last second)."""
        month = month_start()
        with self._lock:
            cached = self._spent
        if cached is not None and cached[2] == month and time.monotonic() - cached[1] < SPENT_TTL_S:
            return cached[0]
        with session_scope(self.url) as session:
            spent = session.scalar(
                select(func.coalesce(func.sum(AgentCall.cost_usd), 0.0)).where(
                    AgentCall.at >= month
                )
            )
        with self._lock:
            self._spent = (float(spent or 0.0), time.monotonic(), month)
        return float(spent or 0.0)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait (up to ``timeout``) until every queued row is written."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def _write(self) -> None:
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty() and len(batch) < 500:
                batch.append(self._queue.get_nowait())
            try:
                with session_scope(self.url, write=True) as session:
                    session.add_all(_row(call) for call in batch)
            except Exception:  # bookkeeping: logged, never an agent's failure
                log.exception("ai_usage.write_failed", rows=len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()


def _row(call: CallRecord) -> AgentCall:
    return AgentCall(
        agent=call.agent,
        engine=call.engine,
        model=call.model,
        prompt_tokens=call.prompt_tokens,
        completion_tokens=call.completion_tokens,
        duration_ms=call.duration_ms,
        cost_usd=call.cost_usd,
        fallback_reason=call.fallback_reason,
    )
