"""ProductArea ORM model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.types import UTCDateTime


class ProductArea(Base):
    """A part of the product that owns feature requests (e.g. "API & Developer Tools")."""

    __tablename__ = "product_areas"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("area"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    firehose_channel: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
