"""Typed inputs and validated outputs of every agent."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AreaOption(_Model):
    """A product area the writer may choose."""

    id: str
    name: str
    description: str = ""


class RequestDraftInput(_Model):
    """A customer pain to turn into a new feature request."""

    pain: str
    areas: list[AreaOption] = Field(min_length=1)


class RequestDraft(_Model):
    """A new request: short title, the pain (not a solution) in at most two sentences, areas."""

    title: str = Field(min_length=10, max_length=200)
    description: str = Field(min_length=50, max_length=500)
    area_ids: list[str] = Field(min_length=1)

    @field_validator("description")
    @classmethod
    def _two_sentences(cls, value: str) -> str:
        if len(_SENTENCE_END.findall(value.strip())) > 2:
            raise ValueError("the description must be at most two sentences")
        return value


class RequestOption(_Model):
    """An existing request that could be related."""

    id: str
    title: str
    description: str = ""


class RelatedInput(_Model):
    """A new request and the existing ones it might relate to."""

    title: str
    description: str = ""
    candidates: list[RequestOption]


class Related(_Model):
    """The related (not identical) request, if any."""

    related_request_id: str | None
    confidence: float = Field(ge=0, le=1)
    reason: str


class ExtractInput(_Model):
    """A Slack message, or a thread with its root first."""

    messages: list[str] = Field(min_length=1)


class Extraction(_Model):
    """The customer pain in a message, without greetings, signatures or quoted noise."""

    pain: str
    summary: str = Field(max_length=150)
    is_customer_specific: bool


class MessageKind(StrEnum):
    """The messages the product sends."""

    MATCH_CONFIRMATION = "match_confirmation"
    APPROVAL_REQUEST = "approval_request"
    PROPOSAL = "proposal"
    CREATED = "created"
    SHIPPED = "shipped"
    FOLLOW_UP = "follow_up"


class ComposeInput(_Model):
    """What a message is about; links are absolute URLs."""

    kind: MessageKind
    request_title: str
    request_url: str
    pain: str = ""
    account_name: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)
    recipient_name: str | None = None


class Composed(_Model):
    """A short, friendly Slack mrkdwn text."""

    text: str = Field(min_length=1, max_length=3000)


class UserOption(_Model):
    """A known user."""

    id: str
    email: str
    name: str = ""


class IdentityInput(_Model):
    """An email to resolve among the known users."""

    email: str
    users: list[UserOption]


class IdentityMatch(_Model):
    """The user the email belongs to, or none."""

    user_id: str | None
    reason: str


class NarrativeInput(_Model):
    """One report section's computed figures."""

    area: str
    section: str
    figures: dict[str, float | int | str]


class Narrative(_Model):
    """One or two sentences summarising the figures."""

    summary: str = Field(min_length=1, max_length=400)

    @field_validator("summary")
    @classmethod
    def _short(cls, value: str) -> str:
        if len(_SENTENCE_END.findall(value.strip())) > 2:
            raise ValueError("the summary must be one or two sentences")
        return value
