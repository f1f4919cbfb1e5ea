"""Each Slack flow end to end: the real app, DBOS and workflows, a fake Slack on loopback."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feedback.models import Feedback, FeedbackSource
from gtm_feedback.user import service as users
from gtm_feedback.user.models import Role, User
from tests.auth import bearer
from tests.integrations.fake_slack import FakeSlack, form
from tests.runs import finished
from tests.slack_app.conftest import PUBLIC, SELLER, SELLER_EMAIL, post_event, post_signed

UNSURE = "Our reps need the mobile app to work without signal."


def _account(settings: Settings) -> str:
    with session_scope(settings.app_database_url) as session:
        found = session.scalars(select(Feedback.account_id).limit(1)).first()
        assert found is not None
        return found


def _click(
    client: TestClient, action_id: str, value: str, user: str, message: dict[str, Any]
) -> Any:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T1"},
        "trigger_id": "trig-1",
        "container": {
            "type": "message",
            "channel_id": message["channel"],
            "message_ts": message["ts"],
        },
        "channel": {"id": message["channel"]},
        "message": {"text": message["text"], "ts": message["ts"]},
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }
    return post_signed(client, "/slack/interactions", form(payload))


def test_approve_button_resumes_the_match_and_a_second_click_is_told(
    client: TestClient, settings: Settings, slack: FakeSlack
) -> None:
    body = {
        "pain": UNSURE,
        "severity": "high",
        "account_id": _account(settings),
        "submitter_email": SELLER_EMAIL,
    }
    run_id = client.post("/api/feedback", json=body).json()["run_id"]
    assert finished(client, run_id)["result"]["outcome"] == "waiting"
    dm = slack.wait_until(
        "chat.postMessage", lambda p: bool(p.get("blocks")) and p["channel"] == SELLER
    )[0]
    approve, decline = dm["blocks"][1]["elements"]
    assert (approve["action_id"], decline["action_id"]) == ("approval_approve", "approval_decline")
    message = {"channel": "D0SELLER", "ts": "1.0001", "text": dm["text"]}
    assert _click(client, "approval_approve", approve["value"], SELLER, message).status_code == 200
    decided = finished(client, f"{run_id}-decision", timeout=60)["result"]
    assert (decided["tier"], decided["outcome"]) == ("approval", "attached")
    update = slack.wait_until("chat.update", lambda u: u["ts"] == "1.0001")[-1]
    assert update["channel"] == "D0SELLER"
    # Attached: the area's firehose channel got its post too.
    posts = [p for p in slack.of("chat.postMessage") if str(p["channel"]).startswith("#firehose-")]
    assert any(UNSURE in p["text"] for p in posts)
    assert update["blocks"][-1]["elements"][0]["text"] == f"*Approved* by <@{SELLER}>"
    # Clicking Decline on the same message afterwards changes nothing, and says why.
    assert _click(client, "approval_decline", approve["value"], SELLER, message).status_code == 200
    told = slack.wait_until("chat.postEphemeral", lambda t: t["user"] == SELLER)[-1]
    assert told["text"].startswith(f"Nothing changed: this was already approved by {SELLER_EMAIL}")


def test_a_match_is_decided_only_by_the_person_asked_or_an_approver(
    client: TestClient, settings: Settings, slack: FakeSlack
) -> None:
    body = {
        "pain": "Field reps want the mobile app to keep their notes when there is no signal.",
        "severity": "medium",
        "account_id": _account(settings),
        "submitter_email": SELLER_EMAIL,
    }
    run_id = client.post("/api/feedback", json=body).json()["run_id"]
    assert finished(client, run_id)["result"]["outcome"] == "waiting"
    token = next(
        a["token"]
        for a in client.get("/api/approvals").json()["items"]
        if a["workflow_id"] == f"{run_id}-decision"
    )
    message = {"channel": "C0SHARED", "ts": "2.0001", "text": "Is this the same request?"}
    assert _click(client, "approval_approve", token, "U0STRANGER", message).status_code == 200
    told = slack.wait_until("chat.postEphemeral", lambda t: t["user"] == "U0STRANGER")[-1]
    assert told["text"] == "Only the person this was asked of, or an approver, can decide it."
    still = client.get("/api/approvals", params={"status": "any"}).json()["items"]
    assert next(a for a in still if a["token"] == token)["status"] == "pending"
    # An approver linked to Slack may decide it.
    with session_scope(settings.app_database_url, write=True) as session:
        pm = users.link_slack(
            session, slack_user_id="U0PMLEAD", user_id=None, email="pm.lead@example.com", name="PM"
        )
        users.set_role(session=session, user_id=pm.id, role=Role.approver)
    assert _click(client, "approval_decline", token, "U0PMLEAD", message).status_code == 200
    decided = finished(client, f"{run_id}-decision", timeout=60)["result"]
    assert decided["outcome"] == "created"


def _command(
    client: TestClient,
    slack: FakeSlack,
    text: str,
    name: str,
    user: str = SELLER,
    command: str = "shipped",
) -> Any:
    body = (
        f"command=%2F{command}&user_id="
        + user
        + "&trigger_id="
        + name
        + "&response_url="
        + slack.response_url(name)
        + "&text="
        + text
    )
    return post_signed(client, "/slack/commands", body)


def test_shipped_command(client: TestClient, settings: Settings, slack: FakeSlack) -> None:
    usage = _command(client, slack, "", "empty")
    assert "Usage: `/shipped <request link>`" in usage.text
    wrong = _command(client, slack, f"{PUBLIC}/areas/mobile", "wrong")
    assert "not a link to a request" in wrong.text
    missing = _command(client, slack, f"{PUBLIC}/requests/no-such-request", "missing")
    assert "There is no request at" in missing.text
    with session_scope(settings.app_database_url) as session:
        request = session.scalars(
            select(FeatureRequest).where(FeatureRequest.status == RequestStatus.OPEN)
        ).first()
        assert request is not None
        slug, followers = request.slug, len(request.followers)
    stranger = _command(client, slack, f"{PUBLIC}/requests/{slug}", "nope", user="U0STRANGER")
    assert "Only approvers mark requests shipped" in stranger.text
    started = _command(client, slack, f"%3C{PUBLIC}/requests/{slug}%3E", "ship1")
    assert started.status_code == 200
    assert "shipped and telling its followers" in started.text
    run = finished(client, "slack-shipped-ship1", timeout=60)
    assert run["status"] == "SUCCESS"
    reply = next(r for r in slack.responses if r["name"] == "ship1")
    told = re.search(
        r"notified (\d+) of (\d+) followers(?: and (\d+) of (\d+) account owners)?", reply["text"]
    )
    assert told is not None, reply["text"]
    assert told[1] == told[2]  # followers who own an account that asked hear as owners
    assert told[3] == told[4]
    assert int(told[2]) + int(told[4] or 0) >= followers
    assert reply["response_type"] == "in_channel"


def test_feedback_command_opens_the_form_or_searches(client: TestClient, slack: FakeSlack) -> None:
    opened = len(slack.of("views.open"))
    assert _command(client, slack, "", "fb-empty", command="feedback").status_code == 200
    view = slack.wait_for("views.open", opened + 1)[-1]["view"]
    assert view["callback_id"] == "add_feedback_modal"
    _command(client, slack, "Reps%20lose%20notes%20without%20signal", "fb-pain", command="feedback")
    view = slack.wait_for("views.open", opened + 2)[-1]["view"]
    assert "Reps lose notes without signal" in json.dumps(view)
    query = "search%20SAML%20single%20sign-on%20through%20Okta"
    found = _command(client, slack, query, "fb-search", command="feedback")
    assert found.status_code == 200
    assert "Requests matching “SAML single sign-on through Okta”" in found.text
    sso = f"<{PUBLIC}/requests/saml-single-sign-on-with-okta-and-azure-ad|"
    first = found.text.splitlines()[1]
    assert first.startswith(f"• {sso}")
    assert "ARR ·" in first
    assert "% match" in first
    assert len(slack.of("views.open")) == opened + 2  # a search opens nothing
    assert (
        "What should I search for?"
        in _command(client, slack, "search", "fb-s", command="feedback").text
    )
    assert (
        "`/feedback search TEXT`"
        in _command(client, slack, "help", "fb-h", command="feedback").text
    )


def _submission(view_id: str, values: dict[str, str], metadata: str = "{}") -> dict[str, Any]:
    state = {
        name: {"value": {"type": "static_select", "selected_option": {"value": value}}}
        if name == "severity"
        else {"value": {"type": "plain_text_input", "value": value}}
        for name, value in values.items()
    }
    return {
        "type": "view_submission",
        "user": {"id": "U0NEW"},
        "team": {"id": "T1"},
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": "add_feedback_modal",
            "private_metadata": metadata,
            "state": {"values": state},
        },
    }


def test_add_feedback_shortcut_and_modal(
    client: TestClient, settings: Settings, slack: FakeSlack
) -> None:
    shortcut = {
        "type": "shortcut",
        "callback_id": "add_feedback",
        "trigger_id": "trig-9",
        "user": {"id": "U0NEW"},
        "team": {"id": "T1"},
    }
    assert post_signed(client, "/slack/interactions", form(shortcut)).status_code == 200
    view = slack.wait_for("views.open")[-1]["view"]
    assert view["callback_id"] == "add_feedback_modal"
    severity = view["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in severity] == [
        "Nice to have",
        "Significant pain",
        "Dealbreaker",
    ]

    empty = {
        "severity": "",
        "account_id": "nope",
        "opportunity_id": "",
        "pain": "",
        "links": "not a url",
    }
    refused = post_signed(client, "/slack/interactions", form(_submission("V0BAD", empty)))
    assert refused.json()["response_action"] == "errors"
    assert set(refused.json()["errors"]) == {"severity", "pain", "links"}
    unknown = {**empty, "severity": "high", "pain": "They need SSO", "links": ""}
    answer = post_signed(client, "/slack/interactions", form(_submission("V0BAD2", unknown)))
    assert answer.json()["errors"] == {"account_id": "unknown account 'nope'"}

    good = {
        **unknown,
        "account_id": _account(settings),
        "pain": "Initech needs SCIM provisioning from Okta for 4,000 seats.",
    }
    ok = post_signed(client, "/slack/interactions", form(_submission("V0GOOD", good)))
    assert (ok.status_code, ok.text) == (200, "")
    process_run = finished(client, "slack-view-V0GOOD", timeout=60)["result"]
    outcome = finished(client, process_run, timeout=90)["result"]
    assert outcome["outcome"] in {"attached", "created", "waiting"}
    with session_scope(settings.app_database_url) as session:
        user = session.scalars(select(User).where(User.slack_user_id == "U0NEW")).one()
        assert user.email == "new.rep@gtm.example"
        if outcome["feedback_id"]:
            stored = session.get(Feedback, outcome["feedback_id"])
            assert stored is not None
            assert stored.source is FeedbackSource.SLACK
    # The new rep hears back by DM in Slack.
    assert slack.wait_until("chat.postMessage", lambda p: p["channel"] == "U0NEW")


def test_proposal_approve_opens_the_prefilled_modal_and_ignore_closes_it(
    client: TestClient, settings: Settings, slack: FakeSlack
) -> None:
    slack.threads["C0CS:1700000100.000100"] = [
        {
            "ts": "1700000100.000100",
            "text": "Globex keeps asking for a dark mode in the dashboard.",
            "user": "U7",
        }
    ]
    event = {
        "type": "reaction_added",
        "user": SELLER,
        "reaction": "gtm-feedback",
        "item": {"type": "message", "channel": "C0CS", "ts": "1700000100.000100"},
    }
    post_event(client, "Ev0PROP", event)
    assert finished(client, "slack-Ev0PROP", timeout=60)["result"] == "proposed"
    proposal = [
        p for p in slack.of("chat.postMessage") if p.get("thread_ts") == "1700000100.000100"
    ][-1]
    token = proposal["blocks"][1]["elements"][0]["value"]
    message = {"channel": "C0CS", "ts": "1700000100.000500", "text": proposal["text"]}
    opened = len(slack.of("views.open"))
    _click(client, "proposal_add", token, SELLER, message)
    view = slack.wait_for("views.open", opened + 1)[-1]["view"]
    pain_block = next(b for b in view["blocks"] if b["block_id"] == "pain")
    assert "dark mode" in pain_block["element"]["initial_value"]
    assert json.loads(view["private_metadata"]) == {"proposal": token}
    # Someone ignores it instead: the thread message shows who did.
    _click(client, "proposal_ignore", token, "U0OTHER", message)
    update = slack.wait_until("chat.update", lambda u: u["ts"] == "1700000100.000500")[-1]
    assert update["blocks"][-1]["elements"][0]["text"] == "*Ignored* by <@U0OTHER>"


def test_links_to_the_app_are_previewed(
    client: TestClient, settings: Settings, slack: FakeSlack
) -> None:
    with session_scope(settings.app_database_url) as session:
        item = session.scalars(select(Feedback).limit(1)).one()
        slug, eid, account = item.request.slug, item.id, item.account_id
        title, account_name = item.request.title, item.account.name
    links = [
        f"{PUBLIC}/requests/{slug}",
        f"{PUBLIC}/requests/{slug}?eid={eid}",
        f"{PUBLIC}/areas/mobile",
        f"{PUBLIC}/accounts/{account}",
        "https://example.org/elsewhere",
    ]
    event = {
        "type": "link_shared",
        "channel": "C0IN",
        "user": SELLER,
        "message_ts": "1.5",
        "links": [{"url": u, "domain": "gtm.test"} for u in links],
    }
    post_event(client, "Ev0LINK", event)
    assert finished(client, "slack-Ev0LINK", timeout=60)["result"] == 4
    unfurls = slack.wait_for("chat.unfurl")[-1]["unfurls"]
    assert set(unfurls) == set(links[:4])
    request_card = unfurls[links[0]]["blocks"]
    assert title in request_card[0]["text"]["text"]
    assert "ARR" in request_card[1]["elements"][0]["text"]
    assert account_name in unfurls[links[1]]["blocks"][1]["elements"][0]["text"]
    # In a channel shared with another company: titles only.
    slack.external_channels.add("C0EXT")
    post_event(client, "Ev0LINKX", {**event, "channel": "C0EXT"})
    finished(client, "slack-Ev0LINKX", timeout=60)
    shared = slack.wait_for("chat.unfurl", 2)[-1]["unfurls"]
    assert all(len(card["blocks"]) == 1 for card in shared.values())
    assert "ARR" not in json.dumps(shared)  # titles, never figures


def test_a_decision_in_the_web_inbox_rewrites_the_slack_message(
    client: TestClient, settings: Settings, slack: FakeSlack
) -> None:
    pain = "Reps in the field need the mobile app to keep working offline."
    body = {
        "pain": pain,
        "severity": "medium",
        "account_id": _account(settings),
        "submitter_email": SELLER_EMAIL,
    }
    run_id = client.post("/api/feedback", json=body).json()["run_id"]
    result = finished(client, run_id)["result"]
    assert result["outcome"] == "waiting"
    token = next(
        a["token"]
        for a in client.get("/api/approvals").json()["items"]
        if a["workflow_id"] == f"{run_id}-decision"
    )
    updates = len(slack.of("chat.update"))
    pm = bearer(settings.app_database_url, Role.approver, "pm@gtm.example")
    decided = client.post(f"/api/approvals/{token}", json={"approved": False}, headers=pm)
    assert decided.status_code == 200
    update = slack.wait_for("chat.update", updates + 1)[-1]
    assert update["channel"].startswith("D")
    assert update["blocks"][-1]["elements"][0]["text"] == "*Declined* by pm@gtm.example"
    assert (
        pain.split()[0] in update["blocks"][0]["text"]["text"]
        or update["blocks"][0]["text"]["text"]
    )
