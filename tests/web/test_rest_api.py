"""The REST API as an integration sees it: every list pages the same way, filters match the
rows, requests change through PATCH, people follow, runs are listed and acted on; on both
databases, with the real app and DBOS launched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.main import create_app
from gtm_feedback.matching.matcher import request_text
from gtm_feedback.outbox.models import OutboxMessage
from gtm_feedback.user.models import AuditEvent, Role
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_on

LISTS = (
    "/api/areas",
    "/api/areas/mobile/insights/history",
    "/api/requests",
    "/api/accounts",
    "/api/opportunities",
    "/api/feedback",
    "/api/feedback/automatic",
    "/api/users",
    "/api/approvals?status=any",
    "/api/outbox",
    "/api/runs",
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp(f"rest-{request.param}")
    return seeded_on(request, data_dir, port=8161, approval_timeout=1.0)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _walk(client: TestClient, path: str, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """Every item of a list, page by page through ``next_offset``."""
    items: list[dict[str, Any]] = []
    offset: int | None = 0
    total = None
    joiner = "&" if "?" in path else "?"
    while offset is not None:
        page = client.get(f"{path}{joiner}limit={limit}&offset={offset}").json()
        assert set(page) == {"items", "total", "limit", "offset", "next_offset"}, path
        assert (page["limit"], page["offset"]) == (limit, offset)
        assert len(page["items"]) <= limit
        items += page["items"]
        total, offset = page["total"], page["next_offset"]
    return items, total


def _key(item: dict[str, Any]) -> str:
    found = item.get("id") or item.get("token") or item.get("run_id") or item["feedback_id"]
    return str(found)


@pytest.mark.parametrize("path", LISTS)
def test_every_list_pages_the_same_way(client: TestClient, path: str) -> None:
    if path == "/api/runs":  # a finished run of its own, so the list is not empty
        run = client.post("/api/workflows/sync-embeddings", json={"batch_size": 500}).json()
        assert finished(client, run["run_id"], timeout=120)["status"] == "SUCCESS"
    items, total = _walk(client, path, limit=7)
    keys = [_key(item) for item in items]
    assert len(keys) == len(set(keys)), "an item on two pages"
    if total is not None:
        assert len(items) == total
    whole = client.get(path + ("&" if "?" in path else "?") + "limit=200").json()
    assert [_key(item) for item in whole["items"]] == keys[:200]


def test_accounts_filter_like_the_rows(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.app_database_url) as session:
        accounts = list(session.scalars(select(Account)))
    enterprise = {a.id for a in accounts if a.is_enterprise}
    listed, total = _walk(client, "/api/accounts?enterprise=true", limit=50)
    assert {a["id"] for a in listed} == enterprise
    assert total == len(enterprise)
    arrs = [float(a["arr"]) for a in listed]
    assert arrs == sorted(arrs, reverse=True)
    some = accounts[0]
    found = client.get("/api/accounts", params={"q": some.name[2:8].upper()}).json()["items"]
    assert some.id in {a["id"] for a in found}
    assert all(some.name[2:8].lower() in a["name"].lower() for a in found)
    kinds = {a.type for a in accounts}
    for kind in kinds:
        typed = client.get("/api/accounts", params={"type": kind, "limit": 200}).json()
        assert typed["total"] == sum(1 for a in accounts if a.type == kind)


def test_opportunities_by_account_and_stage(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.app_database_url) as session:
        deals = [(o.id, o.account_id, o.stage) for o in session.scalars(select(Opportunity))]
    assert deals
    _, account, stage = deals[0]
    mine = client.get("/api/opportunities", params={"account": account, "limit": 200}).json()
    assert {o["id"] for o in mine["items"]} == {d[0] for d in deals if d[1] == account}
    assert all(o["account_id"] == account and o["account_name"] for o in mine["items"])
    staged = client.get("/api/opportunities", params={"stage": stage.upper(), "limit": 200})
    assert {o["id"] for o in staged.json()["items"]} == {d[0] for d in deals if d[2] == stage}


def test_feedback_filters(client: TestClient, settings: Settings) -> None:
    with session_scope(settings.app_database_url) as session:
        rows = [
            (f.id, f.request.slug, f.account_id, f.severity, f.created_at)
            for f in session.scalars(select(Feedback))
        ]
    slug, account = rows[0][1], rows[0][2]
    by_request, _ = _walk(client, f"/api/feedback?request={slug}", limit=50)
    assert {f["id"] for f in by_request} == {r[0] for r in rows if r[1] == slug}
    assert all(f["request_slug"] == slug and f["account_name"] for f in by_request)
    both = client.get(
        "/api/feedback", params={"account": account, "severity": "high", "limit": 200}
    ).json()["items"]
    expected = {r[0] for r in rows if r[2] == account and r[3] is Severity.HIGH}
    assert {f["id"] for f in both} == expected
    middle = sorted(r[4] for r in rows)[len(rows) // 2]
    since = client.get("/api/feedback", params={"since": middle.isoformat(), "limit": 200}).json()
    assert since["total"] == sum(1 for r in rows if r[4] >= middle)
    stamps = [f["created_at"] for f in since["items"]]
    assert stamps == sorted(stamps, reverse=True)
    assert client.get("/api/feedback", params={"request": "no-such"}).json()["total"] == 0
    assert client.get("/api/feedback", params={"severity": "urgent"}).status_code == 422
    # A time with a zone but no UTC form is refused (schemathesis found it a 500); one without
    # a zone is read as UTC.
    for path in ("/api/feedback", "/api/runs"):
        beyond = client.get(path, params={"since": "0001-01-01T00:00:00+01:00"})
        assert beyond.status_code == 422, beyond.text
        assert "between the years 1 and 9999" in beyond.text
    naive = client.get("/api/feedback", params={"since": middle.replace(tzinfo=None).isoformat()})
    assert naive.json()["total"] == since["total"]


def test_users_by_text_and_role(client: TestClient, settings: Settings) -> None:
    bearer(settings.app_database_url, Role.viewer, "vera.viewer@tests.example")
    found = client.get("/api/users", params={"q": "VERA"}).json()
    assert [u["email"] for u in found["items"]] == ["vera.viewer@tests.example"]
    assert set(found["items"][0]) == {
        "id", "email", "name", "role", "disabled", "slack_linked", "created_at",
    }  # fmt: skip
    admins = client.get("/api/users", params={"role": "admin"}).json()["items"]
    assert admins
    assert {u["role"] for u in admins} == {"admin"}


def _request(client: TestClient, index: int = 0) -> dict[str, Any]:
    slug = client.get("/api/requests", params={"status": "open"}).json()["items"][index]["slug"]
    return client.get(f"/api/requests/{slug}").json()  # type: ignore[no-any-return]


def test_patch_changes_only_what_is_given(client: TestClient, settings: Settings) -> None:
    before = _request(client, 3)
    slug = before["slug"]
    area = client.get("/api/areas").json()["items"][0]["slug"]
    patch = {
        "title": "  Export every report as CSV  ",
        "areas": [area],
        "tracker_url": "https://tracker.example.com/PROJ-42",
    }
    edited = client.patch(f"/api/requests/{slug}", json=patch).json()
    assert edited["title"] == "Export every report as CSV"
    assert [a["slug"] for a in edited["areas"]] == [area]
    assert edited["tracker_url"] == "https://tracker.example.com/PROJ-42"
    assert edited["changed"] == ["title", "tracker_url", "areas"]
    assert edited["run_id"] is None
    assert (edited["slug"], edited["description"]) == (slug, before["description"])
    assert edited["feedback_count"] == before["feedback_count"]
    cleared = client.patch(f"/api/requests/{slug}", json={"tracker_url": None}).json()
    assert cleared["tracker_url"] is None
    assert cleared["changed"] == ["tracker_url"]
    again = client.patch(f"/api/requests/{slug}", json={"tracker_url": None}).json()
    assert again["changed"] == []
    with session_scope(settings.app_database_url) as session:
        events = session.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.action == "request.edit", AuditEvent.target == slug
            )
        ).all()
    assert list(events) == ["title, tracker_url, areas", "tracker_url"]


def test_patch_refuses_bad_input_with_field_errors(client: TestClient) -> None:
    slug = _request(client, 4)["slug"]
    for body, field in (
        ({"areas": ["no-such-area"]}, "areas"),
        ({"areas": []}, "areas"),
        ({"title": ""}, "title"),
        ({"title": None}, "title"),
        ({"status": "done"}, "status"),
        ({"tracker_url": "not a url"}, "tracker_url"),
        ({"votes": 3}, "votes"),
    ):
        answer = client.patch(f"/api/requests/{slug}", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["detail"][0]["loc"][-1] == field, body
    assert client.patch("/api/requests/no-such", json={"title": "x"}).status_code == 404


def test_patch_needs_an_approver(client: TestClient, settings: Settings) -> None:
    slug = _request(client, 5)["slug"]
    for role in (Role.viewer, Role.member):
        headers = bearer(settings.app_database_url, role)
        answer = client.patch(f"/api/requests/{slug}", json={"title": "x"}, headers=headers)
        assert answer.status_code == 403
        assert isinstance(answer.json()["detail"], str)
    anonymous = client.patch(
        f"/api/requests/{slug}", json={"title": "x"}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401


def test_status_changes_and_shipping_runs_once(client: TestClient) -> None:
    slug = _request(client, 6)["slug"]
    parked = client.patch(f"/api/requests/{slug}", json={"status": "deprioritized"}).json()
    assert parked["status"] == "deprioritized"
    assert parked["run_id"] is None
    key = {"Idempotency-Key": f"ship-{slug}"}
    shipped = client.patch(f"/api/requests/{slug}", json={"status": "shipped"}, headers=key)
    run_id = shipped.json()["run_id"]
    assert run_id
    assert shipped.json()["changed"] == ["status"]
    assert finished(client, run_id)["status"] == "SUCCESS"
    assert client.get(f"/api/requests/{slug}").json()["status"] == "shipped"
    retried = client.patch(f"/api/requests/{slug}", json={"status": "shipped"}, headers=key)
    assert retried.json()["changed"] == []
    assert retried.json()["run_id"] is None
    runs = client.get("/api/runs", params={"workflow": "mark-shipped", "status": "SUCCESS"})
    assert run_id in {r["run_id"] for r in runs.json()["items"]}
    assert all(r["workflow"] == "mark_shipped_workflow" for r in runs.json()["items"])


def test_the_shipping_run_reads_what_the_same_call_changed(
    client: TestClient, settings: Settings
) -> None:
    """A title and *shipped* in one PATCH: the run starts after the call's commit, so every
    follower is told the new title (it once could read the request before that commit)."""
    slug = _request(client, 9)["slug"]
    client.put(f"/api/requests/{slug}/follow")
    title = "Offline mode, as it shipped"
    shipped = client.patch(f"/api/requests/{slug}", json={"status": "shipped", "title": title})
    assert shipped.status_code == 200, shipped.text
    assert sorted(shipped.json()["changed"]) == ["status", "title"]
    run = finished(client, shipped.json()["run_id"])
    assert run["status"] == "SUCCESS", run
    assert run["result"]["notified"] >= 1
    request_id = run["result"]["request_id"]
    with session_scope(settings.app_database_url) as session:
        told = session.scalars(
            select(OutboxMessage.text).where(OutboxMessage.key.like(f"shipped:{request_id}:%"))
        ).all()
    assert told
    assert all(title in text for text in told), told


def test_a_new_title_is_embedded_again(client: TestClient, settings: Settings) -> None:
    slug = _request(client, 7)["slug"]
    embedder = get_embedder(settings)
    with session_scope(settings.app_database_url, write=True) as session:
        found = session.scalars(select(FeatureRequest).where(FeatureRequest.slug == slug)).one()
        embeddings.embed_requests(session=session, embedder=embedder, ids=[found.id])
    client.patch(f"/api/requests/{slug}", json={"title": "Dark mode for the mobile app"})
    with session_scope(settings.app_database_url) as session:
        found = session.scalars(select(FeatureRequest).where(FeatureRequest.slug == slug)).one()
        text = request_text(found.title, found.description)
        assert found.embedding_key == embeddings.embedding_key(embedder.model_id, text)


def test_follow_and_unfollow_are_idempotent(client: TestClient, settings: Settings) -> None:
    slug = _request(client, 8)["slug"]
    headers = bearer(settings.app_database_url, Role.member, "mia.member@tests.example")
    start = len(client.get(f"/api/requests/{slug}").json()["followers"])
    for _ in range(2):
        answer = client.put(f"/api/requests/{slug}/follow", headers=headers).json()
        assert answer == {"request": slug, "following": True, "followers": start + 1}
    assert "mia.member@tests.example" in client.get(f"/api/requests/{slug}").json()["followers"]
    for _ in range(2):
        answer = client.delete(f"/api/requests/{slug}/follow", headers=headers).json()
        assert answer == {"request": slug, "following": False, "followers": start}
    viewer = bearer(settings.app_database_url, Role.viewer)
    assert client.put(f"/api/requests/{slug}/follow", headers=viewer).status_code == 403
    assert client.put("/api/requests/no-such/follow", headers=headers).status_code == 404


def test_runs_listed_by_time_and_acted_on(client: TestClient, settings: Settings) -> None:
    started = client.post("/api/workflows/sync-embeddings", json={"batch_size": 500}).json()
    run_id = started["run_id"]
    assert finished(client, run_id, timeout=120)["status"] == "SUCCESS"
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get("/api/runs", params={"since": later}).json()["items"] == []
    assert client.get("/api/runs", params={"status": "WAITING"}).status_code == 422
    retried = client.post(f"/api/runs/{run_id}/retry")
    assert retried.status_code == 200
    target = retried.json()["target_run_id"]
    assert target != run_id
    assert finished(client, target, timeout=120)["status"] == "SUCCESS"
    refused = client.post(f"/api/runs/{run_id}/cancel")
    assert refused.status_code == 409
    assert "SUCCESS" in refused.json()["detail"]
    assert client.post("/api/runs/nope/resume").status_code == 404
    assert client.post(f"/api/runs/{run_id}/explode").status_code == 422
    member = bearer(settings.app_database_url, Role.member)
    assert client.post(f"/api/runs/{run_id}/retry", headers=member).status_code == 403


def test_approvals_by_status(client: TestClient) -> None:
    pending = client.get("/api/approvals").json()
    assert all(a["status"] == "pending" for a in pending["items"])
    every = client.get("/api/approvals", params={"status": "any"}).json()
    assert every["total"] >= pending["total"]
    assert client.get("/api/approvals", params={"status": "maybe"}).status_code == 422
