"""InsightReport ORM model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.types import UTCDateTime


class InsightReport(Base):
    """One generated report for one product area, and the workflow run that made it."""

    __tablename__ = "insight_reports"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ins"))
    area_id: Mapped[str] = mapped_column(
        ForeignKey("product_areas.id", ondelete="CASCADE"), index=True
    )
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Headline tiles and top requests: the rest of the typed report (insight.schemas.Report).
    overview: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_id: Mapped[str | None] = mapped_column(String(200))
    generated_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    engine: Mapped[str | None] = mapped_column(String(20))
