"""Bump the vector index version whenever a flush changes what the request index holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import InstanceState, Session

from gtm_feedback.feature_request.models import FeatureRequest, VectorIndexState
from gtm_feedback.feedback.models import Feedback

REQUESTS_INDEX = "requests"
_WATCHED = (FeatureRequest, Feedback)


def current_version(session: Session) -> int:
    """The version other processes last published (0 before any vector was stored)."""
    found = session.execute(
        select(VectorIndexState.version).where(VectorIndexState.name == REQUESTS_INDEX)
    ).scalar_one_or_none()
    return found or 0


def _changes_index(session: Session) -> bool:
    for obj in session.deleted:
        if isinstance(obj, _WATCHED):
            return True
    for obj in session.new:
        if isinstance(obj, _WATCHED) and obj.embedding is not None:
            return True
    for obj in session.dirty:
        if isinstance(obj, _WATCHED):
            state: InstanceState[Any] = inspect(obj)
            watched = ["embedding", "request_id"] if isinstance(obj, Feedback) else ["embedding"]
            if any(state.attrs[name].history.has_changes() for name in watched):
                return True
    return False


def bump_version(session: Session) -> None:
    """Publish a change to the vectors; commits with the caller's transaction."""
    # Core statement on the session's connection: no autoflush, same transaction.
    session.connection().execute(
        update(VectorIndexState)
        .where(VectorIndexState.name == REQUESTS_INDEX)
        .values(version=VectorIndexState.version + 1)
    )


@event.listens_for(Session, "before_flush")
def _bump_on_change(session: Session, _context: Any, _instances: Any) -> None:
    if _changes_index(session):
        bump_version(session)
