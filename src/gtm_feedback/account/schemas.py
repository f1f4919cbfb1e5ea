"""API shapes of accounts and opportunities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from gtm_feedback.feedback.schemas import FeedbackOut


class OpportunityOut(BaseModel):
    """A deal on the account."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    arr: Decimal
    stage: str
    close_date: date | None


class AccountFeedback(FeedbackOut):
    """Feedback the account left, with the request it is on."""

    request_slug: str
    request_title: str


class AccountOut(BaseModel):
    """An account with its deals and the feedback it left."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    type: str
    region: str | None
    arr: Decimal
    is_enterprise: bool
    website: str | None
    link: str | None
    opportunities: list[OpportunityOut]
    feedback: list[AccountFeedback]
