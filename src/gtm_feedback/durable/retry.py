"""Step retries: transient failures retried with backoff, permanent ones never."""

from __future__ import annotations

from typing import Any

from gtm_feedback.errors import PermanentError


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
