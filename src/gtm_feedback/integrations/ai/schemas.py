"""Typed inputs and validated outputs of every agent."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

SENTENCE_END = re.compile(r"[.!?](?:\s|$)")


def at_most_two_sentences(value: str, what: str) -> str:
    """``value`` unchanged if it has at most two sentences; else a ValueError naming ``what``."""
    if len(SENTENCE_END.findall(value.strip())) > 2:
        raise ValueError(f"{what} must be at most two sentences")
    return value


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
        return at_most_two_sentences(value, "the description")


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


Figures = dict[str, float | int | str]


class SectionFigures(_Model):
    """One report section's computed figures."""

    kind: str
    figures: Figures


class ThemeDraft(_Model):
    """A group of related requests (by embedding similarity), highest ARR first."""

    group: int
    titles: list[str] = Field(min_length=1)
    slugs: list[str] = Field(min_length=1)


class InsightsBrief(_Model):
    """An area's prepared figures: what the insights agent turns into words."""

    area: str
    sections: list[SectionFigures]
    themes: list[ThemeDraft] = Field(default_factory=list)


class ThemeName(_Model):
    """A name for one theme group and up to three example requests (slugs) from it."""

    group: int
    name: str = Field(min_length=3, max_length=60)
    examples: list[str] = Field(default_factory=list, max_length=3)


class InsightsText(_Model):
    """A one or two sentence summary per section, and a name per theme."""

    summaries: dict[str, Annotated[str, Field(min_length=1, max_length=400)]]
    themes: list[ThemeName] = Field(default_factory=list)

    @field_validator("summaries")
    @classmethod
    def _short(cls, value: dict[str, str]) -> dict[str, str]:
        for text in value.values():
            at_most_two_sentences(text, "a summary")
        return value
