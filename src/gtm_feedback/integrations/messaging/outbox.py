"""The offline messenger: every message lands in the outbox the web app shows."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.messaging.base import Blocks, Delivery
from gtm_feedback.outbox import service


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
