"""Process feedback end to end: the real app, DBOS, SQLite, the offline model and agents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest, request_followers
from gtm_feedback.feedback.models import Feedback, MatchTier
from gtm_feedback.learning.models import MatchDecision
from gtm_feedback.main import create_app
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.models import AuditEvent, Role
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_settings

SSO = "saml-single-sign-on-with-okta-and-azure-ad"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(
        tmp_path_factory,
        "process-feedback",
        embed=True,
        port=8116,
        followup_delay=1.0,
        approval_timeout=60.0,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def body(pain: str, account_id: str) -> dict[str, Any]:
    return {
        "pain": pain,
        "severity": "high",
        "account_id": account_id,
        "submitter_email": "seller@gtm.example",
    }


def account_id(settings: Settings) -> str:
    with session_scope(settings.app_database_url) as session:
        found = session.scalars(select(Feedback.account_id).limit(1)).first()
        assert found is not None
        return found


def outbox(settings: Settings, key_prefix: str) -> list[OutboxMessage]:
    with session_scope(settings.app_database_url) as session:
        query = select(OutboxMessage).where(OutboxMessage.key.like(f"{key_prefix}%"))
        return list(session.scalars(query))


def submit(client: TestClient, settings: Settings, pain: str, **headers: str) -> dict[str, Any]:
    payload = body(pain, account_id(settings))
    answer = client.post("/api/feedback", json=payload, headers=headers)
    assert answer.status_code == 202, answer.text
    started: dict[str, Any] = answer.json()
    return started


def test_a_restatement_is_attached_automatically(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.app_database_url) as session:
        request = session.scalars(select(FeatureRequest).where(FeatureRequest.slug == SSO)).one()
        pain = session.scalars(
            select(Feedback.description).where(Feedback.request_id == request.id).limit(1)
        ).one()
    started = submit(client, settings, pain)
    run = finished(client, started["run_id"])
    result = run["result"]
    assert (result["tier"], result["outcome"], result["request_id"]) == (
        "auto",
        "attached",
        request.id,
    )
    assert result["confidence"] >= 0.99
    assert result["candidates"][0]["request_id"] == request.id
    with session_scope(settings.app_database_url) as session:
        stored = session.get(Feedback, result["feedback_id"])
        assert stored is not None
        assert stored.match_tier is MatchTier.AUTO
        assert stored.embedding is not None
        followers = session.execute(
            select(func.count()).where(request_followers.c.request_id == request.id)
        ).scalar_one()
        assert followers >= 1
    messages = outbox(settings, f"confirm:{result['feedback_id']}")
    assert [m.kind for m in messages if m.channel is None] == ["match_confirmation"]
    assert [m.channel for m in messages if m.channel] == ["#firehose-security"]
    # The auto tier is auditable: newest first, with where it went, how sure and why.
    newest = client.get("/api/feedback/automatic", params={"limit": 1}).json()["items"]
    assert [(a["feedback_id"], a["request_slug"]) for a in newest] == [(result["feedback_id"], SSO)]
    assert newest[0]["confidence"] == result["confidence"]
    assert newest[0]["reason"]
    assert newest[0]["pain"] == pain
    page = client.get("/matching/automatic", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert f"/requests/{SSO}?eid={result['feedback_id']}" in page.text
    assert client.get("/api/feedback/automatic", params={"limit": 0}).status_code == 422


def test_an_approver_undoes_an_automatic_attach(client: TestClient, settings: Settings) -> None:
    url = settings.app_database_url
    with session_scope(url) as session:
        request = session.scalars(select(FeatureRequest).where(FeatureRequest.slug == SSO)).one()
        pain = session.scalars(
            select(Feedback.description).where(Feedback.request_id == request.id).limit(1)
        ).one()
    attached = finished(client, submit(client, settings, pain)["run_id"])["result"]
    assert attached["tier"] == "auto"
    feedback_id = attached["feedback_id"]
    undo_path = f"/api/feedback/{feedback_id}/undo"
    member = bearer(url, Role.member, "rep@gtm.example")
    assert client.post(undo_path, headers=member).status_code == 403
    pm = bearer(url, Role.approver, "pm@gtm.example")
    started = client.post(undo_path, headers=pm)
    assert started.status_code == 202, started.text
    assert client.post(undo_path, headers=pm).json() == started.json()  # once per feedback
    result = finished(client, started.json()["run_id"])["result"]
    # Decided again without that request, never automatically: a person or a new request.
    assert result["tier"] in ("approval", "create")
    assert result["request_id"] != request.id
    assert SSO not in {c.get("request_id") for c in result["candidates"]}
    with session_scope(url) as session:
        assert session.get(Feedback, feedback_id) is None  # off the request it was wrong for
        event = session.scalars(select(AuditEvent).where(AuditEvent.target == feedback_id)).one()
        assert (event.action, event.actor) == ("match.undo", "pm@gtm.example")
        assert SSO in event.detail
        label = session.scalars(
            select(MatchDecision).where(MatchDecision.key == f"undo:{feedback_id}")
        ).one()
        assert (label.kind, label.right, label.request_id) == ("undo", False, request.id)
        assert label.decided_by == "pm@gtm.example"
    listed = client.get("/api/feedback/automatic", params={"limit": 200}).json()["items"]
    assert feedback_id not in {a["feedback_id"] for a in listed}
    assert client.post("/api/feedback/fb_nope/undo", headers=pm).status_code == 404
    with session_scope(url) as session:
        manual = session.scalars(
            select(Feedback.id).where(Feedback.match_tier != MatchTier.AUTO).limit(1)
        ).first()
    assert manual is not None
    refused = client.post(f"/api/feedback/{manual}/undo", headers=pm)
    assert refused.status_code == 409
    assert "only an automatic attach" in refused.json()["detail"]


def test_a_new_pain_creates_a_request_and_the_follow_up_fires(
    client: TestClient, settings: Settings
) -> None:
    started = submit(
        client, settings, "The invoice PDF shows the wrong VAT rate for German customers."
    )
    result = finished(client, started["run_id"])["result"]
    assert (result["tier"], result["outcome"]) == ("create", "created")
    with session_scope(settings.app_database_url) as session:
        created = session.get(FeatureRequest, result["request_id"])
        assert created is not None
        assert 10 <= len(created.title) <= 200
        assert created.areas
        assert created.embedding is not None
    assert [
        m.kind for m in outbox(settings, f"created:{result['request_id']}") if not m.channel
    ] == ["created"]
    follow_up = finished(client, f"followup-{result['request_id']}", timeout=30)
    assert follow_up["result"] is True
    assert [m.kind for m in outbox(settings, f"followup:{result['request_id']}")] == ["follow_up"]


@pytest.mark.parametrize(
    ("pain", "approved", "outcome"),
    [
        ("Our reps need the mobile app to work without signal.", True, "attached"),
        ("Could we get a Python client library?", False, "created"),
    ],
)
def test_an_unsure_match_waits_for_a_person(
    client: TestClient, settings: Settings, pain: str, approved: bool, outcome: str
) -> None:
    started = submit(client, settings, pain)
    first = finished(client, started["run_id"])["result"]
    assert (first["tier"], first["outcome"]) == ("approval", "waiting")
    run_id = first["decision_run_id"]
    waiting = [
        a for a in client.get("/api/approvals").json()["items"] if a["workflow_id"] == run_id
    ]
    assert len(waiting) == 1
    token = waiting[0]["token"]
    assert client.get(f"/api/runs/{run_id}").json()["status"] == "PENDING"
    decided = client.post(f"/api/approvals/{token}", json={"approved": approved})
    assert decided.status_code == 200
    result = finished(client, run_id)["result"]
    assert (result["tier"], result["outcome"]) == ("approval", outcome)
    with session_scope(settings.app_database_url) as session:
        stored = session.get(Feedback, result["feedback_id"])
        assert stored is not None
        assert stored.match_tier is (MatchTier.APPROVED if approved else MatchTier.CREATED)
        # The decision is a label for the next refit, kept once with who made it.
        label = session.scalars(
            select(MatchDecision).where(MatchDecision.key == f"approval:{token}")
        ).one()
    assert (label.kind, label.right) == ("approve" if approved else "decline", approved)
    assert (label.decided_by, label.request_id) == ("admin@tests.example", first["request_id"])
    assert label.score > 0
    assert label.feedback_id == f"fb_{started['submission_id']}"


def test_same_idempotency_key_gives_one_run_and_one_feedback(
    client: TestClient, settings: Settings
) -> None:
    pain = "We need a bulk user import from CSV for onboarding."
    first = submit(client, settings, pain, **{"Idempotency-Key": "crm-123"})
    again = submit(client, settings, pain, **{"Idempotency-Key": "crm-123"})
    assert first == again
    result = finished(client, first["run_id"])["result"]
    with session_scope(settings.app_database_url) as session:
        count = session.execute(
            select(func.count()).select_from(Feedback).where(Feedback.id == result["feedback_id"])
        ).scalar_one()
    assert count == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pain": ""}, "pain"),
        ({"pain": "x" * 20_000}, "pain"),  # over the field limit, under the body limit
        ({"severity": "catastrophic"}, "severity"),
        ({"account_id": "no-such-account"}, "account_id"),
        ({"links": "not a list"}, "links"),
        ({"submitter_email": "nobody"}, "submitter_email"),
        ({"opportunity_id": "opp-unknown"}, "opportunity_id"),
    ],
)
def test_bad_input_is_refused_field_by_field_and_nothing_is_written(
    client: TestClient, settings: Settings, change: dict[str, Any], field: str
) -> None:
    with session_scope(settings.app_database_url) as session:
        before = session.execute(select(func.count()).select_from(Feedback)).scalar_one()
    payload = {**body("Valid pain", account_id(settings)), **change}
    answer = client.post("/api/feedback", json=payload)
    assert answer.status_code == 422
    assert ("body", field) in {tuple(e["loc"][:2]) for e in answer.json()["detail"]}
    with session_scope(settings.app_database_url) as session:
        after = session.execute(select(func.count()).select_from(Feedback)).scalar_one()
    assert after == before


def test_a_person_asks_for_a_request_by_name(client: TestClient, settings: Settings) -> None:
    body = {
        "pain": "Finance wants every invoice exported to NetSuite the day it is issued.",
        "creator_email": "ae@gtm.example",
    }
    started = client.post("/api/workflows/create-request", json=body)
    assert started.status_code == 202, started.text
    result = finished(client, started.json()["run_id"])["result"]
    with session_scope(settings.app_database_url) as session:
        row = session.get(FeatureRequest, result["request_id"])
        assert row is not None
        assert (row.slug, row.title) == (result["slug"], result["title"])
        assert row.embedding is not None  # matching sees it at once
        assert row.areas
    # Created with no feedback: the follow-up asks the creator for some.
    assert finished(client, result["followup_run_id"])["result"] is True
    assert [m.kind for m in outbox(settings, f"followup:{result['request_id']}")] == ["follow_up"]
    refused = client.post("/api/workflows/create-request", json={"pain": " ", "creator_email": "x"})
    assert {tuple(e["loc"]) for e in refused.json()["detail"]} == {
        ("body", "pain"),
        ("body", "creator_email"),
    }


def test_process_feedback_by_name_goes_through_the_intake(
    client: TestClient, settings: Settings
) -> None:
    pain = "Their finance team cannot reconcile usage charges against the invoice lines."
    feedback = body(pain, account_id(settings))
    headers = {"Idempotency-Key": "by-name-1"}
    first = client.post("/api/workflows/process-feedback", json=feedback, headers=headers)
    again = client.post("/api/workflows/process-feedback", json=feedback, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["run_id"] == again.json()["run_id"]
    assert first.json()["run_id"].startswith("feedback-sub_")
    assert finished(client, first.json()["run_id"])["status"] == "SUCCESS"
    unknown = client.post("/api/workflows/process-feedback", json=body(pain, "no-such-account"))
    assert unknown.status_code == 422
    assert [tuple(e["loc"]) for e in unknown.json()["detail"]] == [("body", "account_id")]
