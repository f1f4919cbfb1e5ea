"""Read and write decisions and calibrations; the figures the matching page shows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gtm_feedback.db.base import utcnow
from gtm_feedback.db.upsert import add_in_savepoint
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.learning.models import CalibrationStatus, MatchCalibration, MatchDecision
from gtm_feedback.matching.calibration import Calibration, Opinion
from gtm_feedback.matching.learn import Decision, Features, Proposal

#: Recent matches the threshold is estimated on (the population a refit sizes coverage with).
POPULATION_DAYS = 90
POPULATION_LIMIT = 20_000


def features_of(candidates: Sequence[Mapping[str, Any]]) -> Features | None:
    """The best candidate's features from stored candidates (``as_dict`` form), if any.

    Candidates stored before the margin and linked count were kept give the margin from the
    scores and no linked count; ``llm`` is there only when an LLM check was asked, ``opinion``
    only when the second-opinion classifier knew the candidate.
    """
    if not candidates:
        return None
    best = candidates[0]
    score = float(best.get("score", 0.0))
    runner_up = float(candidates[1].get("score", 0.0)) if len(candidates) > 1 else 0.0
    margin = float(best["margin"]) if "margin" in best else score - runner_up
    seen = best.get("opinion")
    opinion = Opinion(float(seen[0]), float(seen[1])) if seen else None
    linked, llm = int(best.get("linked", 0)), float(best.get("llm", 0.0))
    return Features(score, margin, linked, llm, opinion)


def record_decision(
    *,
    session: Session,
    key: str,
    kind: str,
    right: bool,
    model_id: str,
    features: Features,
    request_id: str | None,
    feedback_id: str | None,
    decided_by: str,
) -> bool:
    """Store one decision (once per ``key``); True when it was new."""
    if session.scalars(select(MatchDecision.id).where(MatchDecision.key == key)).first():
        return False
    row = MatchDecision(
        key=key,
        kind=kind,
        right=right,
        model_id=model_id,
        score=features.score,
        margin=features.margin,
        linked=features.linked,
        llm=features.llm,
        belief=features.opinion.belief if features.opinion else None,
        lead=features.opinion.lead if features.opinion else None,
        request_id=request_id,
        feedback_id=feedback_id,
        decided_by=decided_by,
    )
    try:
        add_in_savepoint(session, row)
    except IntegrityError:
        return False  # told twice at the same moment: the first is kept
    return True


def record_and_count(*, session: Session, model_id: str, **decision: Any) -> int | None:
    """Store one decision (``record_decision``'s arguments); the count it made, None if not new."""
    if not record_decision(session=session, model_id=model_id, **decision):
        return None
    return decision_count(session=session, model_id=model_id)


def decision_count(*, session: Session, model_id: str) -> int:
    """How many decisions are stored for ``model_id``."""
    query = select(func.count()).where(MatchDecision.model_id == model_id)
    return session.execute(query).scalar_one()


def decisions(*, session: Session, model_id: str) -> list[Decision]:
    """Every decision on ``model_id``'s matches, oldest first (the newest are held back)."""
    rows = session.scalars(
        select(MatchDecision)
        .where(MatchDecision.model_id == model_id)
        .order_by(MatchDecision.at, MatchDecision.id)
    )
    return [Decision(r.score, r.margin, r.linked, r.llm, _opinion(r), right=r.right) for r in rows]


def _opinion(row: MatchDecision) -> Opinion | None:
    if row.belief is None or row.lead is None:
        return None
    return Opinion(row.belief, row.lead)


def population(*, session: Session, now: datetime | None = None) -> list[Features]:
    """The best candidate of each recent match (what a threshold would apply to)."""
    since = (now or utcnow()) - timedelta(days=POPULATION_DAYS)
    rows = session.scalars(
        select(Feedback.match_candidates)
        .where(Feedback.created_at >= since, Feedback.match_tier.is_not(None))
        .order_by(Feedback.created_at.desc())
        .limit(POPULATION_LIMIT)
    )
    return [f for f in (features_of(c or []) for c in rows) if f is not None]


def active(*, session: Session, model_id: str) -> MatchCalibration | None:
    """The calibration in use for ``model_id`` (the newest active refit), if any."""
    return session.scalars(
        select(MatchCalibration)
        .where(
            MatchCalibration.model_id == model_id,
            MatchCalibration.status == CalibrationStatus.ACTIVE,
        )
        .order_by(MatchCalibration.id.desc())
        .limit(1)
    ).first()


def as_calibration(row: MatchCalibration) -> Calibration:
    """The stored coefficients as a calibration."""
    return Calibration(row.model_id, *(float(v) for v in row.coefficients))


def saved_by(*, session: Session, run_id: str) -> MatchCalibration | None:
    """The refit the run ``run_id`` saved, if it got that far (a retried step finds it)."""
    return session.scalars(
        select(MatchCalibration).where(MatchCalibration.run_id == run_id)
    ).first()


def save(*, session: Session, proposal: Proposal, trigger: str, run_id: str) -> MatchCalibration:
    """Store a refit: active when the guard rails accepted it, else kept for the record."""
    row = MatchCalibration(
        run_id=run_id,
        model_id=proposal.calibration.model_id,
        coefficients=list(proposal.calibration.coefficients),
        auto_threshold=proposal.auto_threshold,
        decisions=proposal.decisions,
        held_back=proposal.held_back,
        held_back_auto=proposal.held_back_auto,
        held_back_wrong=proposal.held_back_wrong,
        estimated_precision=proposal.estimated_precision,
        estimated_coverage=proposal.estimated_coverage,
        status=CalibrationStatus.ACTIVE if proposal.accepted else CalibrationStatus.KEPT,
        trigger=trigger[:200],
        note=proposal.note,
    )
    session.add(row)
    session.flush()
    return row


def revert(*, session: Session, calibration_id: int) -> MatchCalibration | None:
    """Take an active refit out of use (the one before it, or the defaults, apply again)."""
    changed = session.execute(
        update(MatchCalibration)
        .where(
            MatchCalibration.id == calibration_id,
            MatchCalibration.status == CalibrationStatus.ACTIVE,
        )
        .values(status=CalibrationStatus.REVERTED)
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        return None
    return session.get(MatchCalibration, calibration_id, populate_existing=True)


def history(*, session: Session, limit: int = 50) -> list[MatchCalibration]:
    """Refits, newest first."""
    query = select(MatchCalibration).order_by(MatchCalibration.id.desc()).limit(limit)
    return list(session.scalars(query))


def tier_split(*, session: Session, days: int = 30) -> dict[str, int]:
    """How many feedback items each tier placed in the last ``days`` days."""
    since = utcnow() - timedelta(days=days)
    rows = session.execute(
        select(Feedback.match_tier, func.count())
        .where(Feedback.created_at >= since, Feedback.match_tier.is_not(None))
        .group_by(Feedback.match_tier)
    ).all()
    return {str(tier): n for tier, n in rows if tier is not None}
