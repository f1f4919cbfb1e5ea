"""Feedback intake: ``POST /api/feedback`` validates, then starts processing in the background."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.feedback.schemas import FeedbackSubmission, ProcessFeedbackInput
from gtm_feedback.feedback.workflows import process_feedback_workflow
from gtm_feedback.web.deps import DbSession

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


class Submitted(BaseModel):
    """The submission's id and the run processing it (poll ``GET /api/runs/{run_id}``)."""

    submission_id: str
    run_id: str


def submission_id_for(idempotency_key: str | None) -> str:
    """A new id, or one derived from the key so a retried POST maps to the same run."""
    if idempotency_key is None:
        return f"sub_{uuid.uuid4().hex[:20]}"
    return f"sub_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"


def _check_references(session: DbSession, body: FeedbackSubmission) -> None:
    errors = []
    if session.get(Account, body.account_id) is None:
        errors.append(("account_id", f"unknown account {body.account_id!r}"))
    opportunity = session.get(Opportunity, body.opportunity_id) if body.opportunity_id else None
    if body.opportunity_id and (opportunity is None or opportunity.account_id != body.account_id):
        errors.append(("opportunity_id", "unknown opportunity for this account"))
    if errors:
        raise RequestValidationError(
            [
                {"type": "value_error", "loc": ("body", f), "msg": m, "input": None}
                for f, m in errors
            ]
        )


@router.post("", status_code=202, response_model=Submitted)
def submit(
    body: FeedbackSubmission,
    session: DbSession,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Submitted:
    """Accept feedback; matching, approvals and notifications continue in the background."""
    _check_references(session, body)
    submission_id = submission_id_for(idempotency_key)
    run_id = f"feedback-{submission_id}"
    queue = DBOS.retrieve_queue("feedback")
    assert queue is not None, "the feedback queue is registered at launch"
    with SetWorkflowID(run_id):  # same id twice: DBOS keeps the first run
        queue.enqueue(
            process_feedback_workflow,
            ProcessFeedbackInput(submission_id=submission_id, submission=body),
        )
    return Submitted(submission_id=submission_id, run_id=run_id)
