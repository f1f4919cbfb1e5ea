"""The duplicate sweep: requests alike enough to be one, each pair suggested once.

Pairs come from the matching engine (``matching.duplicates``) over the process's index; a
pair already suggested (pending, merged or declined) is never suggested again. Of the two,
the request with more feedback survives (the older one on a tie).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gtm_feedback.db.base import utcnow
from gtm_feedback.feature_request import search
from gtm_feedback.feature_request.models import DuplicateSuggestion, FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.integrations.embeddings import Embedder
from gtm_feedback.matching import duplicates
from gtm_feedback.matching.index import VectorIndex

#: Nearest requests looked at per request.
NEAREST = 5


@dataclass(frozen=True)
class Found:
    """What one sweep compared and the new suggestions it recorded."""

    compared: int
    suggestions: list[DuplicateSuggestion]


def sweep(
    *, session: Session, embedder: Embedder, threshold: float, only: Collection[str] = ()
) -> Found:
    """Compare every request (or ``only`` these) with the others; record new likely pairs."""
    live = search.INDEXES.get(session, embedder.model_id, embedder.dimensions)
    index = VectorIndex(live.entries(), embedder.dimensions)
    found = duplicates.neighbours(index, NEAREST, only=set(only) or None)
    new = []
    for first, second, score in duplicates.pairs_above(found, threshold):
        key = f"{first}|{second}"
        if session.get(DuplicateSuggestion, key) is not None:
            continue  # suggested before: pending, merged or declined
        source, survivor = _order(session, first, second)
        suggestion = DuplicateSuggestion(
            pair=key, source_id=source, survivor_id=survivor, score=round(score, 4)
        )
        session.add(suggestion)
        new.append(suggestion)
    session.flush()
    return Found(len(found), new)


def _order(session: Session, first: str, second: str) -> tuple[str, str]:
    """(source, survivor): the one with more feedback survives, the older on a tie."""
    counts = dict(
        session.execute(
            select(Feedback.request_id, func.count())
            .where(Feedback.request_id.in_([first, second]))
            .group_by(Feedback.request_id)
        ).all()
    )
    created = dict(
        session.execute(
            select(FeatureRequest.id, FeatureRequest.created_at).where(
                FeatureRequest.id.in_([first, second])
            )
        ).all()
    )

    def weight(request_id: str) -> tuple[int, float]:
        return (counts.get(request_id, 0), -created[request_id].timestamp())

    survivor = max((first, second), key=weight)
    return (second if survivor == first else first), survivor


def settle(*, session: Session, pair: str, status: str, token: str | None = None) -> None:
    """Record what became of a suggestion (asked, merged, declined, or gone stale)."""
    found = session.get(DuplicateSuggestion, pair)
    if found is None:
        return
    if token is not None:
        found.approval_token = token
    if status != "pending":
        found.status, found.decided_at = status, utcnow()
