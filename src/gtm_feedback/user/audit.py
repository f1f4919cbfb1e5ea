"""The audit log: who did what, when and from where, written in the action's transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.user.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a user (by id, shown by ``label``) or the system (no id), and from where."""

    user_id: str | None
    label: str
    source: str = ""


def slack_actor(slack_user_id: str) -> Actor:
    """A Slack member not linked to a user of the app."""
    return Actor(None, f"slack:{slack_user_id}", "slack")


#: Actions taken by the application itself (schedules, the command line without a user).
SYSTEM = Actor(None, "system")


def record(
    *, session: Session, actor: Actor, action: str, target: str, detail: str = ""
) -> AuditEvent:
    """Add one event to the log (committed with the action it describes)."""
    event = AuditEvent(
        actor_user_id=actor.user_id,
        actor=actor.label[:400],
        action=action,
        target=target[:300],
        detail=detail,
        source=actor.source[:100],
    )
    session.add(event)
    return event


def recent(*, session: Session, limit: int = 100, action: str | None = None) -> list[AuditEvent]:
    """The newest events first, optionally of one action."""
    query = select(AuditEvent)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(session.scalars(query.order_by(AuditEvent.at.desc()).limit(limit)))
