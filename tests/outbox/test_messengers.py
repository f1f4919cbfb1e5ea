"""The Slack messenger against a fake Slack: retries that wait, once per key, the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.slack.client import build_client
from gtm_feedback.outbox.messengers import OutboxMessenger, SlackMessenger
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.runtime import build_adapters
from gtm_feedback.user.models import User
from tests.integrations.fake_slack import FakeSlack, serve_slack


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with serve_slack(FakeSlack()) as served:
        yield served


def _messenger(sqlite_url: str, fake: FakeSlack) -> tuple[SlackMessenger, str, str]:
    settings = Settings(slack_bot_token="xoxb-test", slack_api_url=fake.api_url)
    client = build_client(settings)
    assert client is not None
    with session_scope(sqlite_url) as session:
        slack_user = User(email="a@x.example", name="A", slack_user_id="U0A")
        no_slack = User(email="b@x.example", name="B")
        session.add_all([slack_user, no_slack])
        session.flush()
        ids = slack_user.id, no_slack.id
    return SlackMessenger(sqlite_url, client), *ids


def _error(status: int, code: str, **headers: str) -> tuple[int, dict[str, str], dict[str, object]]:
    return status, headers, {"ok": False, "error": code}


def test_a_429_waits_for_retry_after_then_posts_once(sqlite_url: str, fake: FakeSlack) -> None:
    messenger, user_id, _ = _messenger(sqlite_url, fake)
    fake.fail("chat.postMessage", _error(429, "ratelimited", **{"Retry-After": "1"}))
    sent = messenger.send(key="k1", kind="created", text="Hello", recipient_user_id=user_id)
    assert (sent.via, sent.sent_now) == ("slack", True)
    first, second = [c for c in fake.calls if c.method == "chat.postMessage"]
    assert second.at - first.at >= 1.0  # honoured Retry-After
    again = messenger.send(key="k1", kind="created", text="Hello", recipient_user_id=user_id)
    assert (again.via, again.sent_now, again.message_id) == ("slack", False, sent.message_id)
    assert len(fake.of("chat.postMessage")) == 2  # the repeat of the key posted nothing


def test_server_errors_are_retried(sqlite_url: str, fake: FakeSlack) -> None:
    messenger, _, _ = _messenger(sqlite_url, fake)
    fake.fail("chat.postMessage", _error(500, "internal_error"), _error(503, "unavailable"))
    sent = messenger.send(key="k2", kind="firehose", text="News", channel="#firehose-api")
    assert (sent.via, sent.sent_now) == ("slack", True)
    assert [c["channel"] for c in fake.of("chat.postMessage")] == ["#firehose-api"] * 3


def test_what_slack_cannot_take_goes_to_the_outbox_with_the_reason(
    sqlite_url: str, fake: FakeSlack
) -> None:
    messenger, _, no_slack_id = _messenger(sqlite_url, fake)
    dm = messenger.send(key="k3", kind="created", text="For B", recipient_user_id=no_slack_id)
    fake.fail("chat.postMessage", _error(200, "channel_not_found"))
    post = messenger.send(key="k4", kind="firehose", text="Post", channel="#firehose-gone")
    assert (dm.via, post.via) == ("outbox", "outbox")
    with session_scope(sqlite_url) as session:
        reasons = dict(session.execute(select(OutboxMessage.key, OutboxMessage.reason)).all())
    assert reasons == {"k3": "no Slack user id", "k4": "Slack refused: channel_not_found"}
    # Only the channel post reached Slack (and was refused); B's DM never tried.
    assert [c["channel"] for c in fake.of("chat.postMessage")] == ["#firehose-gone"]


def test_buttons_travel_as_blocks(sqlite_url: str, fake: FakeSlack) -> None:
    messenger, user_id, _ = _messenger(sqlite_url, fake)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "Approve?"}}]
    messenger.send(
        key="k5", kind="approval_request", text="Approve?", recipient_user_id=user_id, blocks=blocks
    )
    posted = fake.of("chat.postMessage")[0]
    assert posted["blocks"] == blocks
    assert json.dumps(posted["text"]) == '"Approve?"'


def test_without_a_bot_token_messages_go_to_the_outbox(tmp_path: Path) -> None:
    built = build_adapters(Settings(data_dir=tmp_path))
    assert isinstance(built.messenger, OutboxMessenger)
    assert built.slack is None
