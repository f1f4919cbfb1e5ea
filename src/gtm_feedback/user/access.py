"""Who is asking, and may they: every route declares the role it needs with one dependency.

A request is authenticated by an API token (``Authorization: Bearer``) or by the signed
session cookie of a person who signed in; either way it acts as a user with that user's role.
Routes declare ``dependencies=[VIEWER]`` (or take ``who: Approver``…); ``PUBLIC`` marks the
few that need no one (health probes, sign-in, Slack's signature-checked URLs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Request

from gtm_feedback.config import Settings
from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import ForbiddenError, UnauthenticatedError
from gtm_feedback.user import tokens
from gtm_feedback.user.audit import Actor
from gtm_feedback.user.models import Role, User


@dataclass(frozen=True)
class Principal:
    """The user a request acts as, the role it acts with, and how it proved it."""

    user_id: str
    email: str
    name: str
    role: Role
    token_name: str | None = None
    address: str = ""

    @property
    def actor(self) -> Actor:
        """This principal as the audit log shows it."""
        via = "" if self.token_name is None else f" (token {self.token_name})"
        return Actor(self.user_id, self.email, f"{self.address}{via}")

    def may(self, needed: Role | str) -> bool:
        """True when this principal's role allows what ``needed`` allows."""
        return self.role.allows(Role(needed))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _principal(user: User, request: Request, token_name: str | None = None) -> Principal:
    return Principal(user.id, user.email, user.name, Role(user.role), token_name, _address(request))


def _from_token(request: Request, presented: str) -> Principal:
    url = _settings(request).app_database_url
    with session_scope(url) as session:
        found = tokens.verify(session=session, presented=presented)
        if found is None:
            raise UnauthenticatedError("the API token is not valid (unknown, expired or revoked)")
        row, user = found
        who = _principal(user, request, token_name=row.name)
        if tokens.due_for_last_used(row, utcnow()):
            request.state.touch_token = row.id
    return who


def _touch(url: str, token_id: str) -> None:
    # After the answer: the route may hold this process's SQLite write turn until then.
    with session_scope(url, write=True) as session:
        tokens.touch(session=session, token_id=token_id)


def _from_session(request: Request) -> Principal | None:
    cookie: dict[str, Any] = request.session
    user_id, now = cookie.get("uid"), time.time()
    if not isinstance(user_id, str):
        return None
    settings = _settings(request)
    started, seen = float(cookie.get("iat", 0)), float(cookie.get("seen", 0))
    if now - started > settings.session_max_age or now - seen > settings.session_idle_timeout:
        cookie.clear()
        return None
    with session_scope(settings.app_database_url) as session:
        user = session.get(User, user_id)
        if user is None or user.disabled or user.session_version != cookie.get("ver"):
            cookie.clear()
            return None
        who = _principal(user, request)
    if now - seen > 60:
        cookie["seen"] = now  # the idle clock restarts at most once a minute (one cookie write)
    return who


def identify(request: Request) -> Principal | None:
    """The principal of this request, or None when it carries no credential.

    A bearer token that is not valid is refused (401) rather than treated as anonymous.
    """
    known = getattr(request.state, "principal", None)
    if isinstance(known, Principal):
        return known
    header = request.headers.get("authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() == "bearer":
        who: Principal | None = _from_token(request, presented.strip())
    else:
        who = _from_session(request) if "session" in request.scope else None
    request.state.principal = who
    return who


def start_session(request: Request, user: User) -> None:
    """Sign ``user`` in on this browser (a fresh cookie: nothing of an earlier one is kept)."""
    now = time.time()
    request.session.clear()
    request.session.update({"uid": user.id, "ver": user.session_version, "iat": now, "seen": now})


class Requires:
    """The dependency that lets a request through only with ``role`` (None: anyone)."""

    def __init__(self, role: Role | None) -> None:
        self.role = role

    def __repr__(self) -> str:
        return f"Requires({self.role.value if self.role else 'public'})"

    def __call__(self, request: Request, background: BackgroundTasks) -> Principal | None:
        if self.role is None:
            return None  # public: credentials are not even looked at
        who = identify(request)
        touch = getattr(request.state, "touch_token", None)
        if touch is not None:
            request.state.touch_token = None
            background.add_task(_touch, _settings(request).app_database_url, touch)
        if who is None:
            raise UnauthenticatedError("sign in, or send an API token (Authorization: Bearer)")
        if not who.may(self.role):
            raise ForbiddenError(f"this needs the {self.role.value} role; you are {who.role.value}")
        return who


PUBLIC_CHECK = Requires(None)
VIEWER_CHECK = Requires(Role.viewer)
MEMBER_CHECK = Requires(Role.member)
APPROVER_CHECK = Requires(Role.approver)
ADMIN_CHECK = Requires(Role.admin)

#: For ``dependencies=[…]`` when the handler does not need to know who asked.
PUBLIC = Depends(PUBLIC_CHECK)
VIEWER = Depends(VIEWER_CHECK)
MEMBER = Depends(MEMBER_CHECK)
APPROVER = Depends(APPROVER_CHECK)
ADMIN = Depends(ADMIN_CHECK)

#: For a handler parameter when it does: ``who: Approver``.
Viewer = Annotated[Principal, Depends(VIEWER_CHECK)]
Member = Annotated[Principal, Depends(MEMBER_CHECK)]
Approver = Annotated[Principal, Depends(APPROVER_CHECK)]
Admin = Annotated[Principal, Depends(ADMIN_CHECK)]
