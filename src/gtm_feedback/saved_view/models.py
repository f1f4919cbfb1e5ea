"""Saved views, their subscriptions, the log of request changes and the alerts owed."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.enums import enum_column_type
from gtm_feedback.db.types import UTCDateTime
from gtm_feedback.user.models import User


class Frequency(StrEnum):
    """When a subscriber hears of a view's new items."""

    IMMEDIATE = "immediate"  # one message per item, within a minute
    DAILY = "daily"  # one message a day listing the day's items


class ChangeKind(StrEnum):
    """What happened to a request."""

    FEEDBACK = "feedback"  # new feedback landed on it
    STATUS = "status"  # its status changed


class SavedView(Base):
    """The requests page's filters under a name; everyone sees it, its owner may delete it."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("sv"))
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    owner: Mapped[User] = relationship()
    subscriptions: Mapped[list[ViewSubscription]] = relationship(
        back_populates="view", cascade="all, delete-orphan", passive_deletes=True
    )


class ViewSubscription(Base):
    """A user's alerts on one view: which changes, how often, and where (their DM or a channel)."""

    __tablename__ = "view_subscriptions"
    __table_args__ = (UniqueConstraint("view_id", "user_id", "channel"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("vs"))
    view_id: Mapped[str] = mapped_column(
        ForeignKey("saved_views.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: A Slack channel; empty: a DM to the subscriber (the outbox when Slack cannot take it).
    channel: Mapped[str] = mapped_column(String(80), default="")
    on_feedback: Mapped[bool] = mapped_column(Boolean, default=True)
    on_status: Mapped[bool] = mapped_column(Boolean, default=True)
    frequency: Mapped[Frequency] = mapped_column(
        enum_column_type(Frequency, "alert_frequency"), default=Frequency.IMMEDIATE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    view: Mapped[SavedView] = relationship(back_populates="subscriptions")
    user: Mapped[User] = relationship()


class RequestChange(Base):
    """A change alerts may be owed for, written in the change's own transaction (``changes``).

    Routing reads the rows not yet routed, so a change committed late is not skipped.
    """

    __tablename__ = "request_changes"
    # The kicker's look for work, every few seconds: straight to the oldest unrouted change,
    # past the routed many (min(id) alone walks them all on SQLite, id being its rowid).
    __table_args__ = (Index("ix_request_changes_routed_id", "routed", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[ChangeKind] = mapped_column(enum_column_type(ChangeKind, "change_kind"))
    feedback_id: Mapped[str | None] = mapped_column(String(40))
    old_status: Mapped[str | None] = mapped_column(String(20))
    new_status: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    routed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ViewAlert(Base):
    """One item a subscription is owed, recorded once (the unique key) and sent once."""

    __tablename__ = "view_alerts"
    __table_args__ = (
        UniqueConstraint("subscription_id", "change_id"),
        Index("ix_view_alerts_sent_at_id", "sent_at", "id"),  # the oldest unsent, likewise
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("view_subscriptions.id", ondelete="CASCADE"), index=True
    )
    change_id: Mapped[int] = mapped_column(
        ForeignKey("request_changes.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    #: The daily digest that took it (``YYYY-MM-DD``), or empty.
    digest_day: Mapped[str] = mapped_column(String(10), default="", index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
