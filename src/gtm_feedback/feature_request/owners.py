"""Closing the loop with sellers: when a request ships, each owner (AE or CSM) of an account
that asked for it hears once, with their accounts that asked and a link to each CRM record."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import quote

from dbos import DBOS
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.durable.retry import OUTBOUND_RETRY
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.integrations import adapters
from gtm_feedback.text.markup import mrkdwn_escape

#: The message kind owners' messages are recorded under (outbox, Slack deliveries).
KIND = "shipped_owner"


class OwnedAccount(BaseModel):
    """An account that asked for the request, as its owner's message names it."""

    id: str
    name: str
    link: str | None


class OwnerNote(BaseModel):
    """One owner and their accounts that asked (largest ARR first)."""

    user_id: str
    accounts: list[OwnedAccount]


def owners_of(session: Session, request_id: str, settings: Settings) -> list[OwnerNote]:
    """The owners of accounts with feedback on the request, by user id."""
    rows = session.scalars(
        select(Account)
        .where(
            Account.owner_id.is_not(None),
            Account.id.in_(select(Feedback.account_id).where(Feedback.request_id == request_id)),
        )
        .order_by(Account.arr.desc(), Account.name)
    )
    by_owner: dict[str, list[OwnedAccount]] = defaultdict(list)
    for account in rows:
        link = record_link(settings, account.id, account.link)
        by_owner[str(account.owner_id)].append(
            OwnedAccount(id=account.id, name=account.name, link=link)
        )
    return [OwnerNote(user_id=uid, accounts=found) for uid, found in sorted(by_owner.items())]


def record_link(settings: Settings, account_id: str, own: str | None) -> str | None:
    """The account's CRM record: the configured template, else the account's own link."""
    if settings.crm_account_url:
        return settings.crm_account_url.replace("{account_id}", quote(account_id, safe=""))
    return own


def owner_message(title: str, url: str, note: OwnerNote) -> str:
    """The owner's message (Slack mrkdwn): what shipped, and which of their accounts asked."""
    names = [
        f"<{account.link}|{mrkdwn_escape(account.name)}>"
        if account.link
        else mrkdwn_escape(account.name)
        for account in note.accounts
    ]
    return (
        f"“{mrkdwn_escape(title)}” has shipped: <{url}|see the request>. "
        f"Your accounts that asked for it: {', '.join(names)}. A good moment to tell them."
    )


@DBOS.step(**OUTBOUND_RETRY)
def notify_owner_step(request_id: str, slug: str, title: str, note: OwnerNote) -> bool:
    """Tell one owner; the key makes a retried, resumed or re-run send a no-op."""
    found = adapters.current()
    url = f"{found.settings.base_url}/requests/{slug}"
    found.messenger.send(
        key=f"{KIND}:{request_id}:{note.user_id}",
        kind=KIND,
        text=owner_message(title, url, note),
        recipient_user_id=note.user_id,
    )
    return True


@DBOS.workflow()
def notify_owner_workflow(request_id: str, slug: str, title: str, note: OwnerNote) -> bool:
    """One owner's branch of the mark-shipped fan-out."""
    return notify_owner_step(request_id, slug, title, note)
