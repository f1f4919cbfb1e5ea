"""The outbox page: messages that did not go to Slack, newest first, with the reason."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from gtm_feedback.outbox import service
from gtm_feedback.user import service as users
from gtm_feedback.user.access import ADMIN
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/outbox", response_class=HTMLResponse, dependencies=[ADMIN])
def outbox_page(
    request: Request, session: DbSession, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    """One page of the outbox."""
    rows = service.recent(session=session, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    ids = {row.recipient_user_id for row in rows if row.recipient_user_id}
    emails = users.emails_by_id(session=session, ids=ids)
    context = {
        "rows": rows[:PAGE_SIZE],
        "emails": emails,
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
    }
    return templates.TemplateResponse(request, "outbox.html", context)
