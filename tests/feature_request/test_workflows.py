"""Mark shipped, run by a real launched DBOS on a real SQLite database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from dbos import DBOS, SetWorkflowID
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.fanout import FANOUT_LIMIT
from gtm_feedback.errors import PermanentError
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feature_request.workflows import (
    MarkShippedInput,
    MarkShippedResult,
    mark_shipped_workflow,
)
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.messaging.base import Delivery, Messenger
from gtm_feedback.migrations import upgrade
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.runtime import dbos_runtime
from gtm_feedback.user.models import User
from tests import factories


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    found = Settings(data_dir=tmp_path_factory.mktemp("workflows"), port=8114)
    upgrade(found.app_database_url)
    with dbos_runtime(found, "test"):
        yield found


def _request_with_followers(url: str, followers: int) -> str:
    with session_scope(url) as session:
        request = factories.request(session, f"req-{uuid.uuid4().hex[:8]}")
        for n in range(followers):
            user = User(name=f"Follower {n}", email=f"f{n}-{uuid.uuid4().hex[:6]}@x.io")
            request.followers.append(user)
        session.flush()
        return request.id


def _run(data: MarkShippedInput) -> MarkShippedResult:
    with SetWorkflowID(f"ship-{uuid.uuid4().hex}"):
        return DBOS.start_workflow(mark_shipped_workflow, data).get_result()


def _messages(url: str, request_id: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        query = select(OutboxMessage).where(OutboxMessage.key.like(f"shipped:{request_id}:%"))
        return list(session.scalars(query))


def test_every_follower_is_notified_once(settings: Settings) -> None:
    url = settings.app_database_url
    request_id = _request_with_followers(url, 3)
    result = _run(MarkShippedInput(request=request_id))
    assert (result.already_shipped, result.followers, result.notified) == (False, 3, 3)
    sent = _messages(url, request_id)
    assert len(sent) == 3
    assert all(f"/requests/{result.slug}|" in message.text for message in sent)
    with session_scope(url) as session:
        row = session.get(FeatureRequest, request_id)
        assert row is not None
        assert row.status is RequestStatus.SHIPPED
        assert row.shipped_at is not None
    again = _run(MarkShippedInput(request=result.slug))
    assert (again.already_shipped, again.followers, again.notified) == (True, 3, 0)
    assert len(_messages(url, request_id)) == 3


def test_unknown_request_fails_the_run_with_a_clear_error(settings: Settings) -> None:
    with SetWorkflowID("ship-unknown"):
        handle = DBOS.start_workflow(mark_shipped_workflow, MarkShippedInput(request="nope"))
    with pytest.raises(PermanentError, match="no request with id or slug 'nope'"):
        handle.get_result()
    status = DBOS.get_workflow_status("ship-unknown")
    assert status is not None
    assert status.status == "ERROR"


class FlakyMessenger:
    """Fails the first ``failures`` sends, then delegates; counts every attempt."""

    def __init__(self, inner: Messenger, failures: int, error: Exception) -> None:
        self.inner, self.failures, self.error, self.attempts = inner, failures, error, 0

    def send(self, **kwargs: object) -> Delivery:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise self.error
        return self.inner.send(**kwargs)  # type: ignore[arg-type]


def test_a_send_that_fails_twice_then_succeeds_completes(settings: Settings) -> None:
    request_id = _request_with_followers(settings.app_database_url, 1)
    normal = adapters.current()
    flaky = FlakyMessenger(normal.messenger, 2, ConnectionError("slack is down"))
    with adapters.use(replace(normal, messenger=flaky)):
        result = _run(MarkShippedInput(request=request_id))
    assert (result.notified, flaky.attempts) == (1, 3)


def test_a_permanent_failure_is_not_retried_and_other_runs_continue(settings: Settings) -> None:
    url = settings.app_database_url
    broken, fine = _request_with_followers(url, 1), _request_with_followers(url, 2)
    normal = adapters.current()
    flaky = FlakyMessenger(normal.messenger, 1, PermanentError("user has no channel"))
    with adapters.use(replace(normal, messenger=flaky)):
        run_id = f"ship-{uuid.uuid4().hex}"
        with SetWorkflowID(run_id):
            result = DBOS.start_workflow(mark_shipped_workflow, MarkShippedInput(request=broken))
        failed = result.get_result()
        assert flaky.attempts == 1  # a permanent error is not retried
        assert _run(MarkShippedInput(request=fine)).notified == 2
    (follower,) = failed.failed
    assert (failed.followers, failed.notified) == (1, 0)
    branch = DBOS.get_workflow_status(f"{run_id}-notify-{follower}")
    assert branch is not None
    assert branch.status == "ERROR"
    assert "user has no channel" in str(branch.error)


def test_followers_are_notified_by_child_runs_beyond_the_limit(settings: Settings) -> None:
    url = settings.app_database_url
    request_id = _request_with_followers(url, 2 * FANOUT_LIMIT + 3)
    run_id = f"ship-{uuid.uuid4().hex}"
    with SetWorkflowID(run_id):
        result = DBOS.start_workflow(
            mark_shipped_workflow, MarkShippedInput(request=request_id)
        ).get_result()
    assert (result.followers, result.notified, result.failed) == (35, 35, [])
    assert len(_messages(url, request_id)) == 35
    children = DBOS.list_workflows(workflow_id_prefix=f"{run_id}-notify-")
    assert len(children) == 35
    assert {child.status for child in children} == {"SUCCESS"}
    assert {child.parent_workflow_id for child in children} == {run_id}
