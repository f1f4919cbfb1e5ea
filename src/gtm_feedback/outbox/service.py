"""Record and list outbox messages."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from gtm_feedback.errors import InvalidInputError
from gtm_feedback.outbox.models import OutboxMessage, SlackDelivery


class RecipientError(InvalidInputError):
    """A message needs exactly one of a recipient user or a channel."""


def record(
    *,
    session: Session,
    key: str,
    kind: str,
    text: str,
    recipient_user_id: str | None = None,
    channel: str | None = None,
    reason: str | None = None,
) -> tuple[OutboxMessage, bool]:
    """Store the message unless ``key`` was stored before; returns it and whether it is new."""
    if (recipient_user_id is None) == (channel is None):
        raise RecipientError("a message goes to one user or one channel")
    existing = by_key(session=session, key=key)
    if existing is not None:
        return existing, False
    message = OutboxMessage(
        key=key,
        kind=kind,
        text=text,
        recipient_user_id=recipient_user_id,
        channel=channel,
        reason=reason,
    )
    session.add(message)
    session.flush()
    return message, True


def by_key(*, session: Session, key: str) -> OutboxMessage | None:
    """The message recorded under ``key``, if any."""
    return session.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).first()


def newest_first() -> Select[OutboxMessage]:
    """Every message, the newest first."""
    return select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)


def recent(*, session: Session, limit: int = 50, offset: int = 0) -> list[OutboxMessage]:
    """The newest messages first."""
    return list(session.scalars(newest_first().limit(limit).offset(offset)))


def delivery_by_key(*, session: Session, key: str) -> SlackDelivery | None:
    """The Slack delivery recorded under ``key``, if any."""
    return session.scalars(select(SlackDelivery).where(SlackDelivery.key == key)).first()


def record_delivery(
    *, session: Session, key: str, kind: str, user_id: str | None, where: tuple[str, str], text: str
) -> SlackDelivery:
    """Record that Slack took the message ``key`` at ``where`` (channel, ts)."""
    row = SlackDelivery(
        key=key, kind=kind, recipient_user_id=user_id, channel=where[0], ts=where[1], text=text
    )
    session.add(row)
    session.flush()
    return row
