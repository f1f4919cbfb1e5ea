"""JSON API of the outbox: messages that did not go to Slack, each with the reason."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from gtm_feedback.outbox import service
from gtm_feedback.user.access import ADMIN
from gtm_feedback.web.deps import MAX_OFFSET, DbSession

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


@router.get("", response_model=list[OutboxMessageOut], dependencies=[ADMIN])
def list_messages(
    session: DbSession,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[OutboxMessageOut]:
    """The newest messages first."""
    rows = service.recent(session=session, limit=limit, offset=offset)
    return [OutboxMessageOut.model_validate(row) for row in rows]
