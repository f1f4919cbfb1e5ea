"""API shapes of feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationInfo,
    field_validator,
)

from gtm_feedback.feedback.models import FeedbackSource, MatchTier, Severity
from gtm_feedback.matching.tiers import Tier
from gtm_feedback.text.formats import email_address

EmailLike = Annotated[str, Field(max_length=320), AfterValidator(email_address)]


class FeedbackOut(BaseModel):
    """One piece of feedback as lists show it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    request_id: str
    account_id: str
    opportunity_id: str | None
    blocks_deal: bool
    severity: Severity
    severity_label: str
    description: str
    links: list[str]
    source: FeedbackSource
    match_tier: MatchTier | None
    match_confidence: float | None
    created_at: datetime


class ListedFeedback(FeedbackOut):
    """Feedback in the feedback list, with its request and account named."""

    request_slug: str
    request_title: str
    account_name: str


class AutoAttachOut(BaseModel):
    """Feedback matching attached on its own: where it went, how sure it was, and why."""

    feedback_id: str
    pain: str
    request_slug: str
    request_title: str
    account_id: str
    account_name: str
    confidence: float | None
    reason: str | None
    created_at: datetime


class FeedbackIn(BaseModel):
    """Feedback as an API caller sends it; validated before any work (where it came from is
    not the caller's to say: the API stamps it)."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "pain": "Our IT team will only buy if users sign in through Okta.",
                    "severity": "high",
                    "account_id": "acc_001",
                    "links": ["https://crm.example.com/deals/42"],
                    "submitter_email": "ae@example.com",
                }
            ]
        },
    )

    pain: str = Field(min_length=1, max_length=10_000, description="The customer pain.")
    severity: Severity
    account_id: str = Field(min_length=1, max_length=64)
    opportunity_id: str | None = Field(default=None, max_length=64)
    blocks_deal: bool = Field(
        default=False, description="The named open opportunity will not close without this."
    )
    links: list[HttpUrl] = Field(default_factory=list, max_length=20)
    submitter_email: EmailLike

    @field_validator("blocks_deal")
    @classmethod
    def _deal_named(cls, value: bool, info: ValidationInfo) -> bool:
        # A field error (not a model one) so forms show it next to the box.
        if value and not info.data.get("opportunity_id"):
            raise ValueError("name the opportunity (the deal) that this blocks")
        return value

    def submission(self, source: FeedbackSource = FeedbackSource.API) -> FeedbackSubmission:
        """The submission, stamped with where it came from."""
        return FeedbackSubmission.model_validate({**self.model_dump(), "source": source})


class FeedbackSubmission(FeedbackIn):
    """Feedback as a person submits it (web form, API, Slack), with where it came from."""

    source: FeedbackSource = FeedbackSource.API


class ProcessFeedbackInput(BaseModel):
    """The workflow's input: the submission and its id (the run id is derived from it)."""

    submission_id: str
    submission: FeedbackSubmission


#: What processing did: attached to a request, wrote a new one, or waits for a person.
Outcome = Literal["attached", "created", "waiting"]


class ProcessFeedbackResult(BaseModel):
    """Which tier, what happened, which request, and the candidates considered."""

    submission_id: str
    tier: Tier
    outcome: Outcome
    request_id: str | None
    feedback_id: str | None
    confidence: float | None
    candidates: list[dict[str, Any]]
    decision_run_id: str | None = None  # the run that waits for a person (approval tier)


class CreateRequestInput(BaseModel):
    """A person asks for a new request: the AI writer drafts it from the customer pain."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    pain: str = Field(
        min_length=1, max_length=10_000, description="The customer pain to write it from."
    )
    creator_email: EmailLike


class CreateRequestResult(BaseModel):
    """The request written, its related request, and the run that will follow up."""

    request_id: str
    slug: str
    title: str
    related_request_id: str | None
    followup_run_id: str
