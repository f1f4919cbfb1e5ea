"""Accounts: look-ups with their deals, and search as you type."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.account.models import Account
from gtm_feedback.text.formats import LIKE_ESCAPE, contains_pattern


def get_account(*, session: Session, account_id: str) -> Account | None:
    """The account with its opportunities loaded, if it exists."""
    return session.scalar(
        select(Account).where(Account.id == account_id).options(selectinload(Account.opportunities))
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
