"""API shapes of feedback."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from gtm_feedback.feedback.models import FeedbackSource, MatchTier, Severity


class FeedbackOut(BaseModel):
    """One piece of feedback as lists show it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    request_id: str
    account_id: str
    opportunity_id: str | None
    severity: Severity
    severity_label: str
    description: str
    links: list[str]
    source: FeedbackSource
    match_tier: MatchTier | None
    match_confidence: float | None
    created_at: datetime
