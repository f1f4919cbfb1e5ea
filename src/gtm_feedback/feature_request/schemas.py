"""API shapes of feature requests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel

from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feedback.models import Severity
from gtm_feedback.feedback.schemas import FeedbackOut


class AreaRef(BaseModel):
    """A product area named on a request."""

    slug: str
    name: str


class RequestSummary(BaseModel):
    """A request with the figures that rank it."""

    id: str
    slug: str
    title: str
    status: RequestStatus
    areas: list[AreaRef]
    arr: Decimal
    dealbreaker_arr: Decimal
    account_count: int
    feedback_count: int
    highest_severity: Severity | None
    last_activity_at: datetime
    url: str
    #: Set on a merged request (found only by a text search, as a pointer): where it went.
    merged_into: str | None = None


class RequestPage(BaseModel):
    """One page of the requests list."""

    items: list[RequestSummary]
    total: int
    limit: int
    offset: int


class FeedbackWithAccount(FeedbackOut):
    """Feedback on a request, with the account's name and ARR."""

    account_name: str
    account_arr: Decimal
    account_is_enterprise: bool


class RequestDetail(RequestSummary):
    """Everything about one request."""

    description: str
    tracker_url: str | None
    related_request_slug: str | None
    followers: list[str]
    feedback: list[FeedbackWithAccount]
    created_at: datetime
