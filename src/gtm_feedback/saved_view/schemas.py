"""The saved views API's bodies and answers."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from gtm_feedback.saved_view.filters import ViewFilters
from gtm_feedback.saved_view.models import Frequency, SavedView, ViewSubscription

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
#: A Slack channel id (``C0123ABC``) or name (``#gtm-alerts``), as ``chat.postMessage`` takes.
_CHANNEL = re.compile(r"^(#?[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,30})$")


class ViewIn(BaseModel):
    """A view to save: its name and the requests page's filters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Enterprise dealbreakers",
                    "filters": {"severity": "high", "enterprise": True, "status": "open"},
                }
            ]
        },
    )

    name: Name
    filters: ViewFilters = Field(default_factory=ViewFilters)


class SubscriptionIn(BaseModel):
    """What to be told about, how often, and where (empty channel: a DM to you)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"frequency": "daily", "channel": "#gtm-alerts", "on_status": False}]
        },
    )

    on_feedback: bool = Field(default=True, description="new feedback on a request in the view")
    on_status: bool = Field(default=True, description="a request in the view changes status")
    frequency: Frequency = Frequency.IMMEDIATE
    channel: str = Field(default="", max_length=80, description="a Slack channel, or empty")

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        value = value.strip()
        if value and not _CHANNEL.match(value):
            raise ValueError("a Slack channel id (C0123ABC) or name (#gtm-alerts)")
        return value


class SubscriptionOut(BaseModel):
    """One subscription to a view."""

    id: str
    user_email: str
    channel: str
    on_feedback: bool
    on_status: bool
    frequency: Frequency

    @classmethod
    def of(cls, sub: ViewSubscription) -> SubscriptionOut:
        """The answer for ``sub`` (its user loaded)."""
        return cls(
            id=sub.id,
            user_email=sub.user.email,
            channel=sub.channel,
            on_feedback=sub.on_feedback,
            on_status=sub.on_status,
            frequency=sub.frequency,
        )


class ViewOut(BaseModel):
    """A saved view: its filters, the requests page showing it, and who is subscribed."""

    id: str
    name: str
    owner_email: str
    filters: ViewFilters
    description: str
    url: str
    subscriptions: list[SubscriptionOut]

    @classmethod
    def of(cls, view: SavedView) -> ViewOut:
        """The answer for ``view`` (owner and subscriptions loaded)."""
        filters = ViewFilters.model_validate(view.filters)
        return cls(
            id=view.id,
            name=view.name,
            owner_email=view.owner.email,
            filters=filters,
            description=filters.describe(),
            url=filters.url(),
            subscriptions=[SubscriptionOut.of(sub) for sub in view.subscriptions],
        )
