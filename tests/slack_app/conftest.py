"""A real app and DBOS per test module, wired to a fake Slack on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.main import create_app
from gtm_feedback.user.models import User
from tests.auth import signed_in
from tests.integrations.fake_slack import FakeSlack, serve_slack, signed_headers
from tests.runs import seeded_settings

SECRET = "test-signing-secret"
SELLER = "U0SELLER"
SELLER_EMAIL = "seller@gtm.example"
PUBLIC = "http://gtm.test"


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    users = {
        SELLER: {"id": SELLER, "profile": {"email": SELLER_EMAIL, "real_name": "Sam Seller"}},
        "U0NEW": {
            "id": "U0NEW",
            "profile": {"email": "new.rep@gtm.example", "real_name": "New Rep"},
        },
    }
    with serve_slack(FakeSlack(users=users)) as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, slack: FakeSlack) -> Settings:
    found = seeded_settings(
        tmp_path_factory,
        "slack",
        port=8141,
        public_url=PUBLIC,
        slack_bot_token="xoxb-test",
        slack_signing_secret=SECRET,
        slack_api_url=slack.api_url,
        # Short waits: a sleeping or waiting run holds a DBOS worker thread, and the test
        # process cannot exit before it ends.
        approval_timeout=20.0,
        followup_delay=1.0,
    )
    embedder = get_embedder(found)
    with session_scope(found.app_database_url) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)
        # An approver: besides filing feedback from Slack, the seller ships with /shipped.
        seller = User(email=SELLER_EMAIL, name="Sam Seller", slack_user_id=SELLER, role="approver")
        session.add(seller)
    return found


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def post_signed(
    client: TestClient,
    path: str,
    body: str,
    *,
    content_type: str = "application/x-www-form-urlencoded",
    timestamp: float | None = None,
    extra: dict[str, str] | None = None,
) -> Any:
    """POST ``body`` to the app signed as Slack signs it."""
    headers = {"Content-Type": content_type, **signed_headers(SECRET, body, timestamp=timestamp)}
    return client.post(path, content=body, headers={**headers, **(extra or {})})


def post_event(client: TestClient, event_id: str, event: dict[str, Any], **extra: str) -> Any:
    """An Events API callback, signed."""
    envelope = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": event_id,
        "event_time": 1,
        "event": event,
    }
    return post_signed(
        client, "/slack/events", json.dumps(envelope), content_type="application/json", extra=extra
    )
