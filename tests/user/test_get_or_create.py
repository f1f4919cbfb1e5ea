"""Users created on first sight, when two writers see the same new email at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gtm_feedback.db.session import session_scope
from gtm_feedback.user import service as users
from gtm_feedback.user.models import User


@pytest.mark.postgres
def test_two_writers_creating_one_user_both_get_it(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read the email unknown, then both insert: the second gets the first's user."""
    both_looked = threading.Barrier(2, timeout=30)
    look = users.get_by_email
    first_look: set[int] = set()

    def look_then_wait(*, session: Session, email: str) -> User | None:
        found = look(session=session, email=email)
        if threading.get_ident() not in first_look:  # each has looked before either inserts
            first_look.add(threading.get_ident())
            both_looked.wait()
        return found

    monkeypatch.setattr(users, "get_by_email", look_then_wait)

    def create(_: int) -> str:
        with session_scope(postgres_url, write=True) as session:
            return users.get_or_create(session=session, email="New.Seller@Example.com").id

    with ThreadPoolExecutor(2) as pool:
        ids = set(pool.map(create, range(2)))
    assert len(ids) == 1
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1


def test_a_known_email_is_the_same_user_in_any_case(db_url: str) -> None:
    with session_scope(db_url) as session:
        made = users.get_or_create(session=session, email="  Ana.Lima@Example.com ")
        assert made.name == "Ana Lima"
        again = users.get_or_create(session=session, email="ana.lima@example.COM")
        assert again.id == made.id
