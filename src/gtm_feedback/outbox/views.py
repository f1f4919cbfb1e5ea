"""JSON API of the outbox: messages that did not go to Slack, each with the reason."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from gtm_feedback.outbox import service
from gtm_feedback.user.access import ADMIN
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.pagination import Page, PageParams, paged

router = APIRouter(prefix="/api/outbox", tags=["outbox"])


class OutboxMessageOut(BaseModel):
    """One recorded message."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    kind: str
    recipient_user_id: str | None
    channel: str | None
    text: str
    reason: str | None = None
    created_at: datetime


@router.get("", response_model=Page[OutboxMessageOut], dependencies=[ADMIN])
def list_messages(session: DbSession, paging: PageParams) -> Page[OutboxMessageOut]:
    """The newest messages first."""
    return paged(session, service.newest_first(), paging, OutboxMessageOut.model_validate)
