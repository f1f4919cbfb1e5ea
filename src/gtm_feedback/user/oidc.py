"""Signing in with OpenID Connect (Google Workspace, Okta, Entra ID — any issuer), via Authlib.

The authorization-code flow with state and nonce kept in the session cookie; Authlib checks
the ID token's signature (the issuer's JWKS), issuer, audience, expiry and nonce. Who may sign
in: an existing user with that email, or, when ``GTMFB_OIDC_ALLOWED_DOMAINS`` names the email's
domain, a new user with ``GTMFB_OIDC_DEFAULT_ROLE``. An email the issuer says is unverified is
refused.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import ForbiddenError
from gtm_feedback.user import audit
from gtm_feedback.user import service as users
from gtm_feedback.user.access import PUBLIC, start_session
from gtm_feedback.user.models import Role, User
from gtm_feedback.user.signin import render_signin, safe_next

router = APIRouter(include_in_schema=False)
CALLBACK = "/signin/oidc/callback"


def build_client(settings: Settings) -> Any | None:
    """The Authlib client of the configured issuer, or None when OpenID Connect is off."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    oauth = OAuth()
    issuer = settings.oidc_issuer.rstrip("/")
    return oauth.register(
        name="oidc",
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": "openid email profile"},
    )


def admit(settings: Settings, claims: dict[str, Any]) -> User:
    """The user these verified ID-token claims sign in as (created when the domain is allowed).

    Raises :class:`ForbiddenError` for an unverified email, a disabled user, or an unknown one
    outside the allowed domains.
    """
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        raise ForbiddenError("the identity provider gave no verified email")
    domain = email.rpartition("@")[2]
    with session_scope(settings.app_database_url, write=True) as session:
        user = users.get_by_email(session=session, email=email)
        if user is None and domain not in settings.oidc_allowed_domain_set:
            raise ForbiddenError(f"{email} has no account here; ask an admin to add you")
        if user is None:
            user = users.get_or_create(session=session, email=email, name=claims.get("name"))
            users.set_role(session=session, user_id=user.id, role=Role(settings.oidc_default_role))
            actor = audit.Actor(user.id, email, "oidc")
            audit.record(session=session, actor=actor, action="user.add", target=email)
        if user.disabled:
            raise ForbiddenError(f"{email} is disabled")
        audit.record(
            session=session,
            actor=audit.Actor(user.id, email, "oidc"),
            action="signin",
            target=email,
            detail=str(claims.get("iss", "")),
        )
        session.flush()
        session.expunge(user)
    return user


@router.get("/signin/oidc", dependencies=[PUBLIC])
async def start(request: Request, next: str = "/requests") -> Response:
    """Send the browser to the identity provider."""
    client = request.app.state.oidc
    if client is None:
        return RedirectResponse("/signin", status_code=303)
    request.session["oidc_next"] = safe_next(next)
    settings: Settings = request.app.state.settings
    redirect: Response = await client.authorize_redirect(request, settings.base_url + CALLBACK)
    return redirect


@router.get(CALLBACK, dependencies=[PUBLIC])
async def callback(request: Request) -> Response:
    """Where the identity provider sends the browser back: check the token, sign in."""
    client = request.app.state.oidc
    settings: Settings = request.app.state.settings
    if client is None:
        return RedirectResponse("/signin", status_code=303)
    try:
        token = await client.authorize_access_token(request)
        user = await run_in_threadpool(admit, settings, dict(token.get("userinfo") or {}))
    except OAuthError as exc:
        return render_signin(request, "/requests", f"Sign-in failed: {exc.description}", 401)
    except ForbiddenError as exc:
        return render_signin(request, "/requests", f"Sign-in refused: {exc}", 403)
    next_url = str(request.session.pop("oidc_next", "/requests"))
    start_session(request, user)
    return RedirectResponse(safe_next(next_url), status_code=303)
