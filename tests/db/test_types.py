"""Money stays exact and timestamps stay in UTC on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account
from gtm_feedback.user.models import User


def test_money_sums_are_exact(session: Session) -> None:
    for n in range(10):
        session.add(Account(id=f"acct-{n}", name=f"A{n}", arr=Decimal("0.10")))
    session.add(Account(id="big", name="Big", arr=Decimal("999999999999.99")))
    session.flush()
    total = session.scalar(select(func.sum(Account.arr)).where(Account.id != "big"))
    assert total == Decimal("1.00")
    big = session.get(Account, "big")
    assert big is not None
    session.expire(big)
    assert big.arr == Decimal("999999999999.99")


def test_money_rounds_to_cents(session: Session) -> None:
    session.add(Account(id="r", name="R", arr=Decimal("10.005")))
    session.flush()
    session.expire_all()
    account = session.get(Account, "r")
    assert account is not None
    assert account.arr == Decimal("10.01")


def test_timestamps_come_back_in_utc(session: Session) -> None:
    paris = timezone(timedelta(hours=1))
    session.add(
        User(
            id="u1",
            name="U",
            email="u@example.com",
            created_at=datetime(2026, 3, 1, 12, tzinfo=paris),
        )
    )
    session.flush()
    session.expire_all()
    user = session.get(User, "u1")
    assert user is not None
    assert user.created_at == datetime(2026, 3, 1, 11, tzinfo=UTC)
    assert user.created_at.tzinfo is not None


def test_naive_timestamps_are_refused(session: Session) -> None:
    session.add(User(id="u2", name="U", email="u2@example.com", created_at=datetime(2026, 3, 1)))
    with pytest.raises(StatementError, match="timezone-aware"):
        session.flush()
    session.rollback()
