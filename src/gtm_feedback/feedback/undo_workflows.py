"""Undo an automatic attach: detach the feedback, then decide again without that request.

A person says matching got one wrong. The feedback leaves the request it was attached to
(recorded in the audit log as a declined match, with who undid it), and is decided again
with that request excluded and the auto tier off: a person is asked about the next best
candidate, or a new request is written when none is close enough.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel

from gtm_feedback.db import transactional
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.retry import DB_RETRY
from gtm_feedback.errors import ConflictError, NotFoundError
from gtm_feedback.feedback import service as feedback
from gtm_feedback.feedback.models import MatchTier
from gtm_feedback.feedback.schemas import (
    FeedbackSubmission,
    ProcessFeedbackInput,
    ProcessFeedbackResult,
)
from gtm_feedback.feedback.steps import MatchOutcome, rank
from gtm_feedback.feedback.workflows import hand_over
from gtm_feedback.integrations import adapters
from gtm_feedback.learning.service import Verdict
from gtm_feedback.learning.workflows import learn_from
from gtm_feedback.matching.matcher import decide
from gtm_feedback.matching.tiers import Tier
from gtm_feedback.user import audit
from gtm_feedback.user import service as users


class UndoInput(BaseModel):
    """Which automatic attach to undo, and who undoes it."""

    feedback_id: str
    actor_user_id: str | None
    actor_email: str
    source: str = ""


class Detached(BaseModel):
    """The feedback taken off its request, as a submission to decide again."""

    process: ProcessFeedbackInput
    excluded_request_id: str
    candidates: list[dict[str, Any]] = []  # as matched when attached: the label's features


def undo_run_id(feedback_id: str) -> str:
    """One undo run per feedback item: undoing twice is the same run."""
    return f"undo-{feedback_id}"


def _detach(url: str, data: UndoInput) -> Detached | None:
    """Take the feedback off its request (None: not an automatic attach, or gone), in the
    transactional step's own transaction: the delete and the step's checkpoint commit
    together, so a crash can never delete the feedback without recording what to redo."""
    session = transactional.session(url)
    row = feedback.get(session=session, feedback_id=data.feedback_id)
    if row is None or row.match_tier is not MatchTier.AUTO:
        return None
    creator = users.get(session=session, user_id=row.creator_id) if row.creator_id else None
    submission = FeedbackSubmission.model_validate(
        {
            "pain": row.description,
            "severity": row.severity,
            "account_id": row.account_id,
            "opportunity_id": row.opportunity_id,
            "blocks_deal": row.blocks_deal,
            "links": row.links,
            "submitter_email": creator.email if creator else data.actor_email,
            "source": row.source,
        }
    )
    actor = audit.Actor(data.actor_user_id, data.actor_email, data.source)
    detail = f"declined the automatic match to {row.request.slug}"
    audit.record(session=session, actor=actor, action="match.undo", target=row.id, detail=detail)
    excluded = row.request_id
    session.delete(row)
    session.flush()
    # A new submission id: the detached feedback is stored again under its own id.
    process = ProcessFeedbackInput(
        submission_id=f"{data.feedback_id.removeprefix('fb_')}-undone", submission=submission
    )
    return Detached(
        process=process, excluded_request_id=excluded, candidates=list(row.match_candidates or [])
    )


@DBOS.step(**DB_RETRY)
def rematch_step(pain: str, excluded_request_id: str) -> MatchOutcome:
    """Rank again without the excluded request; never the auto tier (a person undid it)."""
    result, config = rank(pain)
    left = [c for c in result.candidates if c.request_id != excluded_request_id]
    best = left[0] if left else None
    tier = decide(left, config).tier
    return MatchOutcome(
        tier=Tier.APPROVAL if tier is Tier.AUTO else tier,
        request_id=best.request_id if best else None,
        confidence=best.confidence if best else None,
        reason=best.reason if best else None,
        candidates=[candidate.as_dict() for candidate in left],
    )


@DBOS.workflow()
def undo_auto_attach_workflow(data: UndoInput) -> ProcessFeedbackResult | None:
    """Detach the feedback and decide again: ask a person, or write a new request."""
    url = adapters.current().settings.app_database_url
    detached = transactional.run_step(url, "detach_step", _detach, url, data)
    if detached is None:
        return None
    match = rematch_step(detached.process.submission.pain, detached.excluded_request_id)
    handed = hand_over(detached.process, match)
    verdict = Verdict(
        key=f"undo:{data.feedback_id}",
        kind="undo",
        right=False,
        request_id=detached.excluded_request_id,
        feedback_id=data.feedback_id,
        decided_by=data.actor_email,
    )
    learn_from(verdict, detached.candidates)
    return handed


def start_undo(feedback_id: str, actor: audit.Actor) -> str:
    """Start (once) the undo of an automatic attach; its run id.

    Raises ``NotFoundError`` for unknown feedback and ``ConflictError`` for feedback that was
    not attached automatically: refused at the door, before any run.
    """
    run_id = undo_run_id(feedback_id)
    if DBOS.get_workflow_status(run_id) is None:
        with session_scope(adapters.current().settings.app_database_url) as session:
            row = feedback.get(session=session, feedback_id=feedback_id)
            if row is None:
                raise NotFoundError(f"no feedback {feedback_id!r}")
            if row.match_tier is not MatchTier.AUTO:
                raise ConflictError("only an automatic attach can be undone")
    data = UndoInput(
        feedback_id=feedback_id,
        actor_user_id=actor.user_id,
        actor_email=actor.label,
        source=actor.source,
    )
    with SetWorkflowID(run_id):
        DBOS.start_workflow(undo_auto_attach_workflow, data)
    return run_id
