"""Feedback intake: ``POST /api/feedback`` validates, then starts processing in the background."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.feedback import intake
from gtm_feedback.feedback.schemas import FeedbackSubmission
from gtm_feedback.web.deps import DbSession

router = APIRouter(prefix="/api/feedback", tags=["feedback"])


class Submitted(BaseModel):
    """The submission's id and the run processing it (poll ``GET /api/runs/{run_id}``)."""

    submission_id: str
    run_id: str


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
    started = intake.start_processing(body, idempotency_key)
    return Submitted(submission_id=started.submission_id, run_id=started.run_id)
