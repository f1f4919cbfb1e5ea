"""What the matching page and ``GET /api/matching`` show: the calibration in use and its story."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.learning import checks, classifier, service, store
from gtm_feedback.learning.models import MatchCalibration, MatchClassifier, MatchDecision
from gtm_feedback.matching.calibration import novelty_for


class CalibrationOut(BaseModel):
    """One refit, as listed in the history."""

    id: int
    at: str
    status: str
    trigger: str
    auto_threshold: float
    coefficients: list[float]
    decisions: int
    held_back: int
    held_back_auto: int
    held_back_wrong: int
    estimated_precision: float | None
    estimated_coverage: float | None
    note: str


class ClassifierOut(BaseModel):
    """The second-opinion classifier matching asks: when and on what it was trained."""

    id: int
    at: str
    requests: int
    items: int
    seconds: float


class MatchingOut(BaseModel):
    """The calibration in use, where it came from, the decisions, and recent tiers."""

    model_id: str
    source: str  # learnt | environment | shipped
    pinned: bool
    auto_threshold: float
    approval_threshold: float
    novelty: bool  # a "does any request fit" model decides create-new (else the confidence)
    target_precision: float
    coefficients: list[float]  # bias, score, margin, linked, llm, opinion, belief, lead
    second_opinion: bool  # the classifier is trained and asked (GTMFB_MATCH_SECOND_OPINION)
    classifier: ClassifierOut | None  # its newest training; None before the first
    llm_check: bool  # approval-band matches get an LLM's opinion (a model is configured)
    llm_checks_30_days: int  # questions asked (cached answers are not asked again)
    llm_tokens_30_days: int
    decisions: dict[str, int]  # by kind, and "total"
    min_decisions: int
    refit_every: int
    tiers_30_days: dict[str, int]
    history: list[CalibrationOut]


def calibration_out(row: MatchCalibration) -> CalibrationOut:
    """The API form of one refit."""
    return CalibrationOut(
        id=row.id,
        at=row.at.isoformat(),
        status=row.status,
        trigger=row.trigger,
        auto_threshold=row.auto_threshold,
        coefficients=[float(v) for v in row.coefficients],
        decisions=row.decisions,
        held_back=row.held_back,
        held_back_auto=row.held_back_auto,
        held_back_wrong=row.held_back_wrong,
        estimated_precision=row.estimated_precision,
        estimated_coverage=row.estimated_coverage,
        note=row.note,
    )


def overview(session: Session, settings: Settings, model_id: str) -> MatchingOut:
    """Everything the matching page shows."""
    pinned = service.pinned(settings)
    in_use = service.current(session, settings, model_id)
    source = "learnt" if in_use.learnt else ("environment" if pinned else "shipped")
    asked, tokens = checks.spent(session)
    return MatchingOut(
        model_id=model_id,
        source=source,
        pinned=pinned,
        auto_threshold=in_use.auto_threshold,
        approval_threshold=settings.match_approval_threshold,
        novelty=novelty_for(model_id) is not None or settings.match_novelty is not None,
        target_precision=settings.match_target_precision,
        coefficients=list(in_use.calibration.coefficients),
        second_opinion=settings.match_second_opinion,
        classifier=_classifier(classifier.newest(session, model_id)),
        llm_check=checks.enabled(settings),
        llm_checks_30_days=asked,
        llm_tokens_30_days=tokens,
        decisions=_decisions(session, model_id),
        min_decisions=settings.match_min_decisions,
        refit_every=settings.match_refit_every,
        tiers_30_days=store.tier_split(session=session),
        history=[calibration_out(row) for row in store.history(session=session)],
    )


def _classifier(row: MatchClassifier | None) -> ClassifierOut | None:
    if row is None:
        return None
    return ClassifierOut(
        id=row.id,
        at=row.at.isoformat(),
        requests=row.requests,
        items=row.items,
        seconds=row.seconds,
    )


def _decisions(session: Session, model_id: str) -> dict[str, int]:
    rows: list[Any] = list(
        session.execute(
            select(MatchDecision.kind, func.count())
            .where(MatchDecision.model_id == model_id)
            .group_by(MatchDecision.kind)
        )
    )
    counts = {str(kind): int(n) for kind, n in rows}
    return {**counts, "total": sum(counts.values())}
