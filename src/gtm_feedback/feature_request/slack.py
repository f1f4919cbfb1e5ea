"""Slack handlers about requests: ``/shipped <request url>`` and link previews."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from slack_bolt import Ack

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.queues import enqueue
from gtm_feedback.feature_request import service
from gtm_feedback.feature_request.slack_workflows import (
    ShippedInput,
    UnfurlInput,
    slack_shipped_workflow,
    slack_unfurl_workflow,
)
from gtm_feedback.integrations import adapters
from gtm_feedback.logging import get_logger
from gtm_feedback.user import audit
from gtm_feedback.user import service as users
from gtm_feedback.user.audit import Actor
from gtm_feedback.user.models import Role

#: Roles that may ship (the same as on the request page).
SHIPPERS = frozenset({Role.approver.value, Role.admin.value})
USAGE = "Usage: `/shipped <request link>`, e.g. `/shipped {base}/requests/saml-sso`"
_REQUEST_PATH = re.compile(r"/requests/([^/?#\s]+)/?$")

log = get_logger(__name__)


def request_slug(text: str) -> str | None:
    """The slug in a request link (Slack may wrap it as ``<url>`` or ``<url|label>``)."""
    link = text.strip().strip("<>").split("|", 1)[0].strip()
    match = _REQUEST_PATH.search(urlparse(link).path)
    return match.group(1) if match else None


def _title_and_shipper(url: str, slug: str, slack_user_id: str) -> tuple[str | None, Actor | None]:
    """The request's title (None: no such request), and the Slack user as the audit log shows
    them if they may ship (an approver or admin linked to this Slack account), else None."""
    with session_scope(url) as session:
        found = service.get_by_slug(session=session, slug=slug)
        shipper = users.by_slack_id(session=session, slack_user_id=slack_user_id)
        allowed = shipper is not None and not shipper.disabled and shipper.role in SHIPPERS
        actor = Actor(shipper.id, shipper.email, "slack") if shipper and allowed else None
        return (found.title if found else None), actor


def on_shipped(ack: Ack, command: dict[str, Any]) -> None:
    """``/shipped``: usage on empty text, an error for a link that is not a request, else go."""
    settings = adapters.current().settings
    text = (command.get("text") or "").strip()
    if not text:
        ack(USAGE.format(base=settings.base_url))
        return
    slug = request_slug(text)
    if slug is None:
        ack(f"That is not a link to a request: {text}\n" + USAGE.format(base=settings.base_url))
        return
    title, actor = _title_and_shipper(settings.app_database_url, slug, command["user_id"])
    if actor is None:
        ack(
            "Only approvers mark requests shipped. Ask an admin for the approver role "
            "(your Slack account is linked to you when you first use the app from Slack)."
        )
        return
    if title is None:
        ack(f"There is no request at {text}.")
        return
    with session_scope(settings.app_database_url, write=True) as session:
        audit.record(
            session=session, actor=actor, action="request.status", target=slug, detail="shipped"
        )
    ack(f"Marking “{title}” shipped and telling its followers…")
    data = ShippedInput(
        request=slug, slack_user_id=command["user_id"], response_url=command["response_url"]
    )
    enqueue("slack", f"slack-shipped-{command['trigger_id']}", slack_shipped_workflow, data)


def on_link_shared(ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
    """Links to the app's pages were posted: preview them (once per Slack event id)."""
    ack()
    links = [str(link.get("url", "")) for link in event.get("links", []) if link.get("url")]
    if not links or not event.get("message_ts"):
        return
    if adapters.current().slack is None:
        # Previews are posted with the bot token: without one there is nothing to do, and a
        # run that could only fail is not started.
        log.info("slack.unfurl_skipped", reason="no bot token")
        return
    data = UnfurlInput(channel=event["channel"], message_ts=event["message_ts"], links=links)
    enqueue("slack", f"slack-{body['event_id']}", slack_unfurl_workflow, data)
