"""The weekly digest's figures and text: what happened to requests in one week (no I/O but reads).

Per area (for its firehose channel): new requests, the requests that gained the most ARR from
feedback left that week, and what shipped. Per follower: the same, for the requests they follow.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account
from gtm_feedback.feature_request.models import FeatureRequest, request_areas, request_followers
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.text.formats import money
from gtm_feedback.text.markup import clip, mrkdwn_escape

TOP = 5


def week_of(day: date) -> tuple[date, date]:
    """The Monday-to-Monday week before the week of ``day`` (a Monday run reports last week)."""
    monday = day - timedelta(days=day.weekday())
    return monday - timedelta(days=7), monday


def week_label(start: date) -> str:
    """``2026-W47``: the ISO week, used in message keys (one digest per week)."""
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeekSummary:
    """One audience's week: new requests, ARR gained, shipped (title, slug, figure)."""

    new: list[tuple[str, str]] = field(default_factory=list)
    gained: list[tuple[str, str, Decimal]] = field(default_factory=list)
    shipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing happened."""
        return not (self.new or self.gained or self.shipped)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC)


def summarise(session: Session, request_ids: set[str], start: date, end: date) -> WeekSummary:
    """The week of the given requests."""
    if not request_ids:
        return WeekSummary()
    since, until = _bounds(start, end)
    rows = list(session.scalars(select(FeatureRequest).where(FeatureRequest.id.in_(request_ids))))
    new = [r for r in rows if since <= r.created_at < until]
    shipped = [r for r in rows if r.shipped_at is not None and since <= r.shipped_at < until]
    gained: dict[str, dict[str, Decimal]] = defaultdict(dict)
    week_feedback = session.execute(
        select(Feedback.request_id, Account.id, Account.arr)
        .join(Account, Account.id == Feedback.account_id)
        .where(Feedback.request_id.in_(request_ids), Feedback.created_at >= since)
        .where(Feedback.created_at < until)
    )
    for request_id, account_id, arr in week_feedback:
        gained[request_id][account_id] = arr
    by_id = {r.id: r for r in rows}
    top = sorted(gained.items(), key=lambda item: -sum(item[1].values(), Decimal(0)))[:TOP]
    return WeekSummary(
        new=[(r.title, r.slug) for r in new],
        gained=[(by_id[rid].title, by_id[rid].slug, sum(a.values(), Decimal(0))) for rid, a in top],
        shipped=[(r.title, r.slug) for r in shipped],
    )


def area_requests(session: Session, area_id: str) -> set[str]:
    """Every request of the area."""
    query = select(request_areas.c.request_id).where(request_areas.c.area_id == area_id)
    return set(session.scalars(query))


def followed_requests(session: Session) -> dict[str, set[str]]:
    """The requests each user follows, by user id."""
    followed: dict[str, set[str]] = defaultdict(set)
    for request_id, user_id in session.execute(
        select(request_followers.c.request_id, request_followers.c.user_id)
    ):
        followed[user_id].add(request_id)
    return dict(followed)


def text(title: str, summary: WeekSummary, base_url: str) -> str:
    """The digest as Slack mrkdwn (user text escaped)."""

    def link(name: str, slug: str) -> str:
        return f"<{base_url}/requests/{slug}|{mrkdwn_escape(clip(name, 90))}>"

    lines = [f"*{mrkdwn_escape(title)}*"]
    if summary.new:
        lines.append(
            f"New requests ({len(summary.new)}): " + ", ".join(link(*r) for r in summary.new[:TOP])
        )
    if summary.gained:
        lines.append(
            "ARR added by this week's feedback: "
            + ", ".join(f"{link(name, slug)} +{money(arr)}" for name, slug, arr in summary.gained)
        )
    if summary.shipped:
        lines.append("Shipped: " + ", ".join(link(*r) for r in summary.shipped))
    return "\n".join(lines)
