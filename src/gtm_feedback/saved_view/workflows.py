"""View alerts: route new changes to the subscriptions whose views show them and send each
item once (started by ``kicker`` when there is work), and the daily digest of the
subscriptions that asked for one (a schedule).

Each alert is recorded once per subscription and change (a unique key), and each message goes
through the messenger with a key of its own (``view_alert:<subscription>:<change>``,
``view_digest:<subscription>:<day>``): a retried step or a recovered run sends it once. The
alerts runs take turns on ``ALERTS_QUEUE``: two at once could read the same unsent alerts,
group them differently, and so send an item under two keys.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from dbos import DBOS
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.idempotency import check_same_input, run_id_for
from gtm_feedback.durable.queues import enqueue
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import DB_RETRY, OUTBOUND_RETRY
from gtm_feedback.integrations import adapters
from gtm_feedback.saved_view import routing
from gtm_feedback.saved_view.routing import PendingAlert
from gtm_feedback.text.markup import mrkdwn_escape

#: Items listed in one message; the rest are counted, and the view's link shows them.
LISTED = 20
#: The queue every alerts run goes through: one run at a time over every process.
ALERTS_QUEUE = "view_alerts"
VIEW_DIGEST_SCHEDULE = "view-digest"


class ViewAlertsInput(BaseModel):
    """Nothing to choose: a run routes and sends whatever is due."""

    model_config = ConfigDict(extra="forbid")


class ViewAlertsResult(BaseModel):
    """Alerts recorded by this run's routing, and messages it sent."""

    routed: int
    sent: int


class ViewDigestInput(BaseModel):
    """The day whose digest to send (default: today in the workspace's time zone)."""

    model_config = ConfigDict(extra="forbid")

    day: date | None = Field(default=None, ge=date(2000, 1, 1), le=date(9999, 12, 31))


class ViewDigestResult(BaseModel):
    """The day, and how many digests and items went out."""

    day: str
    digests: int
    items: int


def _url() -> str:
    return adapters.current().settings.app_database_url


@DBOS.step(**DB_RETRY)
def route_step() -> int:
    """Record the alerts owed for changes not routed yet."""
    with session_scope(_url(), write=True) as session:
        return routing.route(session, adapters.current().settings.base_url)


@DBOS.step(**DB_RETRY)
def due_step() -> list[PendingAlert]:
    """The unsent alerts of the subscriptions that want each item at once."""
    with session_scope(_url()) as session:
        return routing.due_now(session)


def _view_link(alert: PendingAlert) -> str:
    base = adapters.current().settings.base_url
    return f"<{base}{alert.view_url}|{mrkdwn_escape(alert.view_name)}>"


def _key(alerts: list[PendingAlert]) -> str:
    first, last = alerts[0], alerts[-1]
    ids = str(first.change_id) if len(alerts) == 1 else f"{first.change_id}-{last.change_id}"
    return f"view_alert:{first.subscription_id}:{ids}"


def _text(heading: str, alerts: list[PendingAlert]) -> str:
    if len(alerts) == 1:
        return f"{heading}: {alerts[0].text}"
    shown = alerts[:LISTED]
    lines = [f"*{heading}*: {len(alerts)} new", *(f"• {alert.text}" for alert in shown)]
    if len(alerts) > len(shown):
        lines.append(f"… and {len(alerts) - len(shown)} more: open the view to see them all")
    return "\n".join(lines)


@DBOS.step(**OUTBOUND_RETRY)
def send_alert_step(alerts: list[PendingAlert]) -> bool:
    """Send one subscription's alerts (one, or those due together) once, and record them sent.

    A burst (an import) makes one message of the alerts due together, not one each.
    """
    first = alerts[0]
    sent = adapters.current().messenger.send(
        key=_key(alerts),
        kind="view_alert",
        text=_text(_view_link(first), alerts),
        recipient_user_id=None if first.channel else first.user_id,
        channel=first.channel or None,
    )
    with session_scope(_url(), write=True) as session:
        routing.mark_sent(session, [alert.id for alert in alerts])
    return sent.sent_now


def alert_now() -> ViewAlertsResult:
    """The body: route, then send what is due, one message per subscription."""
    routed = route_step()
    due = routing.by_subscription(due_step()).values()
    sent = sum(len(alerts) for alerts in due if send_alert_step(alerts))
    return ViewAlertsResult(routed=routed, sent=sent)


@DBOS.workflow()
def view_alerts_workflow(data: ViewAlertsInput) -> ViewAlertsResult:
    """Route new changes and send the alerts due now."""
    return alert_now()


def start_alerts(data: ViewAlertsInput, idempotency_key: str | None) -> str:
    """Queue an alerts run (once per key) to take its turn after any other; its run id."""
    run_id = run_id_for("view-alerts", idempotency_key)
    enqueue(ALERTS_QUEUE, run_id, view_alerts_workflow, data)
    check_same_input(run_id, idempotency_key, data)
    return run_id


@DBOS.step(**DB_RETRY)
def view_today_step() -> str:
    """Today in the workspace's time zone (a step: the body must not read the clock)."""
    zone = ZoneInfo(adapters.current().settings.timezone)
    return datetime.now(zone).date().isoformat()


@DBOS.step(**DB_RETRY)
def claim_step(day: str) -> dict[str, list[PendingAlert]]:
    """Route what is new, then claim the daily subscriptions' alerts for ``day`` (and, once a
    day, forget changes routed long ago)."""
    with session_scope(_url(), write=True) as session:
        routing.route(session, adapters.current().settings.base_url)
        routing.prune(session)
    with session_scope(_url(), write=True) as session:
        return routing.claim_day(session, day)


@DBOS.step(**OUTBOUND_RETRY)
def send_view_digest_step(day: str, alerts: list[PendingAlert]) -> bool:
    """One subscription's digest of ``day`` (once per key), its alerts then marked sent."""
    first = alerts[0]
    sent = adapters.current().messenger.send(
        key=f"view_digest:{first.subscription_id}:{day}",
        kind="view_digest",
        text=_text(f"{_view_link(first)}, {day}", alerts),
        recipient_user_id=None if first.channel else first.user_id,
        channel=first.channel or None,
    )
    with session_scope(_url(), write=True) as session:
        routing.mark_sent(session, [alert.id for alert in alerts])
    return sent.sent_now


def send_day(day: str) -> ViewDigestResult:
    """The body: claim, then one digest per subscription."""
    digests = items = 0
    for alerts in claim_step(day).values():
        if send_view_digest_step(day, alerts):
            digests, items = digests + 1, items + len(alerts)
    return ViewDigestResult(day=day, digests=digests, items=items)


@DBOS.workflow()
def view_digest_workflow(data: ViewDigestInput) -> ViewDigestResult:
    """The daily digest of every daily subscription with something new."""
    return send_day(data.day.isoformat() if data.day else view_today_step())


@DBOS.workflow()
def scheduled_view_digest_workflow(scheduled_at: datetime, context: Any) -> ViewDigestResult:
    """The daily run of the ``view-digest`` schedule."""
    return send_day(scheduled_at.date().isoformat())


STARTABLE = (
    Startable(
        "view-alerts",
        ViewAlertsInput,
        view_alerts_workflow,
        "Alerts of saved views: new feedback and status changes, to each subscriber once.",
        start=start_alerts,
    ),
    Startable(
        "view-digest",
        ViewDigestInput,
        view_digest_workflow,
        "The daily digest of each saved-view subscription that asked for one.",
    ),
)
