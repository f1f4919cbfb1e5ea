"""Slack buttons that decide: Approve / Decline on a match, Ignore on a proposal.

The decision goes through the approvals service (the same one as the web inbox and the API),
which wakes the waiting workflow; the message then shows the outcome and who decided. A
second click learns, privately, who decided first.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.messaging import APPROVE, DECLINE, PROPOSAL_IGNORE
from gtm_feedback.approval.outcome import rewrite_decided
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations import adapters
from gtm_feedback.logging import get_logger
from gtm_feedback.user import service as users
from gtm_feedback.user.audit import Actor, slack_actor

log = get_logger(__name__)

OUTCOMES = {
    APPROVE: (True, "Approved"),
    DECLINE: (False, "Declined"),
    PROPOSAL_IGNORE: (False, "Ignored"),
}


def tell(body: dict[str, Any], text: str) -> None:
    """An ephemeral reply to whoever clicked (in a DM: a plain reply)."""
    client = adapters.current().slack
    channel = body.get("container", {}).get("channel_id") or body.get("channel", {}).get("id")
    if client is None or not channel:
        log.warning("slack.reply_not_sent", text=text)
        return
    client.chat_postEphemeral(channel=channel, user=body["user"]["id"], text=text)


def on_decision(ack: Ack, body: dict[str, Any]) -> None:
    """A decision button was clicked."""
    ack()
    action = body["actions"][0]
    approved, outcome = OUTCOMES[action["action_id"]]
    slack_user = body["user"]["id"]
    url = adapters.current().settings.app_database_url
    with session_scope(url) as session:
        linked = users.by_slack_id(session=session, slack_user_id=slack_user)
        actor = Actor(linked.id, linked.email, "slack") if linked else slack_actor(slack_user)
        asked = approvals.get(session=session, token=action["value"])
        allowed = asked is None or approvals.may_decide(asked, linked)
    if not allowed:  # the buttons may sit in a channel: a click proves nobody's role
        tell(body, "Only the person this was asked of, or an approver, can decide it.")
        return
    try:
        approval = approvals.decide_and_resume(
            url, token=action["value"], approved=approved, actor=actor
        )
    except approvals.AlreadyDecidedError as exc:
        tell(body, f"Nothing changed: this was {exc}.")
        return
    except approvals.ApprovalNotFoundError:
        tell(body, "Nothing changed: this decision is no longer known to GTM Feedback.")
        return
    except Exception:
        log.exception("slack.decision_failed", token=action["value"][:8])
        tell(body, "Sorry, the decision could not be recorded. Please try again.")
        return
    container = body.get("container", {})
    where = (container.get("channel_id"), container.get("message_ts"))
    text = body.get("message", {}).get("text")
    try:
        rewrite_decided(approval, outcome, slack_user, where if all(where) else None, text)
    except Exception:
        log.exception("slack.rewrite_failed", token=action["value"][:8])
        tell(body, f"{outcome}, but the message could not be updated.")
