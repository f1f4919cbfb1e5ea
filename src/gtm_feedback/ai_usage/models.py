"""One row per agent run: which agent, on which engine and model, its tokens, time and cost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.types import UTCDateTime


class AgentCall(Base):
    """An agent run (all its attempts); ``cost_usd`` from ``GTMFB_LLM_PRICES`` at the time."""

    __tablename__ = "agent_calls"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("ai"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    agent: Mapped[str] = mapped_column(String(80), index=True)
    engine: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(120))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    fallback_reason: Mapped[str | None] = mapped_column(Text)
