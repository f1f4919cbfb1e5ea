"""API shapes of accounts and opportunities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.feedback.schemas import EmailLike, FeedbackOut


class OpportunityOut(BaseModel):
    """A deal on the account."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    arr: Decimal
    stage: str
    close_date: date | None
    is_open: bool = Field(description='Still in pipeline: the stage does not start with "closed"')


class AccountFeedback(FeedbackOut):
    """Feedback the account left, with the request it is on."""

    request_slug: str
    request_title: str


class ListedOpportunity(OpportunityOut):
    """A deal in the opportunities list, with its account."""

    account_id: str
    account_name: str


class AccountSummary(BaseModel):
    """An account as the list shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    type: str
    region: str | None
    arr: Decimal
    is_enterprise: bool
    website: str | None
    link: str | None
    owner_email: str | None


class AccountPatch(BaseModel):
    """What to change on an account (``owner_email: null`` clears the owner)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"owner_email": "ae@example.com"}]}
    )

    owner_email: EmailLike | None = Field(
        description="The AE or CSM who owns it in the CRM (a user is created if new)"
    )


class DealAskOut(BaseModel):
    """A request the account's feedback on a deal is about."""

    slug: str
    title: str
    blocks_deal: bool


class AccountDeal(OpportunityOut):
    """A deal of the account, with the requests its feedback on the deal is about."""

    requests: list[DealAskOut]


class AccountOut(AccountSummary):
    """An account with its deals, its open and blocked pipeline, and the feedback it left."""

    open_pipeline: Decimal = Field(description="ARR of the account's open deals")
    blocked_pipeline: Decimal = Field(description="ARR of its open deals some feedback blocks")
    opportunities: list[AccountDeal]
    feedback: list[AccountFeedback]
