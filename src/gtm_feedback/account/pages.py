"""The account page: ARR, enterprise flag, opportunities, and all its feedback with requests."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gtm_feedback.account import service
from gtm_feedback.errors import NotFoundError
from gtm_feedback.feedback import service as feedback_service
from gtm_feedback.user.access import VIEWER
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/accounts/{account_id}", response_class=HTMLResponse, dependencies=[VIEWER])
def account_page(request: Request, account_id: str, session: DbSession) -> Response:
    """One account and what it asked for."""
    account = service.get_account(session=session, account_id=account_id)
    if account is None:
        raise NotFoundError(f"no account with id {account_id!r}")
    feedback = feedback_service.of_account(session=session, account_id=account.id)
    context = {
        "account": account,
        "feedback": feedback,
        "pipeline": service.account_pipeline(account, feedback),
    }
    return templates.TemplateResponse(request, "account.html", context)
