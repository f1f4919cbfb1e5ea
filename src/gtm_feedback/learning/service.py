"""Decisions become labels; enough of them start a refit; a refit is fitted, checked and saved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import ConflictError, NotFoundError
from gtm_feedback.learning import store
from gtm_feedback.learning.models import MatchCalibration
from gtm_feedback.matching import learn
from gtm_feedback.matching.calibration import Calibration, calibration_for
from gtm_feedback.user import audit
from gtm_feedback.user.audit import Actor


@dataclass(frozen=True)
class Verdict:
    """A person's decision on the best candidate of one match."""

    key: str  # one per question: "approval:<token>", "undo:<feedback id>"
    kind: str  # approve | decline | undo
    right: bool
    request_id: str | None
    feedback_id: str | None
    decided_by: str


def pinned(settings: Settings) -> bool:
    """True when the environment fixes the calibration or the auto threshold (no learning)."""
    chosen = settings.model_fields_set
    return (
        not settings.match_learn
        or "match_calibration" in chosen
        or "match_auto_threshold" in chosen
    )


def note(
    url: str, model_id: str, verdict: Verdict, candidates: Sequence[Mapping[str, Any]]
) -> int | None:
    """Store the verdict as a label (once); the decision count when it was new, else None."""
    features = store.features_of(candidates)
    if features is None:
        return None
    with session_scope(url, write=True) as session:
        return store.record_and_count(
            session=session,
            key=verdict.key,
            kind=verdict.kind,
            right=verdict.right,
            model_id=model_id,
            features=features,
            request_id=verdict.request_id,
            feedback_id=verdict.feedback_id,
            decided_by=verdict.decided_by,
        )


def due(settings: Settings, count: int | None) -> bool:
    """Whether the decision that made ``count`` should start a refit."""
    return (
        count is not None
        and not pinned(settings)
        and count >= settings.match_min_decisions
        and count % settings.match_refit_every == 0
    )


def policy(settings: Settings) -> learn.Policy:
    """The refit policy from settings."""
    return learn.Policy(
        target=settings.match_target_precision, min_decisions=settings.match_min_decisions
    )


@dataclass(frozen=True)
class InUse:
    """The calibration and auto threshold matching uses now, and whether a refit set them."""

    calibration: Calibration
    auto_threshold: float
    learnt: bool


def current(session: Session, settings: Settings, model_id: str) -> InUse:
    """What matching uses now: the newest active refit, else the environment or the defaults."""
    row = None if pinned(settings) else store.active(session=session, model_id=model_id)
    if row is not None:  # never below the approval threshold set since the refit
        auto = max(row.auto_threshold, settings.match_approval_threshold)
        return InUse(store.as_calibration(row), auto, learnt=True)
    return InUse(configured(settings, model_id), settings.match_auto_threshold, learnt=False)


def configured(settings: Settings, model_id: str) -> Calibration:
    """The calibration from the environment (``eval-matching --fit``), else the shipped one."""
    if settings.match_calibration is not None:
        return Calibration(model_id, *settings.match_calibration)
    return calibration_for(model_id)


@dataclass(frozen=True)
class Refit:
    """What a refit did: the saved row, or why there was none."""

    saved: MatchCalibration | None
    decisions: int
    reason: str


def refit(settings: Settings, model_id: str, *, trigger: str, run_id: str) -> Refit:
    """Fit on every decision, check, and save the result once per ``run_id``."""
    url = settings.app_database_url
    if pinned(settings):
        return Refit(None, 0, "the environment pins the calibration or the auto threshold")
    with session_scope(url) as session:
        done = store.saved_by(session=session, run_id=run_id)
        if done is not None:
            return Refit(done, done.decisions + done.held_back, done.note)
        labels = store.decisions(session=session, model_id=model_id)
        rows = store.population(session=session)
        in_use = current(session, settings, model_id)
    prior = calibration_for(model_id)
    found = learn.refit(
        labels, rows, prior, in_use.auto_threshold, policy(settings), in_use.calibration
    )
    if found is None:
        need = settings.match_min_decisions
        return Refit(None, len(labels), f"{len(labels)} decision(s); a refit needs {need}")
    with session_scope(url, write=True) as session:
        saved = store.save(session=session, proposal=found, trigger=trigger, run_id=run_id)
        session.expunge(saved)
    return Refit(saved, len(labels), found.note)


def revert(*, session: Session, calibration_id: int, actor: Actor) -> MatchCalibration:
    """Revert, audited; 404 unknown, 409 when it is not the one in use."""
    if session.get(MatchCalibration, calibration_id) is None:
        raise NotFoundError(f"no refit {calibration_id}")
    row = store.revert(session=session, calibration_id=calibration_id)
    if row is None:
        raise ConflictError(f"refit {calibration_id} is not active")
    detail = f"auto threshold {row.auto_threshold:.3f}"
    audit.record(
        session=session,
        actor=actor,
        action="matching.revert",
        target=f"refit {calibration_id}",
        detail=detail,
    )
    return row
