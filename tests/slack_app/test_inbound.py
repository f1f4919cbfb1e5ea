"""Slack's requests reach the app only when signed and fresh; retries start nothing twice."""

from __future__ import annotations

import json
import time
from pathlib import Path

from dbos import DBOS
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.main import create_app
from tests.integrations.fake_slack import FakeSlack, signed_headers
from tests.runs import finished
from tests.slack_app.conftest import SELLER, post_event, post_signed

CHANNEL = "C0SALES"
ROOT = "1700000000.000100"


def test_url_verification_answers_the_challenge(client: TestClient) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "x"})
    answer = post_signed(client, "/slack/events", body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "abc123"}


def test_a_forged_signature_is_refused(client: TestClient, slack: FakeSlack) -> None:
    body = "command=%2Fshipped&text=&user_id=U1&response_url=x&trigger_id=t"
    headers = signed_headers("not-the-secret", body)
    before = len(slack.calls)
    answer = client.post(
        "/slack/commands",
        content=body,
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 401
    unsigned = client.post("/slack/commands", content=body)
    assert unsigned.status_code == 401
    assert len(slack.calls) == before  # nothing was done


def test_a_stale_timestamp_is_refused(client: TestClient) -> None:
    body = "command=%2Fshipped&text=&user_id=U1&response_url=x&trigger_id=t"
    old = post_signed(client, "/slack/commands", body, timestamp=time.time() - 6 * 60)
    assert old.status_code == 401
    fresh = post_signed(client, "/slack/commands", body)
    assert fresh.status_code == 200


def test_without_a_signing_secret_slack_urls_say_so(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path), launch_dbos=False)
    with TestClient(app) as bare:
        answer = bare.post("/slack/events", content="{}")
    assert answer.status_code == 503
    assert "GTMFB_SLACK_SIGNING_SECRET" in answer.json()["detail"]


def test_a_redelivered_event_runs_once(client: TestClient, slack: FakeSlack) -> None:
    slack.threads[f"{CHANNEL}:{ROOT}"] = [
        {
            "ts": ROOT,
            "text": "Hi team! Initech cannot export audit logs to their SIEM.",
            "user": "U9",
        },
        {"ts": "1700000000.000200", "thread_ts": ROOT, "text": "+1", "user": "U8"},
    ]
    event = {
        "type": "reaction_added",
        "user": SELLER,
        "reaction": "gtm-feedback",
        "item": {"type": "message", "channel": CHANNEL, "ts": "1700000000.000200"},
        "event_ts": "1700000001.000001",
    }
    ephemerals = len(slack.of("chat.postEphemeral"))
    first = post_event(client, "Ev0DUP", event)
    again = post_event(
        client,
        "Ev0DUP",
        event,
        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert (first.status_code, again.status_code) == (200, 200)
    run = finished(client, "slack-Ev0DUP", timeout=60)
    assert run["result"] == "proposed"
    assert len(DBOS.list_workflows(workflow_id_prefix="slack-Ev0DUP")) == 1
    taking = slack.of("chat.postEphemeral")[ephemerals:]
    assert [p["text"] for p in taking] == ["Taking a look at this message…"]
    # The reply led to its thread's root; the proposal is posted in that thread.
    proposal = slack.wait_for("chat.postMessage")[-1]
    assert (proposal["channel"], proposal["thread_ts"]) == (CHANNEL, ROOT)
    assert "export audit logs" in proposal["text"]
    actions = proposal["blocks"][1]["elements"]
    assert [a["action_id"] for a in actions] == ["proposal_add", "proposal_ignore"]


def test_other_reactions_are_ignored(client: TestClient) -> None:
    event = {
        "type": "reaction_added",
        "user": SELLER,
        "reaction": "thumbsup",
        "item": {"type": "message", "channel": CHANNEL, "ts": ROOT},
    }
    assert post_event(client, "Ev0THUMB", event).status_code == 200
    assert DBOS.list_workflows(workflow_id_prefix="slack-Ev0THUMB") == []
