"""The approvals inbox: pending decisions with the pain and the proposed request, and history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.approval import service
from gtm_feedback.approval.outcome import show_outcome
from gtm_feedback.feature_request import service as feature_requests
from gtm_feedback.user.access import APPROVER, Approver
from gtm_feedback.web.deps import AppSettings, DbSession
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/approvals", response_class=HTMLResponse, dependencies=[APPROVER])
def inbox(request: Request, session: DbSession, notice: str = "") -> Response:
    """Pending approvals, oldest first, then the latest decisions."""
    pending = service.pending(session=session)
    ids = {str(a.payload.get("request_id")) for a in pending if a.payload.get("request_id")}
    requests = feature_requests.by_ids(session=session, ids=ids)
    context = {
        "pending": pending,
        "requests": requests,
        "decided": service.decided(session=session, limit=20),
        "notice": notice[:300],
    }
    return templates.TemplateResponse(request, "approvals.html", context)


@router.post("/approvals/{token}")
def decide(
    token: str,
    settings: AppSettings,
    background: BackgroundTasks,
    approved: Annotated[bool, Form()],
    who: Approver,
) -> RedirectResponse:
    """Approve or decline from the inbox; the waiting workflow resumes at once."""
    try:
        approval = service.decide_and_resume(
            settings.app_database_url, token=token, approved=approved, actor=who.actor
        )
    except (service.ApprovalNotFoundError, service.AlreadyDecidedError) as exc:
        return RedirectResponse(f"/approvals?notice=Nothing changed: {exc}", status_code=303)
    outcome = "Approved" if approved else "Declined"
    background.add_task(show_outcome, approval, outcome)
    return RedirectResponse(f"/approvals?notice={outcome}.", status_code=303)
