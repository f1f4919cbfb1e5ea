"""JSON API of approvals: the inbox, and deciding one."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Query

from gtm_feedback.approval import service
from gtm_feedback.approval.models import ApprovalStatus
from gtm_feedback.approval.outcome import show_outcome
from gtm_feedback.approval.schemas import ApprovalOut, DecisionIn
from gtm_feedback.user.access import APPROVER, Approver
from gtm_feedback.web.deps import AppSettings, DbSession
from gtm_feedback.web.pagination import Page, PageParams, paged

router = APIRouter(prefix="/api/approvals", tags=["approvals"])


@router.get("", response_model=Page[ApprovalOut], dependencies=[APPROVER])
def list_approvals(
    session: DbSession,
    paging: PageParams,
    status: Annotated[
        Literal["pending", "approved", "declined", "any"],
        Query(description="pending (the inbox, the default), approved, declined or any"),
    ] = "pending",
    kind: Annotated[str | None, Query(max_length=40, description="e.g. match, merge")] = None,
) -> Page[ApprovalOut]:
    """Approvals: the pending ones oldest first (the inbox), or decided ones newest first."""
    chosen = None if status == "any" else ApprovalStatus(status)
    stmt = service.listing(status=chosen, kind=kind)
    return paged(session, stmt, paging, ApprovalOut.model_validate)


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
