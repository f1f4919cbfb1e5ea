"""Bump the vector index version whenever a flush changes what a match sees of a request (its
vectors or its texts), and log which requests each version changed."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete, event, insert, inspect, select, update
from sqlalchemy.orm import InstanceState, Session

from gtm_feedback.feature_request import sql_vectors
from gtm_feedback.feature_request.models import (
    FeatureRequest,
    VectorIndexChange,
    VectorIndexState,
)
from gtm_feedback.feedback.models import Feedback

REQUESTS_INDEX = "requests"
_WATCHED = (FeatureRequest, Feedback)
#: A change logged as touching every request (a process behind it rebuilds).
EVERYTHING = "*"
#: Versions of the change log kept; a process further behind rebuilds its index.
KEEP_VERSIONS = 10_000
#: More requests than this in one change (an import) are logged as everything.
MAX_LOGGED = 1000
#: Fields whose change changes what a match sees of a request: its vectors and its texts.
_REQUEST_FIELDS = ("embedding", "title", "description")
_FEEDBACK_FIELDS = ("embedding", "request_id", "description")


def current_version(session: Session) -> int:
    """The version other processes last published (0 before any vector was stored)."""
    found = session.execute(
        select(VectorIndexState.version).where(VectorIndexState.name == REQUESTS_INDEX)
    ).scalar_one_or_none()
    return found or 0


def changes_since(session: Session, old: int, new: int) -> set[str] | None:
    """The requests changed by versions ``old+1 .. new``; None if the log cannot say (pruned,
    or a change touched everything): rebuild then."""
    rows = session.execute(
        select(VectorIndexChange.version, VectorIndexChange.request_id).where(
            VectorIndexChange.version > old, VectorIndexChange.version <= new
        )
    ).all()
    if len({version for version, _ in rows}) != new - old:
        return None
    changed = {request_id for _, request_id in rows}
    return None if EVERYTHING in changed else changed


def _touched(session: Session) -> set[str]:
    """Requests whose vectors or texts this flush changes (empty: none)."""
    touched: set[str] = set()
    for obj in session.deleted:
        if isinstance(obj, _WATCHED):
            touched |= _ids_of(obj)
    for obj in session.new:
        # New feedback changes its request's texts (texts.TextCache) even before its vector.
        if isinstance(obj, Feedback) or (isinstance(obj, _WATCHED) and obj.embedding is not None):
            touched |= _ids_of(obj)
    for obj in session.dirty:
        if isinstance(obj, _WATCHED):
            state: InstanceState[Any] = inspect(obj)
            if _changed(obj, state):
                touched |= _ids_of(obj, state)
    return touched


def _changed(obj: FeatureRequest | Feedback, state: InstanceState[Any]) -> bool:
    if isinstance(obj, Feedback):
        return any(state.attrs[name].history.has_changes() for name in _FEEDBACK_FIELDS)
    if state.attrs["embedding"].history.has_changes():
        return True
    # A request without a vector is not searchable yet: its texts matter once it has one.
    fields = _REQUEST_FIELDS[1:]
    return obj.embedding is not None and any(
        state.attrs[name].history.has_changes() for name in fields
    )


def _ids_of(obj: FeatureRequest | Feedback, state: InstanceState[Any] | None = None) -> set[str]:
    if isinstance(obj, FeatureRequest):
        return {obj.id}
    ids = {obj.request_id}
    if state is not None:  # a feedback moved: its old request changes too
        ids |= set(state.attrs["request_id"].history.deleted or ())
    return {i for i in ids if i}


def bump_version(session: Session, request_ids: Collection[str] | None = None) -> None:
    """Publish a change to the vectors of ``request_ids`` (None: possibly any), already
    written, and mirror them for pgvector; commits with the caller's transaction."""
    _publish(session, request_ids)
    sql_vectors.sync(session.connection(), request_ids)


def _publish(session: Session, request_ids: Collection[str] | None) -> None:
    # Core statements on the session's connection: no autoflush, same transaction.
    connection = session.connection()
    version = connection.execute(
        update(VectorIndexState)
        .where(VectorIndexState.name == REQUESTS_INDEX)
        .values(version=VectorIndexState.version + 1)
        .returning(VectorIndexState.version)
    ).scalar_one_or_none()
    if version is None:  # no index state row (a database migrated before it existed)
        return
    ids = sorted(request_ids) if request_ids is not None else [EVERYTHING]
    ids = [EVERYTHING] if not ids or len(ids) > MAX_LOGGED else ids
    connection.execute(
        insert(VectorIndexChange),
        [{"version": version, "request_id": i} for i in ids],
    )
    if version % 1000 == 0:
        connection.execute(
            delete(VectorIndexChange).where(VectorIndexChange.version <= version - KEEP_VERSIONS)
        )


#: Requests a flush under way changes, mirrored once its rows are written.
_TO_MIRROR = "gtmfb_vectors_to_mirror"


@event.listens_for(Session, "before_flush")
def _bump_on_change(session: Session, _context: Any, _instances: Any) -> None:
    touched = _touched(session)
    if touched:
        _publish(session, touched)
        session.info.setdefault(_TO_MIRROR, set()).update(touched)


@event.listens_for(Session, "after_flush")
def _mirror_after_flush(session: Session, _context: Any) -> None:
    touched = session.info.pop(_TO_MIRROR, None)
    if touched:
        sql_vectors.sync(session.connection(), touched)
