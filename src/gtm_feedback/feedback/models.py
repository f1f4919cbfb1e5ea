"""Feedback ORM model and its enums."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.enums import enum_column_type
from gtm_feedback.db.types import UTCDateTime
from gtm_feedback.db.vectors import EmbeddingColumns
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.user.models import User


class Severity(StrEnum):
    """How much the pain hurts the customer."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def label(self) -> str:
        """The wording people see."""
        return SEVERITY_LABELS[self]


SEVERITY_LABELS = {
    Severity.LOW: "Nice to have",
    Severity.MEDIUM: "Significant pain",
    Severity.HIGH: "Dealbreaker",
}


class CreationSource(StrEnum):
    """Whether a person attached the feedback or the matching agent did."""

    MANUAL = "manual"
    AGENT = "agent"


class FeedbackSource(StrEnum):
    """The front door the feedback came through."""

    UI = "ui"
    API = "api"
    SLACK = "slack"
    IMPORT = "import"


class MatchTier(StrEnum):
    """The matching outcome that placed the feedback on its request."""

    AUTO = "auto"
    APPROVED = "approved"
    CREATED = "created"


class Feedback(EmbeddingColumns, Base):
    """A single customer's pain on one request, with how it got there."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("fb"))
    request_id: Mapped[str] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    opportunity_id: Mapped[str | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    #: The named (open) deal will not close without this: it counts as blocked pipeline.
    blocks_deal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    severity: Mapped[Severity] = mapped_column(enum_column_type(Severity, "severity"))
    description: Mapped[str] = mapped_column(Text)
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    creator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    creation_source: Mapped[CreationSource] = mapped_column(
        enum_column_type(CreationSource, "creation_source"), default=CreationSource.MANUAL
    )
    source: Mapped[FeedbackSource] = mapped_column(
        enum_column_type(FeedbackSource, "feedback_source"), default=FeedbackSource.UI
    )
    match_tier: Mapped[MatchTier | None] = mapped_column(enum_column_type(MatchTier, "match_tier"))
    match_confidence: Mapped[float | None] = mapped_column(Float)
    match_reason: Mapped[str | None] = mapped_column(Text)
    match_candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def severity_label(self) -> str:
        """The severity as people read it (e.g. "Dealbreaker")."""
        return self.severity.label

    request: Mapped[FeatureRequest] = relationship()
    account: Mapped[Account] = relationship()
    opportunity: Mapped[Opportunity | None] = relationship()
    creator: Mapped[User | None] = relationship()
