"""JSON API of approvals: the inbox, and deciding one."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks

from gtm_feedback.approval import service
from gtm_feedback.approval.outcome import show_outcome
from gtm_feedback.approval.schemas import ApprovalOut, DecisionIn
from gtm_feedback.user.access import APPROVER, Approver
from gtm_feedback.web.deps import AppSettings, DbSession

router = APIRouter(prefix="/api/approvals", tags=["approvals"])


@router.get("", response_model=list[ApprovalOut], dependencies=[APPROVER])
def list_pending(session: DbSession) -> list[ApprovalOut]:
    """Approvals waiting for a person, oldest first."""
    return [ApprovalOut.model_validate(a) for a in service.pending(session=session)]


@router.post(
    "/{token}",
    response_model=ApprovalOut,
    responses={404: {"description": "Unknown token"}, 409: {"description": "Already decided"}},
)
def decide(
    token: str, body: DecisionIn, settings: AppSettings, background: BackgroundTasks, who: Approver
) -> ApprovalOut:
    """Approve or decline; the waiting workflow resumes at once.

    The Slack message that asked (if any) is rewritten to show the outcome after the answer.
    """
    approval = service.decide_and_resume(
        settings.app_database_url, token=token, approved=body.approved, actor=who.actor
    )
    outcome = "Approved" if body.approved else "Declined"
    background.add_task(show_outcome, approval, outcome)
    return ApprovalOut.model_validate(approval)
