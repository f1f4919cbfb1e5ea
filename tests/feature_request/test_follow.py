"""Following a request, when two transactions make the same person follow at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import service
from gtm_feedback.feature_request.models import request_followers
from gtm_feedback.user.service import get_or_create
from tests import factories as f


@pytest.mark.postgres
def test_two_transactions_following_at_once_both_succeed(postgres_url: str) -> None:
    """The second follows while the first's follow is written but not committed: it waits,
    then finds the person following, and says so instead of failing."""
    with session_scope(postgres_url) as session:
        request_id = f.request(session, "webhooks").id
        user_id = get_or_create(session=session, email="ana@example.com").id
    first_wrote = threading.Event()

    def first() -> bool:
        with session_scope(postgres_url, write=True) as session:
            new = service.follow(session=session, request_id=request_id, user_id=user_id)
            first_wrote.set()
            threading.Event().wait(0.5)  # uncommitted while the second one writes
            return new

    def second() -> bool:
        assert first_wrote.wait(30)
        with session_scope(postgres_url, write=True) as session:
            return service.follow(session=session, request_id=request_id, user_id=user_id)

    with ThreadPoolExecutor(2) as pool:
        answers = [pool.submit(first), pool.submit(second)]
        assert [answer.result(timeout=60) for answer in answers] == [True, False]
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).select_from(request_followers)) == 1
