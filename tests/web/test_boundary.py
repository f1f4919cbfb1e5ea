"""The boundary: hostile or oversized input is refused with a 4xx, and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from slack_bolt import Ack
from sqlalchemy import func, select

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import slack as request_slack
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.integrations.fake_slack import signed_headers
from tests.runs import finished, seeded_settings

SECRET = "boundary-signing-secret"
LIMIT = 64_000


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A seeded embedded database; Slack signing configured, no bot token."""
    return seeded_settings(
        tmp_path_factory,
        "boundary",
        slack_signing_secret=SECRET,
        max_body_bytes=LIMIT,
        followup_delay=1.0,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app, DBOS launched for the module."""
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _account(settings: Settings) -> str:
    with session_scope(settings.app_database_url) as session:
        return session.scalars(select(Account.id).order_by(Account.id).limit(1)).one()


def _feedback_count(settings: Settings) -> int:
    with session_scope(settings.app_database_url) as session:
        return session.execute(select(func.count()).select_from(Feedback)).scalar_one()


def _body(settings: Settings, **change: Any) -> dict[str, Any]:
    valid = {
        "pain": "Exports time out on big accounts",
        "severity": "high",
        "account_id": _account(settings),
        "submitter_email": "rep@gtm.example",
    }
    return {**valid, **change}


# Python's json writes NaN and Infinity; 1e400 parses to inf; "\ud800" is a lone surrogate.
HOSTILE_JSON = [
    '{"pain": NaN}',
    '{"pain": Infinity, "severity": -Infinity}',
    '{"pain": 1e400, "account_id": 123456789012345678901234567890}',
    '{"pain": "\\ud800", "severity": "\\udfff"}',
    '{"links": ["\\ud800"], "submitter_email": NaN}',
]


@pytest.mark.parametrize("raw", HOSTILE_JSON)
@pytest.mark.parametrize(
    "path",
    ["/api/feedback", "/api/workflows/import", "/api/workflows/mark-shipped", "/api/approvals/t"],
)
def test_unencodable_input_is_a_422_never_a_500(
    client: TestClient, settings: Settings, path: str, raw: str
) -> None:
    before = _feedback_count(settings)
    answer = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    for error in answer.json()["detail"]:
        assert set(error) == {"type", "loc", "msg"}  # the input is never echoed back
    assert _feedback_count(settings) == before


@pytest.mark.parametrize(
    "change",
    [
        {"pain": "before\x00after"},
        {"submitter_email": "a\x00@b.example"},
        {"links": ["http://x/\x00"]},
    ],
)
def test_nul_bytes_in_a_body_are_refused(
    client: TestClient, settings: Settings, change: dict[str, Any]
) -> None:
    before = _feedback_count(settings)
    answer = client.post("/api/feedback", json=_body(settings, **change))
    assert answer.status_code == 422
    assert "NUL" in answer.json()["detail"][0]["msg"]
    assert _feedback_count(settings) == before


@pytest.mark.parametrize(
    "url",
    ["/api/requests/a%00b", "/api/requests?area=a%00b", "/requests?q=%00", "/api/accounts/%00"],
)
def test_nul_bytes_in_a_url_are_refused(client: TestClient, url: str) -> None:
    assert client.get(url).status_code == 422


def test_nul_bytes_in_a_form_are_refused(client: TestClient) -> None:
    answer = client.post(
        "/feedback/new",
        content="pain=a%00b&severity=high",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422


def test_a_body_over_the_limit_is_413_and_nothing_is_written(
    client: TestClient, settings: Settings
) -> None:
    before = _feedback_count(settings)
    big = json.dumps(_body(settings, pain="x" * LIMIT))
    answer = client.post("/api/feedback", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert str(LIMIT) in answer.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for _ in range(8):
            yield b" " * (LIMIT // 4)

    streamed = client.post(
        "/api/feedback", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert _feedback_count(settings) == before


@pytest.mark.parametrize("path", ["/api/requests", "/api/outbox"])
@pytest.mark.parametrize("offset", [2**63, 10**30, -1])
def test_offsets_are_bounded(client: TestClient, path: str, offset: int) -> None:
    assert client.get(path, params={"offset": offset}).status_code == 422


def test_the_source_is_not_the_callers_to_set(client: TestClient, settings: Settings) -> None:
    answer = client.post("/api/feedback", json=_body(settings, source="slack"))
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "source"]


def test_a_key_reused_with_another_body_is_a_409(client: TestClient, settings: Settings) -> None:
    key = {"Idempotency-Key": "crm/export 42?x#1"}  # a slash, a space, ? and #
    first = client.post("/api/feedback", json=_body(settings), headers=key)
    assert first.status_code == 202
    again = client.post("/api/feedback", json=_body(settings), headers=key)
    assert again.json()["run_id"] == first.json()["run_id"]
    other = client.post("/api/feedback", json=_body(settings, pain="Another pain"), headers=key)
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]
    run = client.get(f"/api/runs/{quote(first.json()['run_id'])}")
    assert run.status_code == 200


def test_any_key_maps_to_a_reachable_run_on_the_workflows_api(client: TestClient) -> None:
    key = {"Idempotency-Key": "../a/b?c#d"}
    started = client.post("/api/workflows/sync-embeddings", json={"batch_size": 64}, headers=key)
    assert started.status_code == 202
    run_id = started.json()["run_id"]
    assert client.get(f"/api/runs/{run_id}").status_code == 200
    other = client.post("/api/workflows/sync-embeddings", json={"batch_size": 65}, headers=key)
    assert other.status_code == 409


def test_a_non_numeric_slack_timestamp_is_401(client: TestClient) -> None:
    body = "command=%2Fshipped&text=x"
    headers = {**signed_headers(SECRET, body), "X-Slack-Request-Timestamp": "soon"}
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    answer = client.post("/slack/commands", content=body, headers=headers)
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/slack/interactions", "payload=not-json"),
        ("/slack/interactions", "payload=%5B1%2C2%5D"),  # a JSON list, not an object
        ("/slack/events", "[]"),
    ],
)
def test_a_signed_but_malformed_slack_body_is_400(client: TestClient, path: str, body: str) -> None:
    kind = "application/json" if body.startswith("[") else "application/x-www-form-urlencoded"
    headers = {**signed_headers(SECRET, body), "Content-Type": kind}
    answer = client.post(path, content=body, headers=headers)
    assert answer.status_code == 400, answer.text


def test_a_javascript_url_is_never_a_link(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.app_database_url, write=True) as session:
        account = session.get(Account, _account(settings))
        assert account is not None
        account.website = "javascript:alert(1)"  # stored before imports refused it
    page = client.get(f"/accounts/{_account(settings)}", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "javascript:alert(1)" in page.text
    assert 'href="javascript:' not in page.text
    imported = client.post(
        "/api/workflows/import",
        json={"kind": "accounts", "csv": "id,name,website\nevil,Evil,javascript:alert(1)\n"},
    )
    assert imported.status_code == 202
    result = finished(client, imported.json()["run_id"], timeout=60)["result"]
    assert (result["created"], len(result["errors"])) == (0, 1)
    assert "http" in result["errors"][0]["reason"]


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("mark-shipped", {"request": "no-such-request"}, "request"),
        ("weekly-digest", {"day": "0001-01-01"}, "day"),
        ("weekly-digest", {"day": "9999-12-31"}, "day"),
    ],
)
def test_a_start_known_to_fail_is_refused_at_the_door(
    client: TestClient, name: str, body: dict[str, str], field: str
) -> None:
    answer = client.post(f"/api/workflows/{name}", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", field]


def test_an_unfurl_without_a_bot_token_starts_no_run(client: TestClient) -> None:
    ack = Ack()  # type: ignore[no-untyped-call]  # slack_bolt leaves __init__ untyped
    event = {
        "type": "link_shared",
        "channel": "C1",
        "message_ts": "1.2",
        "links": [{"url": "http://127.0.0.1:8000/requests/x"}],
    }
    request_slack.on_link_shared(ack, {"event_id": "EvNoBot"}, event)
    assert ack.response is not None  # acknowledged
    assert DBOS.get_workflow_status("slack-EvNoBot") is None  # nothing that could only fail
