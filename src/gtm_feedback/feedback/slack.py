"""Slack intake: the Add Feedback shortcut and modal, reactions, and a proposal's Approve.

Handlers acknowledge at once and enqueue a workflow whose run id derives from Slack's id,
so Slack's retries start nothing twice. Only opening a modal happens in the handler: its
trigger id is valid for three seconds.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack

from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.models import ApprovalStatus
from gtm_feedback.approval.slack import tell
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.queues import enqueue
from gtm_feedback.feedback import intake
from gtm_feedback.feedback.messaging import FIELDS, feedback_modal, modal_values
from gtm_feedback.feedback.models import FeedbackSource
from gtm_feedback.feedback.slack_workflows import (
    ReactionInput,
    SlackFeedbackInput,
    slack_feedback_workflow,
    slack_reaction_workflow,
)
from gtm_feedback.integrations import adapters
from gtm_feedback.logging import get_logger

log = get_logger(__name__)


def open_view(trigger_id: str, view: dict[str, Any]) -> None:
    """Open a modal for the person who triggered ``trigger_id`` (valid for three seconds)."""
    client = adapters.current().slack
    if client is None:
        log.warning("slack.modal_not_opened", reason="no GTMFB_SLACK_BOT_TOKEN")
        return
    client.views_open(trigger_id=trigger_id, view=view)


def open_modal(ack: Ack, body: dict[str, Any]) -> None:
    """The global shortcut: open the empty modal."""
    ack()
    open_view(body["trigger_id"], feedback_modal())


def open_modal_from_proposal(ack: Ack, body: dict[str, Any]) -> None:
    """A proposal's Approve: the modal, prefilled with the pain found in the thread."""
    ack()
    token = body["actions"][0]["value"]
    with session_scope(adapters.current().settings.app_database_url) as session:
        proposal = approvals.get(session=session, token=token)
        if proposal is None or proposal.status is not ApprovalStatus.PENDING:
            by = f" by {proposal.decided_by}" if proposal and proposal.decided_by else ""
            tell(body, f"Nothing changed: this proposal was already decided{by}.")
            return
        pain = str(proposal.payload.get("pain", ""))
    open_view(body["trigger_id"], feedback_modal(pain=pain, metadata={"proposal": token}))


def _check(values: dict[str, str]) -> dict[str, str]:
    """Errors by block id; empty when the submission is valid and its references exist."""
    # The submitter comes from Slack after the check: a stand-in address passes validation.
    fields = {**values, "submitter_email": "check@example.com"}
    with session_scope(adapters.current().settings.app_database_url) as session:
        _, errors = intake.from_form(session, fields, source=FeedbackSource.SLACK)
    return {name: message for name, message in errors.items() if name in FIELDS}


def on_modal_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Validate the modal; errors are shown next to the fields, else the work is enqueued."""
    values = modal_values(view.get("state", {}))
    errors = _check(values)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    ack()
    metadata = json.loads(view.get("private_metadata") or "{}")
    data = SlackFeedbackInput(
        view_id=view["id"],
        slack_user_id=body["user"]["id"],
        severity=values["severity"],
        account_id=values["account_id"],
        opportunity_id=values["opportunity_id"] or None,
        blocks_deal=bool(values["blocks_deal"]),
        pain=values["pain"],
        links=values["links"].split(),
        proposal_token=metadata.get("proposal"),
    )
    enqueue("slack", f"slack-view-{view['id']}", slack_feedback_workflow, data)


def on_reaction(ack: Ack, body: dict[str, Any], event: dict[str, Any]) -> None:
    """The feedback reaction on a message: look at it (once per Slack event id)."""
    ack()
    wanted = adapters.current().settings.slack_feedback_reaction.strip(":")
    item = event.get("item", {})
    if event.get("reaction") != wanted or item.get("type") != "message":
        return
    data = ReactionInput(channel=item["channel"], ts=item["ts"], reactor=event["user"])
    enqueue("slack", f"slack-{body['event_id']}", slack_reaction_workflow, data)
