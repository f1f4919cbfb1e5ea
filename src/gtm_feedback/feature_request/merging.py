"""Merge one request into another, and undo it exactly.

Merging moves the source's feedback to the survivor and adds the source's followers and areas
the survivor lacked; the source becomes a tombstone pointing at the survivor (pages and the
API redirect, lists leave it out) and stops being a match candidate (its vector is set aside
in the merge record). ARR and counts follow the feedback: they are computed from it. The
vector index and pgvector's mirror follow the moved rows (``index_state``). Unmerging moves
back exactly what the merge moved and is still where the merge put it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.db.base import utcnow
from gtm_feedback.errors import ConflictError, InvalidInputError, NotFoundError
from gtm_feedback.feature_request import service
from gtm_feedback.feature_request.models import FeatureRequest, RequestMerge
from gtm_feedback.feedback.models import Feedback

#: Tombstones followed at most this far (a merged request merged again): a guard, not a limit
#: anyone reaches.
_MAX_HOPS = 50


@dataclass(frozen=True)
class MergePlan:
    """What a merge would move, shown before anyone confirms it."""

    source: FeatureRequest
    survivor: FeatureRequest
    feedback: int
    followers: list[str]  # emails of the source's followers the survivor gains
    areas: list[str]  # names of the source's areas the survivor gains
    arr_before: Decimal  # the survivor's ARR now
    arr_after: Decimal  # and after the merge (each account counted once)


def live(session: Session, request: FeatureRequest) -> FeatureRequest:
    """The request itself, or the one its tombstone (and theirs) points at."""
    for _ in range(_MAX_HOPS):
        if request.merged_into is None:
            return request
        request = request.merged_into
    raise ConflictError(f"request {request.slug!r} is merged in a loop")


def live_id(*, session: Session, request_id: str) -> str:
    """The id of the live request ``request_id`` is, or was merged into (unknown: itself)."""
    found = service.get(session=session, request_id=request_id)
    return request_id if found is None else live(session, found).id


def plan(*, session: Session, source: str, survivor: str) -> MergePlan:
    """Check a merge of ``source`` into ``survivor`` (ids or slugs) and say what would move."""
    found, into = _pair(session, source, survivor)
    followers = [u.email for u in found.followers if u not in into.followers]
    areas = [a.name for a in found.areas if a not in into.areas]
    feedback = service.feedback_of(session=session, request_id=found.id)
    before = service.request_arr(session=session, request_id=into.id)
    accounts = {f.account_id for f in service.feedback_of(session=session, request_id=into.id)}
    gained = {f.account_id: f.account.arr for f in feedback if f.account_id not in accounts}
    return MergePlan(
        found, into, len(feedback), followers, areas, before, before + sum(gained.values())
    )


def merge(
    *, session: Session, merge_id: str, source: str, survivor: str, merged_by: str
) -> RequestMerge:
    """Merge ``source`` into ``survivor`` once per ``merge_id`` (a repeat returns the first)."""
    done = session.get(RequestMerge, merge_id)
    if done is not None:
        return done
    found, into = _pair(session, source, survivor)
    moved = list(
        session.scalars(
            select(Feedback).where(Feedback.request_id == found.id).order_by(Feedback.id)
        )
    )
    for item in moved:
        item.request_id = into.id
    followers = [u for u in found.followers if u not in into.followers]
    areas = [a for a in found.areas if a not in into.areas]
    into.followers.extend(followers)
    into.areas = sorted([*into.areas, *areas], key=lambda area: area.name)
    record = RequestMerge(
        id=merge_id,
        source_id=found.id,
        survivor_id=into.id,
        feedback_ids=[item.id for item in moved],
        follower_ids=[u.id for u in followers],
        area_ids=[a.id for a in areas],
        source_embedding=found.embedding,
        source_embedding_model=found.embedding_model,
        source_embedding_key=found.embedding_key,
        merged_by=merged_by,
    )
    found.embedding = found.embedding_model = found.embedding_key = None
    found.merged_into_id = into.id
    session.add(record)
    session.flush()
    return record


def unmerge(*, session: Session, merge_id: str, undone_by: str) -> RequestMerge:
    """Move back what the merge moved; a second call changes nothing."""
    record = session.get(RequestMerge, merge_id)
    if record is None:
        raise NotFoundError(f"no merge {merge_id!r}")
    if record.undone_at is not None:
        return record
    source = _get(session, record.source_id)
    survivor = _get(session, record.survivor_id)
    if survivor.merged_into_id is not None:
        raise ConflictError(f"{survivor.slug!r} was itself merged since: undo that merge first")
    moved = session.scalars(
        select(Feedback).where(
            Feedback.id.in_(record.feedback_ids), Feedback.request_id == survivor.id
        )
    )
    for item in moved:
        item.request_id = source.id
    survivor.followers = [u for u in survivor.followers if u.id not in record.follower_ids]
    survivor.areas = [a for a in survivor.areas if a.id not in record.area_ids]
    source.embedding = record.source_embedding
    source.embedding_model = record.source_embedding_model
    source.embedding_key = record.source_embedding_key
    source.merged_into_id = None
    record.undone_at, record.undone_by = utcnow(), undone_by
    session.flush()
    return record


def merges_of(*, session: Session, request_id: str) -> list[RequestMerge]:
    """Merges into or out of a request that are not undone, newest first."""
    return list(
        session.scalars(
            select(RequestMerge)
            .where(
                (RequestMerge.source_id == request_id) | (RequestMerge.survivor_id == request_id),
                RequestMerge.undone_at.is_(None),
            )
            .order_by(RequestMerge.created_at.desc())
        )
    )


def _get(session: Session, request_id: str) -> FeatureRequest:
    found = service.get(session=session, request_id=request_id)
    if found is None:
        raise NotFoundError(f"no feature request {request_id!r}")
    return found


def _pair(session: Session, source: str, survivor: str) -> tuple[FeatureRequest, FeatureRequest]:
    found = service.resolve(session=session, id_or_slug=source)
    into = service.resolve(session=session, id_or_slug=survivor)
    for ref, row in ((source, found), (survivor, into)):
        if row is None:
            raise NotFoundError(f"no feature request {ref!r}")
    assert found is not None
    assert into is not None
    if found.id == into.id:
        raise InvalidInputError("a request cannot be merged into itself")
    for row in (found, into):
        if row.merged_into_id is not None:
            target = live(session, row)
            raise ConflictError(f"{row.slug!r} is already merged into {target.slug!r}")
    return found, into
