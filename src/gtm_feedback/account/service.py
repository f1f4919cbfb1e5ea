"""Accounts: look-ups with their deals, and search as you type."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.account.models import Account, Opportunity
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
