"""Feedback from Slack: the Add Feedback modal's submission, and a message someone reacted to.

Slack handlers only acknowledge and start these; each run id derives from Slack's own id
(the view id, the event id), so a retried delivery starts nothing new.
"""

from __future__ import annotations

from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.approval import service as approvals
from gtm_feedback.approval.outcome import rewrite_decided
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.retry import DB_RETRY, OUTBOUND_RETRY
from gtm_feedback.errors import PermanentError
from gtm_feedback.feedback import workflows as feedback_workflows
from gtm_feedback.feedback.agents import EXTRACT, ExtractInput
from gtm_feedback.feedback.messaging import proposal_blocks
from gtm_feedback.feedback.models import FeedbackSource
from gtm_feedback.feedback.schemas import FeedbackSubmission
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.slack.client import call_api
from gtm_feedback.text.markup import mrkdwn_escape
from gtm_feedback.user.audit import Actor
from gtm_feedback.user.workflows import resolve_slack_user_step


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackFeedbackInput(_Model):
    """A submitted Add Feedback modal (already validated by the handler)."""

    view_id: str
    slack_user_id: str
    severity: str
    account_id: str
    opportunity_id: str | None = None
    blocks_deal: bool = False
    pain: str
    links: list[str] = Field(default_factory=list)
    proposal_token: str | None = None


class ReactionInput(_Model):
    """A reaction on a message: where, and who reacted."""

    channel: str
    ts: str
    reactor: str


class Thread(_Model):
    """A message's thread: its root ts and the messages' texts, root first."""

    root_ts: str
    texts: list[str]


def _call(method: str, **kwargs: Any) -> dict[str, Any]:
    return call_api(adapters.current().slack, method, **kwargs)


@DBOS.workflow()
def slack_feedback_workflow(data: SlackFeedbackInput) -> str:
    """Resolve who submitted, then process the feedback; returns the process-feedback run id.

    The submitter hears back by DM from process feedback itself (attached, approval, created).
    """
    email = resolve_slack_user_step(data.slack_user_id)
    submission = FeedbackSubmission.model_validate(
        {
            "pain": data.pain,
            "severity": data.severity,
            "account_id": data.account_id,
            "opportunity_id": data.opportunity_id,
            "blocks_deal": data.blocks_deal,
            "links": data.links,
            "submitter_email": email,
            "source": FeedbackSource.SLACK,
        }
    )
    run_id = feedback_workflows.start_processing(submission, f"slack-view-{data.view_id}").run_id
    if data.proposal_token:
        close_proposal_step(data.proposal_token, data.slack_user_id, email)
    return run_id


@DBOS.step(**OUTBOUND_RETRY)
def close_proposal_step(token: str, slack_user_id: str, email: str) -> bool:
    """Decide the proposal (added as feedback) and rewrite its message; False if decided."""
    url = adapters.current().settings.app_database_url
    try:
        actor = Actor(None, email, "slack")
        approval = approvals.decide_and_resume(url, token=token, approved=True, actor=actor)
    except approvals.AlreadyDecidedError:
        return False
    rewrite_decided(approval, "Added as feedback", slack_user_id)
    return True


@DBOS.workflow()
def slack_reaction_workflow(data: ReactionInput) -> str:
    """Reacted message → its thread → the pain (Slack writer) → a proposal in the thread.

    The proposal's Approve opens the Add Feedback modal prefilled with the pain (an account is
    needed); its submission processes the feedback and closes the proposal. Returns
    ``proposed`` or ``no_pain``.
    """
    ephemeral_step(data.channel, data.reactor, "Taking a look at this message…")
    thread = read_thread_step(data.channel, data.ts)
    pain = extract_step(thread.texts)
    if not pain:
        ephemeral_step(data.channel, data.reactor, "I could not find a customer pain in it.")
        return "no_pain"
    propose_step(data, thread.root_ts, pain, DBOS.workflow_id or "")
    return "proposed"


@DBOS.step(**OUTBOUND_RETRY)
def ephemeral_step(channel: str, user: str, text: str) -> None:
    """A message only ``user`` sees, in the channel."""
    _call("chat_postEphemeral", channel=channel, user=user, text=text)


@DBOS.step(**OUTBOUND_RETRY)
def read_thread_step(channel: str, ts: str) -> Thread:
    """The reacted message's whole thread, root first (a reply leads to its root)."""
    messages = _replies(channel, ts)
    root = str(messages[0].get("thread_ts") or messages[0].get("ts") or ts)
    if root != ts and root != messages[0].get("ts"):
        messages = _replies(channel, root) or messages
    return Thread(root_ts=root, texts=[str(m.get("text", "")) for m in messages])


def _replies(channel: str, ts: str) -> list[dict[str, Any]]:
    found = _call("conversations_replies", channel=channel, ts=ts, limit=50)
    messages: list[dict[str, Any]] = list(found.get("messages") or [])
    if not messages:
        # Not a thread: the message alone, from the channel's history.
        history = _call(
            "conversations_history", channel=channel, latest=ts, inclusive=True, limit=1
        )
        messages = list(history.get("messages") or [])
    if not messages:
        raise PermanentError(f"message {ts} not found in {channel}")
    return messages


@DBOS.step(**DB_RETRY)
def extract_step(texts: list[str]) -> str:
    """The customer pain in the thread (Slack writer agent); empty when there is none."""
    output = adapters.current().agents.run(EXTRACT, ExtractInput(messages=texts)).output
    return output.pain.strip()


@DBOS.step(**OUTBOUND_RETRY)
def propose_step(data: ReactionInput, root_ts: str, pain: str, workflow_id: str) -> str:
    """Record the proposal (once) and post it in the thread with its buttons; its token."""
    url = adapters.current().settings.app_database_url
    with session_scope(url, write=True) as session:
        approval = approvals.for_workflow(session=session, workflow_id=workflow_id)
        if approval is None:
            payload = {"pain": pain, "slack_channel": data.channel, "reactor": data.reactor}
            approval = approvals.request_approval(
                session=session, workflow_id=workflow_id, kind="slack_proposal", payload=payload
            )
        if approval.payload.get("slack_ts"):
            return approval.token
        token = approval.token
    text = f"Looks like customer feedback:\n>{mrkdwn_escape(pain[:600])}"
    blocks = proposal_blocks(pain, token)
    posted = _call(
        "chat_postMessage", channel=data.channel, thread_ts=root_ts, text=text, blocks=blocks
    )
    with session_scope(url, write=True) as session:
        where = {"slack_ts": str(posted["ts"]), "slack_text": text}
        approvals.note_posted(session=session, token=token, where=where)
    return token
