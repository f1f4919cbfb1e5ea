"""Signing in and out with a built-in account (email and password)."""

from __future__ import annotations

import contextlib
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import RateLimitedError, UnauthenticatedError
from gtm_feedback.user import audit, passwords
from gtm_feedback.user import service as users
from gtm_feedback.user.access import PUBLIC, identify, start_session
from gtm_feedback.web.deps import AppSettings
from gtm_feedback.web.ratelimit import RateLimit
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)


def safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect)."""
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith(("//", "/\\"))
    return target if local and not parts.scheme and not parts.netloc else "/requests"


def render_signin(request: Request, next_url: str, error: str = "", status: int = 200) -> Response:
    """The sign-in page: the password form, and the identity provider's button if configured."""
    settings: Settings = request.app.state.settings
    oidc = settings.oidc_name if request.app.state.oidc is not None else None
    context = {"next": safe_next(next_url), "error": error, "oidc": oidc}
    return templates.TemplateResponse(request, "signin.html", context, status_code=status)


@router.get("/signin", response_class=HTMLResponse, dependencies=[PUBLIC])
def signinrender_signin(request: Request, next: str = "/requests") -> Response:
    """The sign-in form (or straight on, for someone already signed in)."""
    with contextlib.suppress(UnauthenticatedError):
        if identify(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
    return render_signin(request, next)


@router.post("/signin", response_class=HTMLResponse, dependencies=[PUBLIC])
def signin(
    request: Request,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/requests",
) -> Response:
    """Check the password; on success a fresh session cookie, else the form again (401)."""
    address = request.client.host if request.client else ""
    # Failed attempts count against the rate (per address and email), successful ones do not.
    limit: RateLimit = request.app.state.signin_limit
    attempt = f"{address}|{users.normalise_email(email)}"
    try:
        limit.check_room(attempt)
    except RateLimitedError as exc:
        return render_signin(request, next, f"Too many failed attempts: {exc}", status=429)
    with session_scope(settings.app_database_url, write=True) as session:
        user = users.get_by_email(session=session, email=email)
        stored = user.password_hash if user is not None and not user.disabled else None
        actor = audit.Actor(user.id if user else None, users.normalise_email(email), address)
        if user is None or not passwords.verify(stored, password):
            limit.count(attempt)
            audit.record(session=session, actor=actor, action="signin.failed", target=email)
            return render_signin(request, next, "Wrong email or password.", status=401)
        if passwords.needs_rehash(user.password_hash or ""):
            user.password_hash = passwords.hash_password(password)
        audit.record(session=session, actor=actor, action="signin", target=user.email)
        start_session(request, user)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/signout", dependencies=[PUBLIC])
def signout(request: Request) -> Response:
    """End this browser's session."""
    request.session.clear()
    return RedirectResponse("/signin", status_code=303)
