"""Admin pages for people and credentials: users and roles, API tokens, the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gtm_feedback.db.base import utcnow
from gtm_feedback.user import audit, tokens
from gtm_feedback.user import service as users
from gtm_feedback.user.access import ADMIN, Admin
from gtm_feedback.user.models import Role
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.templating import templates

router = APIRouter(prefix="/admin", include_in_schema=False)


@router.get("/users", response_class=HTMLResponse, dependencies=[ADMIN])
def users_page(request: Request, session: DbSession) -> Response:
    """Every user with their role, the most powerful first."""
    context = {"users": users.everyone(session=session), "roles": list(Role)}
    return templates.TemplateResponse(request, "admin_users.html", context)


@router.post("/users/{user_id}/role")
def change_role(
    user_id: str, session: DbWrite, who: Admin, role: Annotated[Role, Form()]
) -> RedirectResponse:
    """Give a user another role (their sessions end); recorded in the audit log."""
    user = users.set_role(session=session, user_id=user_id, role=role)
    audit.record(
        session=session, actor=who.actor, action="user.role", target=user.email, detail=role.value
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/tokens", response_class=HTMLResponse, dependencies=[ADMIN])
def tokens_page(request: Request, session: DbSession) -> Response:
    """Every API token: whose, its state, when last used; and the form to make one."""
    return _tokens_page(request, session, created="")


def _tokens_page(request: Request, session: Session, *, created: str) -> Response:
    # ``created``: a token just made, shown once on the page that answers its form.
    rows = [(t, u, tokens.state(t, utcnow())) for t, u in tokens.listed(session=session)]
    context = {"rows": rows, "created": created, "people": users.everyone(session=session)}
    return templates.TemplateResponse(request, "admin_tokens.html", context)


@router.post("/tokens", response_class=HTMLResponse)
def create_token(
    request: Request,
    session: DbWrite,
    who: Admin,
    email: Annotated[str, Form(max_length=320)],
    name: Annotated[str, Form(max_length=100)],
    days: Annotated[int, Form(ge=0, le=3650)] = 90,
) -> Response:
    """A new token, shown once on the page that answers this form."""
    user = users.get_by_email(session=session, email=email)
    if user is None:
        return RedirectResponse("/admin/tokens", status_code=303)
    expires = timedelta(days=days) if days else None
    issued = tokens.create(session=session, user=user, name=name, expires_in=expires)
    audit.record(
        session=session, actor=who.actor, action="token.create", target=user.email, detail=name
    )
    return _tokens_page(request, session, created=issued.secret)


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: str, session: DbWrite, who: Admin) -> RedirectResponse:
    """Revoke a token at once."""
    row = tokens.revoke(session=session, token_id=token_id)
    audit.record(session=session, actor=who.actor, action="token.revoke", target=row.name)
    return RedirectResponse("/admin/tokens", status_code=303)


@router.get("/audit", response_class=HTMLResponse, dependencies=[ADMIN])
def audit_page(request: Request, session: DbSession, action: str = "") -> Response:
    """The newest 200 audit events, optionally of one action."""
    events = audit.recent(session=session, limit=200, action=action or None)
    context = {"events": events, "action": action}
    return templates.TemplateResponse(request, "audit.html", context)
