"""The Slack messenger: DMs and channel posts through the Web API, once per key.

A message Slack cannot take for good (the user has no Slack id, the channel does not exist)
goes to the outbox with the reason, so it is never lost; a transient failure raises, and the
calling step retries. The key is recorded after Slack accepted the post: a crash between the
two posts the message again on retry (at least once), never zero times.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.messaging.base import Blocks, Delivery
from gtm_feedback.integrations.messaging.outbox import OutboxMessenger
from gtm_feedback.integrations.slack.client import error_code, is_permanent
from gtm_feedback.monitoring.logging import get_logger
from gtm_feedback.outbox import service
from gtm_feedback.outbox.models import SlackDelivery
from gtm_feedback.user.models import User

log = get_logger(__name__)


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
            user = session.get(User, user_id) if user_id else None
            return None, user.slack_user_id if user else None

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
                row = SlackDelivery(
                    key=key,
                    kind=kind,
                    recipient_user_id=user_id,
                    channel=where[0],
                    ts=where[1],
                    text=text,
                )
                session.add(row)
                session.flush()
                return Delivery(via="slack", message_id=row.id, sent_now=True)
        except IntegrityError:
            # Another process posted the same key at the same moment: keep its record.
            with session_scope(self._url) as session:
                other = service.delivery_by_key(session=session, key=key)
                assert other is not None
                return Delivery(via="slack", message_id=other.id, sent_now=False)
