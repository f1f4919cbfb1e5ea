"""Moving feedback to the request it belongs to: audited, refused when wrong, and a label."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback, MatchTier
from gtm_feedback.learning.models import MatchDecision
from gtm_feedback.main import create_app
from gtm_feedback.user.models import AuditEvent, Role
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_settings

SSO = "saml-single-sign-on-with-okta-and-azure-ad"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "moves", embed=True, followup_delay=1.0)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _attached(client: TestClient, settings: Settings) -> dict[str, str]:
    """Submit a restatement of SSO feedback: matching attaches it automatically."""
    with session_scope(settings.app_database_url) as session:
        sso = session.scalars(select(FeatureRequest).where(FeatureRequest.slug == SSO)).one()
        row = session.scalars(select(Feedback).where(Feedback.request_id == sso.id)).first()
        assert row is not None
        body = {"pain": row.description, "severity": "high", "account_id": row.account_id}
    body["submitter_email"] = "rep@tests.example"
    started = client.post("/api/feedback", json=body).json()
    result: dict[str, str] = finished(client, started["run_id"])["result"]
    assert result["tier"] == "auto"
    return result


def _label(settings: Settings, key: str) -> MatchDecision:
    with session_scope(settings.app_database_url) as session:
        return session.scalars(select(MatchDecision).where(MatchDecision.key == key)).one()


def test_a_wrong_match_is_moved_and_becomes_a_label(client: TestClient, settings: Settings) -> None:
    attached = _attached(client, settings)
    feedback_id, original = attached["feedback_id"], attached["request_id"]
    with session_scope(settings.app_database_url) as session:
        other = session.scalars(select(FeatureRequest).where(FeatureRequest.slug != SSO)).first()
        assert other is not None
        target_id, target_slug = other.id, other.slug
    path = f"/api/feedback/{feedback_id}/move"
    member = bearer(settings.app_database_url, Role.member, "rep@tests.example")
    assert client.post(path, json={"request": target_slug}, headers=member).status_code == 403
    moved = client.post(path, json={"request": target_slug})
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "feedback_id": feedback_id,
        "from_request": SSO,
        "to_request": target_slug,
    }
    with session_scope(settings.app_database_url) as session:
        row = session.get(Feedback, feedback_id)
        assert row is not None
        assert (row.request_id, row.match_tier) == (target_id, MatchTier.APPROVED)
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "feedback.move")
        ).one()
        assert event.detail == f"from {SSO} to {target_slug}"
    label = _label(settings, f"move:{feedback_id}:{target_id}")
    assert (label.kind, label.right, label.request_id) == ("reassign", False, original)
    assert label.decided_by == "admin@tests.example"

    again = client.post(path, json={"request": target_id})
    assert again.status_code == 409
    assert client.post(path, json={"request": "no-such-request"}).status_code == 404
    assert client.post("/api/feedback/fb_nope/move", json={"request": SSO}).status_code == 404
    assert client.post(path, json={"request": ""}).status_code == 422

    # Back onto the best candidate from the page: that candidate was right after all.
    page = client.post(f"/feedback/{feedback_id}/move", data={"to": SSO}, follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == f"/requests/{SSO}?eid={feedback_id}"
    assert _label(settings, f"move:{feedback_id}:{original}").right is True


def test_the_request_page_offers_the_runner_ups(client: TestClient, settings: Settings) -> None:
    attached = _attached(client, settings)
    html = client.get(f"/requests/{SSO}", headers={"accept": "text/html"}).text
    assert f'action="/feedback/{attached["feedback_id"]}/move"' in html
    assert f'id="others-{attached["feedback_id"]}"' in html
    viewer = bearer(settings.app_database_url, Role.viewer, "viewer@tests.example")
    assert "/move" not in client.get(f"/requests/{SSO}", headers=viewer).text
