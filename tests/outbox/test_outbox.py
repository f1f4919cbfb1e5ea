"""The offline messenger: one outbox row per idempotency key, even under concurrent retries."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.messaging.base import Delivery
from gtm_feedback.main import create_app
from gtm_feedback.migrations import upgrade
from gtm_feedback.outbox import service
from gtm_feedback.outbox.messengers import OutboxMessenger
from gtm_feedback.outbox.models import OutboxMessage
from tests.auth import signed_in


def _count(url: str) -> int:
    with session_scope(url) as session:
        return session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()


def test_same_key_is_sent_once(db_url: str) -> None:
    messenger = OutboxMessenger(db_url)
    first = messenger.send(key="fb-1:confirm", kind="match_confirmation", text="Hi", channel="#x")
    again = messenger.send(key="fb-1:confirm", kind="match_confirmation", text="Hi", channel="#x")
    assert (first.via, first.sent_now, again.sent_now) == ("outbox", True, False)
    assert first.message_id == again.message_id
    assert _count(db_url) == 1


def test_concurrent_retries_of_one_key_leave_one_row(db_url: str) -> None:
    messenger = OutboxMessenger(db_url)
    deliveries: list[Delivery] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        deliveries.append(messenger.send(key="race", kind="shipped", text="t", channel="#c"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(deliveries) == 4
    assert sum(d.sent_now for d in deliveries) == 1
    assert len({d.message_id for d in deliveries}) == 1
    assert _count(db_url) == 1


def test_a_message_needs_one_recipient(db_url: str) -> None:
    with session_scope(db_url) as session, pytest.raises(service.RecipientError):
        service.record(session=session, key="k", kind="x", text="t")


def test_outbox_api_lists_newest_first(tmp_path_factory: pytest.TempPathFactory) -> None:
    settings = Settings(data_dir=tmp_path_factory.mktemp("outbox"), port=8113)
    upgrade(settings.app_database_url)
    messenger = OutboxMessenger(settings.app_database_url, "Slack is not configured")
    for n in range(3):
        messenger.send(key=f"k{n}", kind="created", text=f"message {n}", channel="#firehose")
    with signed_in(create_app(settings, launch_dbos=False), settings) as client:
        listed = client.get("/api/outbox", params={"limit": 2}).json()["items"]
        assert [m["text"] for m in listed] == ["message 2", "message 1"]
        assert {m["reason"] for m in listed} == {"Slack is not configured"}
        assert client.get("/api/outbox", params={"limit": 0}).status_code == 422
