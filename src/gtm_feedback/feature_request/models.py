"""FeatureRequest ORM model and its association tables (areas, followers)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.enums import enum_column_type
from gtm_feedback.db.types import UTCDateTime
from gtm_feedback.db.vectors import EmbeddingColumns
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.user.models import User


class RequestStatus(StrEnum):
    """Where a request stands; deprioritized requests are left out of the ship rate."""

    OPEN = "open"
    SHIPPED = "shipped"
    DEPRIORITIZED = "deprioritized"


request_areas = Table(
    "request_areas",
    Base.metadata,
    Column("request_id", ForeignKey("feature_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("product_areas.id", ondelete="CASCADE"), primary_key=True),
)

request_followers = Table(
    "request_followers",
    Base.metadata,
    Column("request_id", ForeignKey("feature_requests.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False, default=utcnow),
)


class FeatureRequest(EmbeddingColumns, Base):
    """One thing customers want, with its feedback, followers and product areas."""

    __tablename__ = "feature_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("fr"))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RequestStatus] = mapped_column(
        enum_column_type(RequestStatus, "request_status"),
        default=RequestStatus.OPEN,
        index=True,
        active_history=True,  # the old status is loaded when set: view alerts name the change
    )
    creator_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    related_request_id: Mapped[str | None] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="SET NULL")
    )
    tracker_url: Mapped[str | None] = mapped_column(String(500))
    # A tombstone: merged into another request, kept so links and searches lead there.
    merged_into_id: Mapped[str | None] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="SET NULL"), index=True
    )
    related_links: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    # "metadata" is reserved by SQLAlchemy's declarative API; the column keeps the name.
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    areas: Mapped[list[ProductArea]] = relationship(
        secondary=request_areas, order_by=ProductArea.name
    )
    followers: Mapped[list[User]] = relationship(secondary=request_followers)
    creator: Mapped[User | None] = relationship(foreign_keys=[creator_id])
    related_request: Mapped[FeatureRequest | None] = relationship(
        remote_side=[id], foreign_keys=[related_request_id]
    )
    merged_into: Mapped[FeatureRequest | None] = relationship(
        remote_side=[id], foreign_keys=[merged_into_id]
    )


class RequestMerge(Base):
    """One merge of ``source`` into ``survivor``: exactly what moved, so unmerging restores it.

    The source's followers and areas stay on it (a tombstone shows no one); the ones the
    survivor lacked were added to it and are listed here. Its vector is kept here too: a
    tombstone is not a match candidate.
    """

    __tablename__ = "request_merges"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # the run that merged
    source_id: Mapped[str] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True
    )
    survivor_id: Mapped[str] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True
    )
    feedback_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    follower_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    area_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_embedding: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_embedding_model: Mapped[str | None] = mapped_column(String(80))
    source_embedding_key: Mapped[str | None] = mapped_column(String(64))
    merged_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_by: Mapped[str | None] = mapped_column(String(320))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DuplicateSuggestion(Base):
    """A pair of requests the duplicate sweep found alike, suggested once and never again."""

    __tablename__ = "duplicate_suggestions"

    pair: Mapped[str] = mapped_column(String(90), primary_key=True)  # "<id>|<id>", sorted
    source_id: Mapped[str] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True
    )
    survivor_id: Mapped[str] = mapped_column(
        ForeignKey("feature_requests.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # merged, declined…
    approval_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VectorIndexState(Base):
    """A counter bumped in the same transaction as any change to searchable vectors.

    Every process keeps its own in-memory index; comparing this one number before a search
    tells it whether another process changed the vectors since it last loaded them.
    """

    __tablename__ = "vector_index_state"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class VectorIndexChange(Base):
    """Which requests' searchable vectors a version changed (``*``: too many to say).

    A process whose index is a few versions behind reloads just these requests instead of
    everything; one further behind than the log reaches rebuilds.
    """

    __tablename__ = "vector_index_changes"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(String(200), primary_key=True)
