"""Step retries: transient failures retried with backoff, permanent ones never."""

from __future__ import annotations

import random
import time
from typing import Any

from gtm_feedback.db.session import is_transient
from gtm_feedback.errors import PermanentError

#: The longest random pause added before a retry, so runs that failed together (a burst that
#: met a full pool) do not all come back at the same instant.
JITTER_S = 0.25


def retry_unless_permanent(error: BaseException) -> bool:
    """``should_retry`` for steps: retry transient failures, never permanent ones."""
    if isinstance(error, PermanentError):
        return False
    _jitter()
    return True


def retry_transient(error: BaseException) -> bool:
    """``should_retry`` for database steps: retry a transient database failure (a pool
    timeout, SQLite busy, a dropped connection, a serialization failure), nothing else."""
    if not is_transient(error):
        return False
    _jitter()
    return True


def _jitter() -> None:
    # DBOS's retry waits interval * backoff**attempt exactly; DBOS asks should_retry just
    # before it waits, so a random pause here spreads the retries out.
    time.sleep(random.uniform(0, JITTER_S))


#: Options of steps that call the outside (Slack, webhooks): 5 attempts, 1 s doubling.
OUTBOUND_RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 5,
    "interval_seconds": 1.0,
    "backoff_rate": 2.0,
    "should_retry": retry_unless_permanent,
}


#: Options of steps whose I/O is the database: a transient failure is retried for about
#: 30 s (0.25 s doubling, 8 attempts) before the run fails; any other error fails at once.
DB_RETRY: dict[str, Any] = {
    "retries_allowed": True,
    "max_attempts": 8,
    "interval_seconds": 0.25,
    "backoff_rate": 2.0,
    "should_retry": retry_transient,
}
