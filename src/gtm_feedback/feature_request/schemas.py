"""API shapes of feature requests."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

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
    open_pipeline: Decimal = Field(description="ARR of the distinct open deals its feedback names")
    open_deals: int
    blocked_pipeline: Decimal = Field(description="ARR of the open deals its feedback blocks")
    blocked_deals: int
    score: float = Field(description="The weighted priority score (GET /api/priority/weights)")
    last_activity_at: datetime
    url: str
    #: Set on a merged request (found only by a text search, as a pointer): where it went.
    merged_into: str | None = None


class FeedbackWithAccount(FeedbackOut):
    """Feedback on a request, with the account's name and ARR."""

    account_name: str
    account_arr: Decimal
    account_is_enterprise: bool


class ScoreTerm(BaseModel):
    """One term of the priority score: amount × weight = points."""

    name: str
    label: str
    amount: float
    weight: float
    points: float


class RequestDetail(RequestSummary):
    """Everything about one request."""

    score_breakdown: list[ScoreTerm]

    description: str
    tracker_url: str | None
    related_request_slug: str | None
    followers: list[str]
    feedback: list[FeedbackWithAccount]
    created_at: datetime


class RequestPatch(BaseModel):
    """The fields to change; a field left out stays as it is (``tracker_url: null`` clears)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"status": "deprioritized"},
                {"title": "SSO with Okta (SAML)", "areas": ["security"]},
                {"tracker_url": "https://tracker.example.com/PROJ-42"},
            ]
        },
    )

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    status: RequestStatus | None = Field(
        default=None, description="`shipped` starts the mark-shipped run, which tells followers"
    )
    areas: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, min_length=1, max_length=20, description="Product area slugs: all of them"
    )
    tracker_url: HttpUrl | None = Field(default=None, max_length=500)


class RequestEdited(RequestDetail):
    """The request as changed, with the fields that changed and the mark-shipped run, if any."""

    changed: list[str]
    run_id: str | None


class Following(BaseModel):
    """Whether the caller follows the request, and how many do."""

    request: str
    following: bool
    followers: int
