"""What every workflow shares: the permanent-error rule for step retries."""

from __future__ import annotations


class PermanentError(RuntimeError):
    """A failure retrying cannot fix (unknown id, invalid input): the step stops retrying."""


def retry_unless_permanent(error: BaseException) -> bool:
    """``should_retry`` for steps: retry transient failures, never permanent ones."""
    return not isinstance(error, PermanentError)
