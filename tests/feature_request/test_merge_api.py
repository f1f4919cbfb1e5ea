"""Merging through the app: the API and pages start durable runs; followers hear once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest, request_followers
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.main import create_app
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.models import AuditEvent, Role
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "merge-api", port=8152, approval_timeout=1.0)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _two_with_followers(settings: Settings, skip: int = 0) -> tuple[FeatureRequest, ...]:
    with session_scope(settings.app_database_url) as session:
        followed = (
            select(FeatureRequest)
            .join(request_followers, request_followers.c.request_id == FeatureRequest.id)
            .where(FeatureRequest.merged_into_id.is_(None))
            .group_by(FeatureRequest.id)
            .order_by(FeatureRequest.slug)
        )
        rows = list(session.scalars(followed))[skip : skip + 2]
        session.expunge_all()
        return tuple(rows)


def _followers(settings: Settings, *request_ids: str) -> set[str]:
    with session_scope(settings.app_database_url) as session:
        return set(
            session.scalars(
                select(request_followers.c.user_id).where(
                    request_followers.c.request_id.in_(request_ids)
                )
            )
        )


def _feedback_count(settings: Settings, request_id: str) -> int:
    with session_scope(settings.app_database_url) as session:
        found = select(func.count()).where(Feedback.request_id == request_id)
        return int(session.execute(found).scalar_one())


def test_merge_then_undo_through_the_api(client: TestClient, settings: Settings) -> None:
    gone, keep = _two_with_followers(settings)
    everyone = _followers(settings, gone.id, keep.id)
    moving = _feedback_count(settings, gone.id)
    kept = _feedback_count(settings, keep.id)
    preview = client.get(f"/api/requests/{gone.slug}/merge-preview", params={"into": keep.slug})
    assert preview.status_code == 200, preview.text
    assert preview.json()["feedback"] == moving
    key = {"Idempotency-Key": "merge-once"}
    started = client.post(f"/api/requests/{gone.slug}/merge", json={"into": keep.slug}, headers=key)
    assert started.status_code == 202, started.text
    repeat = client.post(f"/api/requests/{gone.slug}/merge", json={"into": keep.slug}, headers=key)
    assert repeat.json() == started.json()  # one run per key
    merge_id = started.json()["merge_id"]
    finished(client, started.json()["run_id"], timeout=120)
    late = client.post(f"/api/requests/{gone.slug}/merge", json={"into": keep.slug}, headers=key)
    assert late.json() == started.json()  # a retry after the merge: the same run, not a 409
    other = client.post(f"/api/requests/{gone.slug}/merge", json={"into": gone.slug}, headers=key)
    assert other.status_code == 409  # the key came back with another body
    merge_id = started.json()["merge_id"]
    result = finished(client, started.json()["run_id"], timeout=120)
    assert result["status"] == "SUCCESS", result
    assert result["result"]["feedback_moved"] == moving
    assert result["result"]["notified"] == len(everyone)
    assert _feedback_count(settings, keep.id) == kept + moving
    with session_scope(settings.app_database_url) as session:
        sent = session.scalars(
            select(OutboxMessage.recipient_user_id).where(
                OutboxMessage.key.like(f"merged:{merge_id}:%")
            )
        )
        assert sorted(str(s) for s in sent) == sorted(everyone)  # each follower of either, once
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.merge"))
        assert [e.target for e in event] == [gone.slug]
    moved = client.get(f"/api/requests/{gone.slug}", follow_redirects=False)
    assert (moved.status_code, moved.headers["location"]) == (308, f"/api/requests/{keep.slug}")
    assert client.get(f"/api/requests/{gone.slug}").json()["slug"] == keep.slug
    page = client.get(f"/requests/{gone.slug}", headers={"accept": "text/html"})
    assert f"<code>{gone.slug}</code> was merged into this request" in page.text
    listed = client.get("/api/requests", params={"limit": 200}).json()["items"]
    assert gone.slug not in {item["slug"] for item in listed}
    searched = client.get("/api/requests", params={"q": gone.title}).json()["items"]
    pointer = next(item for item in searched if item["slug"] == gone.slug)
    assert pointer["merged_into"] == keep.slug  # searchable, as a pointer
    page = client.get("/requests", params={"q": gone.title}, headers={"accept": "text/html"})
    assert f'merged into <a href="/requests/{keep.slug}">' in page.text
    again = client.post(f"/api/requests/{gone.slug}/merge", json={"into": keep.slug})
    assert again.status_code == 409
    undo = client.post(f"/api/merges/{merge_id}/undo")
    assert undo.status_code == 202, undo.text
    assert finished(client, undo.json()["run_id"])["result"]["feedback_returned"] == moving
    assert client.post(f"/api/merges/{merge_id}/undo").json() == undo.json()  # once per merge
    assert _feedback_count(settings, gone.id) == moving
    assert _feedback_count(settings, keep.id) == kept
    assert client.get(f"/api/requests/{gone.slug}").json()["slug"] == gone.slug


def test_merges_need_an_approver_and_sane_input(client: TestClient, settings: Settings) -> None:
    gone, keep = _two_with_followers(settings, skip=2)
    member = bearer(settings.app_database_url, Role.member, "rep@gtm.example")
    path = f"/api/requests/{gone.slug}/merge"
    assert client.post(path, json={"into": keep.slug}, headers=member).status_code == 403
    assert client.post(path, json={"into": gone.slug}).status_code == 422
    assert client.post(path, json={"into": "no-such-request"}).status_code == 404
    assert client.post(path, json={"into": ""}).status_code == 422
    assert client.post(path, json={"into": keep.slug, "extra": 1}).status_code == 422
    assert client.post("/api/merges/no-such/undo").status_code == 404
    assert _feedback_count(settings, gone.id) > 0  # nothing moved


def test_merge_from_the_request_page(client: TestClient, settings: Settings) -> None:
    gone, keep = _two_with_followers(settings, skip=4)
    html = {"accept": "text/html"}
    form = client.get(f"/requests/{gone.slug}/merge", params={"into": keep.slug}, headers=html)
    assert form.status_code == 200
    assert "What moves into" in form.text
    assert keep.title in form.text
    bad = client.get(f"/requests/{gone.slug}/merge", params={"into": gone.slug}, headers=html)
    assert "cannot be merged into itself" in bad.text
    done = client.post(
        f"/requests/{gone.slug}/merge",
        data={"into": keep.slug},
        headers=html,
        follow_redirects=False,
    )
    assert done.status_code == 303
    run_id = done.headers["location"].split("run=")[1]
    assert finished(client, run_id)["status"] == "SUCCESS"
    page = client.get(f"/requests/{keep.slug}", params={"run": run_id}, headers=html)
    assert f"Merged {gone.slug} here" in page.text
    assert "Undo merge" in page.text
    undone = client.post(f"/merges/{run_id}/undo", headers=html, follow_redirects=False)
    assert undone.headers["location"].startswith(f"/requests/{gone.slug}?run=unmerge-")
    assert finished(client, f"unmerge-{run_id}")["status"] == "SUCCESS"
