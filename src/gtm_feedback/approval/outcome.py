"""Showing a decision where it was asked: the Slack message's buttons become the outcome."""

from __future__ import annotations

from gtm_feedback.approval.messaging import decided_blocks
from gtm_feedback.approval.models import Approval
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations import adapters
from gtm_feedback.logging import get_logger
from gtm_feedback.outbox import service as outbox

log = get_logger(__name__)


def rewrite_decided(
    approval: Approval,
    outcome: str,
    slack_user_id: str | None,
    where: tuple[str, str] | None = None,
    text: str | None = None,
) -> None:
    """Show the decision in the Slack message that asked for it, if one was posted.

    ``where`` is the message's (channel, ts) when known (a button click); otherwise the
    proposal's stored position, or the approval DM's delivery record.
    """
    client = adapters.current().slack
    if client is None:
        return
    text = text or str(approval.payload.get("slack_text") or "")
    if where is None:
        where, text = _position(approval, text)
    if where is None:
        return
    blocks = decided_blocks(text, outcome, slack_user_id, approval.decided_by or "")
    client.chat_update(channel=where[0], ts=where[1], text=f"{text}\n{outcome}", blocks=blocks)


def _position(approval: Approval, text: str) -> tuple[tuple[str, str] | None, str]:
    channel, ts = approval.payload.get("slack_channel"), approval.payload.get("slack_ts")
    if channel and ts:
        return (str(channel), str(ts)), text
    with session_scope(adapters.current().settings.app_database_url) as session:
        sent = outbox.delivery_by_key(session=session, key=f"approval:{approval.token}")
        return ((sent.channel, sent.ts), text or sent.text) if sent else (None, text)


def show_outcome(approval: Approval, outcome: str) -> None:
    """:func:`rewrite_decided` for a decision made outside Slack; a failure is only logged
    (the decision itself is recorded and the workflow resumed already)."""
    try:
        rewrite_decided(approval, outcome, None)
    except Exception:
        log.exception("slack.rewrite_failed", token=approval.token[:8])
