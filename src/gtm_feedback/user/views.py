"""JSON API of users: who can be named as a follower, an owner or a submitter."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gtm_feedback.user import service
from gtm_feedback.user.access import VIEWER
from gtm_feedback.user.models import Role, User
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.pagination import Page, PageParams, paged

router = APIRouter(prefix="/api/users", tags=["users"])


class UserOut(BaseModel):
    """A user: never a password or a token, only whether Slack is linked."""

    id: str
    email: str
    name: str
    role: Role
    disabled: bool
    slack_linked: bool
    created_at: datetime


def user_out(user: User) -> UserOut:
    """One user as the API shows it."""
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=Role(user.role),
        disabled=user.disabled,
        slack_linked=user.slack_user_id is not None,
        created_at=user.created_at,
    )


@router.get("", response_model=Page[UserOut], dependencies=[VIEWER])
def list_users(
    session: DbSession,
    paging: PageParams,
    q: Annotated[str, Query(max_length=200, description="Part of the name or email")] = "",
    role: Role | None = None,
) -> Page[UserOut]:
    """Users by email, filtered by name or email and role."""
    return paged(session, service.listing(text=q, role=role), paging, user_out)
