"""Feedback: a customer's pain stored on a request (once per id), and read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.feedback.models import (
    CreationSource,
    Feedback,
    FeedbackSource,
    MatchTier,
    Severity,
)
from gtm_feedback.feedback.schemas import FeedbackSubmission


@dataclass(frozen=True)
class Placement:
    """How matching placed the feedback on its request, as stored with it."""

    tier: MatchTier
    confidence: float | None
    reason: str | None
    candidates: list[dict[str, Any]]


def get(*, session: Session, feedback_id: str) -> Feedback | None:
    """One feedback item, if it exists."""
    return session.get(Feedback, feedback_id)


def record(
    *,
    session: Session,
    feedback_id: str,
    request_id: str,
    submission: FeedbackSubmission,
    creator_id: str,
    placement: Placement,
) -> tuple[Feedback, bool]:
    """Store the submission as ``feedback_id`` unless it is stored; returns it and if it is new."""
    existing = session.get(Feedback, feedback_id)
    if existing is not None:
        return existing, False
    row = Feedback(
        id=feedback_id,
        request_id=request_id,
        account_id=submission.account_id,
        opportunity_id=submission.opportunity_id,
        blocks_deal=submission.blocks_deal,
        severity=submission.severity,
        description=submission.pain,
        links=[str(link) for link in submission.links],
        creator_id=creator_id,
        creation_source=CreationSource.AGENT,
        source=submission.source,
        match_tier=placement.tier,
        match_confidence=placement.confidence,
        match_reason=placement.reason,
        match_candidates=placement.candidates,
    )
    session.add(row)
    session.flush()
    return row, True


def count_for_request(*, session: Session, request_id: str) -> int:
    """How many feedback items the request has."""
    query = select(func.count()).select_from(Feedback).where(Feedback.request_id == request_id)
    return int(session.execute(query).scalar_one())


def of_account(*, session: Session, account_id: str) -> list[Feedback]:
    """The feedback an account left, newest first, with requests loaded."""
    return list(
        session.scalars(
            select(Feedback)
            .where(Feedback.account_id == account_id)
            .options(selectinload(Feedback.request))
            .order_by(Feedback.created_at.desc(), Feedback.id)
        )
    )


def automatic(*, session: Session, limit: int, offset: int = 0) -> list[Feedback]:
    """Feedback attached without asking anyone (the auto tier), newest first, with its
    request and account loaded: the audit of what matching decided on its own."""
    stmt = listing(FeedbackQuery(tier=MatchTier.AUTO))
    return list(session.scalars(stmt.limit(limit).offset(offset)))


@dataclass(frozen=True)
class FeedbackQuery:
    """Filters of the feedback list (each optional)."""

    request_id: str | None = None
    account_id: str | None = None
    severity: Severity | None = None
    source: FeedbackSource | None = None
    tier: MatchTier | None = None
    since: datetime | None = None
    until: datetime | None = None


def listing(query: FeedbackQuery) -> Select[Feedback]:
    """Feedback the filters keep, newest first, with request and account loaded."""
    stmt = (
        select(Feedback)
        .options(selectinload(Feedback.request), selectinload(Feedback.account))
        .order_by(Feedback.created_at.desc(), Feedback.id)
    )
    for column, value in (
        (Feedback.request_id, query.request_id),
        (Feedback.account_id, query.account_id),
        (Feedback.severity, query.severity),
        (Feedback.source, query.source),
        (Feedback.match_tier, query.tier),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if query.since is not None:
        stmt = stmt.where(Feedback.created_at >= query.since)
    if query.until is not None:
        stmt = stmt.where(Feedback.created_at < query.until)
    return stmt
