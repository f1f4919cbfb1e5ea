"""Accounts: look-ups with their deals, and search as you type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.text.formats import LIKE_ESCAPE, contains_pattern
from gtm_feedback.user import service as users
from gtm_feedback.user.models import User


def get_account(*, session: Session, account_id: str) -> Account | None:
    """The account with its opportunities loaded, if it exists."""
    return session.scalar(
        select(Account)
        .where(Account.id == account_id)
        .options(selectinload(Account.opportunities), selectinload(Account.owner))
    )


def search(*, session: Session, text: str, limit: int = 8) -> list[Account]:
    """Accounts whose name or id contains ``text`` (search as you type), largest ARR first."""
    text = text.strip()
    if not text:
        return []
    like = contains_pattern(text)
    return list(
        session.scalars(
            select(Account)
            .where(
                Account.name.ilike(like, escape=LIKE_ESCAPE)
                | Account.id.ilike(like, escape=LIKE_ESCAPE)
            )
            .order_by(Account.arr.desc(), Account.name)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class AccountQuery:
    """Filters of the accounts list."""

    text: str = ""
    type: str | None = None
    region: str | None = None
    enterprise: bool | None = None
    owner_email: str | None = None


def listing(query: AccountQuery) -> Select[Account]:
    """Accounts the filters keep, largest ARR first."""
    stmt = (
        select(Account)
        .options(selectinload(Account.owner))
        .order_by(Account.arr.desc(), Account.name, Account.id)
    )
    if query.text.strip():
        like = contains_pattern(query.text.strip())
        stmt = stmt.where(
            Account.name.ilike(like, escape=LIKE_ESCAPE)
            | Account.id.ilike(like, escape=LIKE_ESCAPE)
        )
    if query.type:
        stmt = stmt.where(Account.type == query.type)
    if query.region:
        stmt = stmt.where(Account.region == query.region)
    if query.enterprise is not None:
        stmt = stmt.where(Account.is_enterprise.is_(query.enterprise))
    if query.owner_email:
        owned = select(User.id).where(User.email == query.owner_email.strip().lower())
        stmt = stmt.where(Account.owner_id.in_(owned))
    return stmt


def set_owner(*, session: Session, account: Account, email: str | None) -> None:
    """Give the account an owner (a user, created if new), or none."""
    account.owner = users.get_or_create(session=session, email=email) if email else None


def opportunities(*, account_id: str | None, stage: str | None) -> Select[Opportunity]:
    """Opportunities of one account or all, by stage, largest ARR first, accounts loaded."""
    stmt = (
        select(Opportunity)
        .options(selectinload(Opportunity.account))
        .order_by(Opportunity.arr.desc(), Opportunity.id)
    )
    if account_id:
        stmt = stmt.where(Opportunity.account_id == account_id)
    if stage:
        stmt = stmt.where(func.lower(Opportunity.stage) == stage.strip().lower())
    return stmt


@dataclass(frozen=True)
class DealAsk:
    """A request the account's feedback on a deal is about, and whether it blocks the deal."""

    slug: str
    title: str
    blocks_deal: bool


@dataclass(frozen=True)
class AccountPipeline:
    """The account's open deals in total, those its feedback blocks, and the asks per deal."""

    open_pipeline: Decimal = Decimal("0.00")
    blocked_pipeline: Decimal = Decimal("0.00")
    asks: dict[str, list[DealAsk]] = field(default_factory=dict)


def account_pipeline(account: Account, feedback: Sequence[Feedback]) -> AccountPipeline:
    """Open and blocked pipeline of an account (each deal once), from its loaded feedback."""
    asks: dict[str, dict[str, DealAsk]] = {}
    for item in feedback:
        if item.opportunity_id is None:
            continue
        per_deal = asks.setdefault(item.opportunity_id, {})
        known = per_deal.get(item.request.slug)
        blocks = item.blocks_deal or (known is not None and known.blocks_deal)
        per_deal[item.request.slug] = DealAsk(item.request.slug, item.request.title, blocks)
    open_deals = [deal for deal in account.opportunities if deal.is_open]
    blocked = [d for d in open_deals if any(a.blocks_deal for a in asks.get(d.id, {}).values())]
    return AccountPipeline(
        open_pipeline=sum((deal.arr for deal in open_deals), Decimal("0.00")),
        blocked_pipeline=sum((deal.arr for deal in blocked), Decimal("0.00")),
        asks={deal_id: list(found.values()) for deal_id, found in asks.items()},
    )
