"""The messengers: the outbox (offline; every message lands in the page that lists them) and Slack.

The Slack messenger posts DMs and channel messages through the Web API, once per key. A message
Slack cannot take for good (the user has no Slack id, the channel does not exist) goes to the
outbox with the reason, so it is never lost; a transient failure raises, and the calling step
retries. The key is recorded after Slack accepted the post: a crash between the two posts the
message again on retry (at least once), never zero times.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.messaging.base import Blocks, Delivery
from gtm_feedback.integrations.slack.client import error_code, is_permanent
from gtm_feedback.logging import get_logger
from gtm_feedback.outbox import service
from gtm_feedback.user import service as users

log = get_logger(__name__)


class OutboxMessenger:
    """Writes messages to ``outbox_messages``, one row per idempotency key."""

    def __init__(self, database_url: str, default_reason: str | None = None) -> None:
        self._url = database_url
        self._reason = default_reason

    def send(
        self,
        *,
        key: str,
        kind: str,
        text: str,
        recipient_user_id: str | None = None,
        channel: str | None = None,
        blocks: Blocks | None = None,
        reason: str | None = None,
    ) -> Delivery:
        """Record the message in its own transaction (committed before returning).

        The web app has its own buttons (the approvals inbox), so ``blocks`` are not kept.
        """
        try:
            with session_scope(self._url, write=True) as session:
                message, created = service.record(
                    session=session,
                    key=key,
                    kind=kind,
                    text=text,
                    recipient_user_id=recipient_user_id,
                    channel=channel,
                    reason=reason or self._reason,
                )
                return Delivery(via="outbox", message_id=message.id, sent_now=created)
        except IntegrityError:
            # Another process recorded the same key between our look-up and insert.
            with session_scope(self._url) as session:
                earlier = service.by_key(session=session, key=key)
                if earlier is None:
                    raise
                return Delivery(via="outbox", message_id=earlier.id, sent_now=False)


class SlackMessenger:
    """Posts to Slack; falls back to the outbox per message when Slack cannot take it."""

    def __init__(self, database_url: str, client: WebClient) -> None:
        self._url = database_url
        self._client = client
        self._outbox = OutboxMessenger(database_url)

    def send(
        self,
        *,
        key: str,
        kind: str,
        text: str,
        recipient_user_id: str | None = None,
        channel: str | None = None,
        blocks: Blocks | None = None,
    ) -> Delivery:
        """Post the message (DM or channel), or return the earlier delivery of ``key``."""
        earlier, target = self._look_up(key, recipient_user_id, channel)
        if earlier is not None:
            return earlier
        if target is None:
            return self._fallback(key, kind, text, recipient_user_id, channel, "no Slack user id")
        try:
            answer = self._client.chat_postMessage(
                channel=target, text=text, blocks=blocks, unfurl_links=False
            )
        except SlackApiError as exc:
            if not is_permanent(exc):
                raise
            reason = f"Slack refused: {error_code(exc)}"
            log.warning("slack.refused", key=key, channel=target, reason=reason)
            return self._fallback(key, kind, text, recipient_user_id, channel, reason)
        where = (str(answer["channel"]), str(answer["ts"]))
        return self._record(key, kind, recipient_user_id, where, text)

    def _look_up(
        self, key: str, user_id: str | None, channel: str | None
    ) -> tuple[Delivery | None, str | None]:
        with session_scope(self._url) as session:
            done = service.delivery_by_key(session=session, key=key)
            if done is not None:
                return Delivery(via="slack", message_id=done.id, sent_now=False), None
            queued = service.by_key(session=session, key=key)
            if queued is not None:
                return Delivery(via="outbox", message_id=queued.id, sent_now=False), None
            if channel is not None:
                return None, channel
            return None, users.slack_id(session=session, user_id=user_id) if user_id else None

    def _fallback(
        self,
        key: str,
        kind: str,
        text: str,
        user_id: str | None,
        channel: str | None,
        reason: str,
    ) -> Delivery:
        return self._outbox.send(
            key=key, kind=kind, text=text, recipient_user_id=user_id, channel=channel, reason=reason
        )

    def _record(
        self, key: str, kind: str, user_id: str | None, where: tuple[str, str], text: str
    ) -> Delivery:
        try:
            with session_scope(self._url, write=True) as session:
                row = service.record_delivery(
                    session=session, key=key, kind=kind, user_id=user_id, where=where, text=text
                )
                return Delivery(via="slack", message_id=row.id, sent_now=True)
        except IntegrityError:
            # Another process posted the same key at the same moment: keep its record.
            with session_scope(self._url) as session:
                other = service.delivery_by_key(session=session, key=key)
                assert other is not None
                return Delivery(via="slack", message_id=other.id, sent_now=False)
