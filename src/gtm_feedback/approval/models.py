"""Approval ORM model."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, utcnow
from gtm_feedback.db.enums import enum_column_type
from gtm_feedback.db.types import UTCDateTime


class ApprovalStatus(StrEnum):
    """Pending until a person decides; a timed-out wait stays pending for manual review."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"


class Approval(Base):
    """A question put to a person on behalf of a waiting workflow."""

    __tablename__ = "approvals"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    workflow_id: Mapped[str] = mapped_column(String(200), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ApprovalStatus] = mapped_column(
        enum_column_type(ApprovalStatus, "approval_status"),
        default=ApprovalStatus.PENDING,
        index=True,
    )
    requested_from_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
