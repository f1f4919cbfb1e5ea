"""The Slack Web API client, configured once: base URL, timeouts, and retries that wait.

``slack_sdk`` retries a 429 after its ``Retry-After`` and a 5xx or dropped connection after
a short backoff; what still fails is either permanent (Slack said no: ``channel_not_found``)
or transient (the step that called retries later).
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler

from gtm_feedback.config import Settings
from gtm_feedback.errors import PermanentError

#: Slack error codes retrying cannot change (the message goes to the outbox instead).
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "cannot_dm_bot",
        "invalid_blocks",
        "msg_too_long",
        "no_text",
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "message_not_found",
        "cant_update_message",
        "expired_trigger_id",
    }
)


#: Wait out a 429 (its Retry-After), and retry a 5xx or a dropped connection a few times.
RETRY_HANDLERS: tuple[RetryHandler, ...] = (
    ConnectionErrorRetryHandler(max_retry_count=2),
    RateLimitErrorRetryHandler(max_retry_count=3),
    ServerErrorRetryHandler(max_retry_count=2),
)


def build_client(settings: Settings) -> WebClient | None:
    """A client for the configured bot token, or None when Slack is not configured."""
    if settings.slack_bot_token is None:
        return None
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_base,
        timeout=15,
        retry_handlers=list(RETRY_HANDLERS),
    )


def error_code(exc: SlackApiError) -> str:
    """Slack's error code (``channel_not_found``), or the HTTP status when there is none."""
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{exc.response.status_code}")


def is_permanent(exc: SlackApiError) -> bool:
    """True when Slack refused for a reason a retry cannot fix."""
    status = exc.response.status_code
    return error_code(exc) in PERMANENT_ERRORS or (400 <= status < 500 and status != 429)


def call_api(client: WebClient | None, method: str, **kwargs: Any) -> dict[str, Any]:
    """``client.<method>(**kwargs)``'s data; a permanent refusal raises :class:`PermanentError`
    (the calling step stops retrying), a transient one its own error (the step retries)."""
    if client is None:
        raise PermanentError("no Slack bot token configured (GTMFB_SLACK_BOT_TOKEN)")
    try:
        answer = getattr(client, method)(**kwargs)
    except SlackApiError as exc:
        if is_permanent(exc):
            raise PermanentError(f"Slack {method}: {error_code(exc)}") from exc
        raise
    return dict(answer.data) if isinstance(answer.data, dict) else {}
