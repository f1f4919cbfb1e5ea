"""From logged changes to alerts: each subscription whose view shows a change is owed it once
(a unique key per subscription and change), then it is sent once, alone or in a daily digest."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.db.base import utcnow
from gtm_feedback.db.upsert import insert_for
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.logging import get_logger
from gtm_feedback.saved_view.filters import ViewFilters
from gtm_feedback.saved_view.models import (
    ChangeKind,
    Frequency,
    RequestChange,
    SavedView,
    ViewAlert,
    ViewSubscription,
)
from gtm_feedback.text.markup import clip, mrkdwn_escape

log = get_logger(__name__)

#: Changes routed per run; the next run takes the rest.
BATCH = 500
#: Routed changes (and their alerts) are deleted after this long.
KEEP = timedelta(days=90)


class PendingAlert(BaseModel):
    """An alert to send: where, and its line."""

    id: int
    subscription_id: str
    change_id: int
    user_id: str
    channel: str
    view_name: str
    view_url: str
    text: str


def route(session: Session, base_url: str) -> int:
    """Record the alerts owed for the oldest changes not routed yet (a batch); returns how
    many were new."""
    pending = list(
        session.scalars(
            select(RequestChange)
            .where(RequestChange.routed.is_(False))
            .order_by(RequestChange.id)
            .limit(BATCH)
        )
    )
    if not pending:
        return 0
    lines = _lines(session, pending, base_url)
    rows: list[dict[str, Any]] = []
    for view in session.scalars(select(SavedView).options(selectinload(SavedView.subscriptions))):
        filters = _filters(view)
        if filters is None or not view.subscriptions:
            continue
        shown = _shown(session, filters, pending)
        for sub in view.subscriptions:
            wanted = {ChangeKind.FEEDBACK: sub.on_feedback, ChangeKind.STATUS: sub.on_status}
            rows += [
                {"subscription_id": sub.id, "change_id": c.id, "text": lines[c.id]}
                for c in shown
                if wanted[c.kind] and c.at >= sub.created_at  # news from when one subscribed
            ]
    added = _insert_new(session, rows)
    done = [change.id for change in pending]
    session.execute(update(RequestChange).where(RequestChange.id.in_(done)).values(routed=True))
    return added


def prune(session: Session) -> None:
    """Delete routed changes older than :data:`KEEP`, and their alerts (once a day)."""
    old = select(RequestChange.id).where(
        RequestChange.routed.is_(True), RequestChange.at < utcnow() - KEEP
    )
    session.execute(delete(ViewAlert).where(ViewAlert.change_id.in_(old)))
    session.execute(delete(RequestChange).where(RequestChange.id.in_(old)))


def _filters(view: SavedView) -> ViewFilters | None:
    try:
        return ViewFilters.model_validate(view.filters)
    except ValidationError:  # saved by an older version with a value since dropped
        log.warning("saved_view.filters_unreadable", view_id=view.id, filters=view.filters)
        return None


def _shown(
    session: Session, filters: ViewFilters, changes: list[RequestChange]
) -> list[RequestChange]:
    # New feedback counts where the view shows its request now. A status change counts where the
    # view shows the request but for its status, and the status it left or took is the view's.
    ids = {change.request_id for change in changes}
    with_status = requests.matching_ids(session=session, query=filters.query(), among=ids)
    any_status = requests.matching_ids(
        session=session, query=filters.query(status=False), among=ids
    )
    wanted = filters.status.value if filters.status else None
    return [
        change
        for change in changes
        if (change.kind is ChangeKind.FEEDBACK and change.request_id in with_status)
        or (
            change.kind is ChangeKind.STATUS
            and change.request_id in any_status
            and wanted in (None, change.old_status, change.new_status)
        )
    ]


def _lines(session: Session, changes: list[RequestChange], base_url: str) -> dict[int, str]:
    found = requests.by_ids(session=session, ids={change.request_id for change in changes})
    feedback_ids = [change.feedback_id for change in changes if change.feedback_id]
    feedback = {
        row.id: row
        for row in session.scalars(
            select(Feedback)
            .where(Feedback.id.in_(feedback_ids))
            .options(selectinload(Feedback.account))
        )
    }
    lines: dict[int, str] = {}
    for change in changes:
        request = found.get(change.request_id)
        if request is None:
            continue
        link = f"<{base_url}/requests/{request.slug}|{mrkdwn_escape(clip(request.title, 90))}>"
        item = feedback.get(change.feedback_id or "")
        if change.kind is ChangeKind.STATUS:
            lines[change.id] = f"{link} is now {change.new_status} (was {change.old_status})"
        elif item is not None:
            lines[change.id] = (
                f"new feedback on {link} from {mrkdwn_escape(item.account.name)}"
                f" ({item.severity.label}): “{mrkdwn_escape(clip(item.description, 200))}”"
            )
        else:  # the feedback was removed since (an undo): say what is known
            lines[change.id] = f"new feedback on {link}"
    return lines


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    if not rows:
        return 0
    insert = insert_for(session, ViewAlert)
    # Another run may have routed the same change: the unique key keeps the first.
    statement = insert.values(rows).on_conflict_do_nothing(
        index_elements=[ViewAlert.subscription_id, ViewAlert.change_id]
    )
    return len(session.execute(statement.returning(ViewAlert.id)).all())


def _pending(query: Any) -> Any:
    return (
        query.join(ViewSubscription, ViewSubscription.id == ViewAlert.subscription_id)
        .join(SavedView, SavedView.id == ViewSubscription.view_id)
        .where(ViewAlert.sent_at.is_(None))
    )


def _alert(alert: ViewAlert, sub: ViewSubscription, view: SavedView) -> PendingAlert:
    return PendingAlert(
        id=alert.id,
        subscription_id=sub.id,
        change_id=alert.change_id,
        user_id=sub.user_id,
        channel=sub.channel,
        view_name=view.name,
        view_url=filters.url() if (filters := _filters(view)) else "/requests",
        text=alert.text,
    )


def due_now(session: Session) -> list[PendingAlert]:
    """Unsent alerts of the subscriptions that want each item at once, oldest first."""
    query = _pending(select(ViewAlert, ViewSubscription, SavedView)).where(
        ViewSubscription.frequency == Frequency.IMMEDIATE
    )
    rows = session.execute(query.order_by(ViewAlert.id).limit(BATCH)).all()
    return [_alert(*row) for row in rows]


def claim_day(session: Session, day: str) -> dict[str, list[PendingAlert]]:
    """The daily subscriptions' unsent alerts, claimed for ``day``'s digest, by subscription.

    Claimed once: a later run for the same day finds the same ones (and any it had not sent).
    """
    daily = select(ViewSubscription.id).where(ViewSubscription.frequency == Frequency.DAILY)
    session.execute(
        update(ViewAlert)
        .where(ViewAlert.sent_at.is_(None), ViewAlert.digest_day == "")
        .where(ViewAlert.subscription_id.in_(daily))
        .values(digest_day=day)
    )
    query = _pending(select(ViewAlert, ViewSubscription, SavedView)).where(
        ViewAlert.digest_day == day
    )
    return by_subscription([_alert(*row) for row in session.execute(query.order_by(ViewAlert.id))])


def by_subscription(alerts: list[PendingAlert]) -> dict[str, list[PendingAlert]]:
    """The alerts grouped by subscription, each group in the given order."""
    grouped: dict[str, list[PendingAlert]] = defaultdict(list)
    for alert in alerts:
        grouped[alert.subscription_id].append(alert)
    return dict(grouped)


def mark_sent(session: Session, alert_ids: list[int]) -> None:
    """Record these alerts as sent."""
    session.execute(
        update(ViewAlert)
        .where(ViewAlert.id.in_(alert_ids), ViewAlert.sent_at.is_(None))
        .values(sent_at=utcnow())
    )


def work_mark(session: Session) -> tuple[int, int] | None:
    """The oldest change waiting to be routed and unsent immediate alert (None: no work).

    The oldest, not the newest: each run moves them on, so a backlog longer than one run's
    batch makes a new mark for the next run.
    """
    change = session.scalar(
        select(func.min(RequestChange.id)).where(RequestChange.routed.is_(False))
    )
    # Both go straight to the oldest waiting row by an index (``models``), past the many done.
    immediate = select(ViewSubscription.id).where(ViewSubscription.frequency == Frequency.IMMEDIATE)
    alert = session.scalar(
        select(func.min(ViewAlert.id)).where(
            ViewAlert.sent_at.is_(None), ViewAlert.subscription_id.in_(immediate)
        )
    )
    if change is None and alert is None:
        return None
    return change or 0, alert or 0
