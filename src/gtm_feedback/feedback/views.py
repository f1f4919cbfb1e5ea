"""Feedback intake: ``POST /api/feedback`` validates, then starts processing in the background."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel

from gtm_feedback.durable.idempotency import scoped
from gtm_feedback.feedback import intake
from gtm_feedback.feedback import workflows as feedback_workflows
from gtm_feedback.feedback.models import FeedbackSource
from gtm_feedback.feedback.schemas import FeedbackIn
from gtm_feedback.user.access import MEMBER, Member
from gtm_feedback.web.admission import INTAKE, INTAKE_RESPONSES
from gtm_feedback.web.deps import DbSession

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


class Submitted(BaseModel):
    """The submission's id and the run processing it (poll ``GET /api/runs/{run_id}``)."""

    submission_id: str
    run_id: str


@router.post(
    "",
    status_code=202,
    response_model=Submitted,
    dependencies=[MEMBER, *INTAKE],
    responses=INTAKE_RESPONSES,
)
def submit(
    body: FeedbackIn,
    session: DbSession,
    who: Member,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Submitted:
    """Accept feedback; matching, approvals and notifications continue in the background.

    202 once the run is durably enqueued; 409 when the Idempotency-Key was used with another
    body.
    """
    submission = body.submission(FeedbackSource.API)
    intake.check_references(session, submission)
    key = scoped(idempotency_key, who.user_id)  # keys are per client, like Stripe's
    started = feedback_workflows.start_processing(submission, key)
    return Submitted(submission_id=started.submission_id, run_id=started.run_id)
