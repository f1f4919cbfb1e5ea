"""Notification steps of feedback processing: each message sent once per key."""

from __future__ import annotations

from dbos import DBOS

from gtm_feedback.account import service as accounts
from gtm_feedback.approval.messaging import approval_blocks
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.retry import OUTBOUND_RETRY
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feedback.agents import COMPOSE, ComposeInput, MessageKind
from gtm_feedback.integrations import adapters
from gtm_feedback.text.markup import clip, mrkdwn_escape
from gtm_feedback.user import service as users


@DBOS.step(**OUTBOUND_RETRY)
def notify_step(
    *,
    kind: MessageKind,
    key: str,
    request_id: str,
    submitter_email: str,
    account_id: str | None = None,
    pain: str = "",
    confidence: float | None = None,
    firehose: bool = False,
    approval_token: str | None = None,
) -> int:
    """DM the submitter (and post to the request's area firehoses); returns messages sent.

    With ``approval_token`` the DM carries Approve / Decline buttons (in Slack).
    """
    found = adapters.current()
    with session_scope(found.settings.app_database_url, write=True) as session:
        request = requests.get(session=session, request_id=request_id)
        if request is None:
            return 0
        user = users.get_or_create(session=session, email=submitter_email)
        account = (
            accounts.get_account(session=session, account_id=account_id) if account_id else None
        )
        channels = sorted({a.firehose_channel for a in request.areas if a.firehose_channel})
        title, link = request.title, f"{found.settings.base_url}/requests/{request.slug}"
        user_id, account_name = user.id, account.name if account else None
    compose = ComposeInput(
        kind=kind,
        request_title=title,
        request_url=link,
        pain=pain,
        account_name=account_name,
        confidence=confidence,
    )
    text = found.agents.run(COMPOSE, compose).output.text
    blocks = approval_blocks(text, approval_token) if approval_token else None
    sent = found.messenger.send(
        key=key, kind=kind.value, text=text, recipient_user_id=user_id, blocks=blocks
    )
    count = int(sent.sent_now)
    if firehose:
        post = firehose_text(compose)
        for channel in channels:
            done = found.messenger.send(
                key=f"{key}:firehose:{channel}", kind="firehose", text=post, channel=channel
            )
            count += int(done.sent_now)
    return count


def firehose_text(data: ComposeInput) -> str:
    """The area firehose post: which request got feedback, from whom, and the pain."""
    who = f" from *{mrkdwn_escape(data.account_name)}*" if data.account_name else ""
    title = mrkdwn_escape(clip(data.request_title, 120))
    pain = mrkdwn_escape(clip(data.pain, 280))
    return f"New feedback{who} on <{data.request_url}|{title}>:\n>{pain}"
