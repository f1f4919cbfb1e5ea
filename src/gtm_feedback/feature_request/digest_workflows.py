"""The weekly digest: every Monday, last week's summary to each area's firehose channel and to
each follower, sent through the messaging adapter once per week (keys carry the ISO week)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import DB_RETRY, OUTBOUND_RETRY
from gtm_feedback.feature_request import digest
from gtm_feedback.integrations import adapters
from gtm_feedback.product_area import service as areas

SCHEDULE_NAME = "weekly-digest"


class WeeklyDigestInput(BaseModel):
    """The week to report on: any day of the week after it (default: the last full week)."""

    model_config = ConfigDict(extra="forbid")

    day: date | None = Field(
        default=None,
        ge=date(2000, 1, 10),  # the week before must be a week of this era
        le=date(9999, 12, 24),
        description="a day of the week after the one reported",
    )


class WeeklyDigestResult(BaseModel):
    """Which week, and how many digests went out (a repeated run sends none again)."""

    week: str
    channels: int
    followers: int


class Audience(BaseModel):
    """Who gets one digest: a channel or a user, and their requests."""

    key: str
    title: str
    channel: str | None = None
    user_id: str | None = None
    request_ids: list[str]


@DBOS.step(**DB_RETRY)
def today_step() -> str:
    """Today's date (a step: the body must not read the clock)."""
    return date.today().isoformat()


@DBOS.step(**DB_RETRY)
def audiences_step(week: str) -> list[Audience]:
    """Every area with a firehose channel, and every follower."""
    with session_scope(adapters.current().settings.app_database_url) as session:
        found = [
            Audience(
                key=f"digest:{week}:area:{area.id}",
                title=f"{area.name}: the week {week}",
                channel=area.firehose_channel,
                request_ids=sorted(digest.area_requests(session, area.id)),
            )
            for area in areas.list_areas(session=session)
            if area.firehose_channel
        ]
        for user_id, ids in sorted(digest.followed_requests(session).items()):
            found.append(
                Audience(
                    key=f"digest:{week}:user:{user_id}",
                    title=f"Requests you follow: the week {week}",
                    user_id=user_id,
                    request_ids=sorted(ids),
                )
            )
        return found


@DBOS.step(**OUTBOUND_RETRY)
def send_digest_step(audience: Audience, start: str, end: str) -> bool:
    """Send one digest (nothing when nothing happened); True if sent now."""
    found = adapters.current()
    with session_scope(found.settings.app_database_url) as session:
        week = digest.summarise(
            session, set(audience.request_ids), date.fromisoformat(start), date.fromisoformat(end)
        )
    if week.empty:
        return False
    body = digest.text(audience.title, week, found.settings.base_url)
    sent = found.messenger.send(
        key=audience.key,
        kind="digest",
        text=body,
        recipient_user_id=audience.user_id,
        channel=audience.channel,
    )
    return sent.sent_now


def send_week(day: date) -> WeeklyDigestResult:
    """The body: the week before ``day``'s week, to every audience."""
    start, end = digest.week_of(day)
    label = digest.week_label(start)
    channels = followers = 0
    for audience in audiences_step(label):
        if send_digest_step(audience, start.isoformat(), end.isoformat()):
            channels += audience.channel is not None
            followers += audience.user_id is not None
    return WeeklyDigestResult(week=label, channels=channels, followers=followers)


@DBOS.workflow()
def weekly_digest_workflow(data: WeeklyDigestInput) -> WeeklyDigestResult:
    """Last week's digest (or the week before ``data.day``'s week)."""
    day = data.day or date.fromisoformat(today_step())
    return send_week(day)


@DBOS.workflow()
def scheduled_weekly_digest_workflow(scheduled_at: datetime, context: Any) -> WeeklyDigestResult:
    """The Monday run of the ``weekly-digest`` schedule."""
    return send_week(scheduled_at.date())


STARTABLE = Startable(
    "weekly-digest",
    WeeklyDigestInput,
    weekly_digest_workflow,
    "Last week's digest to every area firehose channel and every follower, once a week.",
)
