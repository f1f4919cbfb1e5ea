"""The JSON API and health probes, served by the real app with DBOS launched in its lifespan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from gtm_feedback import migrations
from gtm_feedback.config import Settings
from gtm_feedback.main import create_app
from gtm_feedback.migrations import upgrade
from gtm_feedback.sample.loader import seed
from tests.auth import signed_in


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a seeded embedded database, DBOS launched for the whole module."""
    data_dir = tmp_path_factory.mktemp("api")
    settings = Settings(data_dir=data_dir, port=8111)
    upgrade(settings.app_database_url)
    seed(settings.app_database_url, data_dir, seed_value=7, now=datetime(2026, 11, 1, tzinfo=UTC))
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": {"ok": True, "revision": migrations.head_revision()},
        "dbos": {"ok": True},
    }


def test_areas_with_ship_rates(client: TestClient) -> None:
    areas = client.get("/api/areas").json()["items"]
    assert len(areas) == 8
    api = next(a for a in areas if a["slug"] == "api-developer-tools")
    assert api["firehose_channel"] == "#firehose-api"
    for area in areas:
        done = area["shipped_requests"]
        total = area["open_requests"] + done
        assert area["ship_rate"] == (round(100 * done / total + 1e-9) if total else 0)


def test_requests_sorted_by_arr_by_default(client: TestClient) -> None:
    page = client.get("/api/requests", params={"limit": 200}).json()
    assert page["total"] == 43
    arrs = [Decimal(item["arr"]) for item in page["items"]]
    assert arrs == sorted(arrs, reverse=True)
    first = page["items"][0]
    assert first["url"] == f"http://127.0.0.1:8111/requests/{first['slug']}"


def test_requests_filter_by_area_and_status(client: TestClient) -> None:
    page = client.get("/api/requests", params={"area": "mobile", "status": "open"}).json()
    assert page["items"]
    for item in page["items"]:
        assert item["status"] == "open"
        assert "mobile" in [area["slug"] for area in item["areas"]]
    recent = client.get("/api/requests", params={"sort": "recent"}).json()["items"]
    stamps = [item["last_activity_at"] for item in recent]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    "params", [{"sort": "loudest"}, {"status": "maybe"}, {"limit": 0}, {"offset": -1}]
)
def test_bad_query_is_422_with_field_errors(
    client: TestClient, params: dict[str, str | int]
) -> None:
    response = client.get("/api/requests", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_request_detail_adds_up(client: TestClient) -> None:
    slug = client.get("/api/requests", params={"sort": "feedback", "limit": 1}).json()["items"][0][
        "slug"
    ]
    detail = client.get(f"/api/requests/{slug}").json()
    assert detail["feedback_count"] == len(detail["feedback"]) > 1
    by_account = {item["account_id"]: Decimal(item["account_arr"]) for item in detail["feedback"]}
    assert Decimal(detail["arr"]) == sum(by_account.values())
    assert detail["followers"]
    assert {item["severity_label"] for item in detail["feedback"]} <= {
        "Nice to have",
        "Significant pain",
        "Dealbreaker",
    }


def test_unknown_request_and_account_are_404(client: TestClient) -> None:
    assert client.get("/api/requests/no-such-thing").status_code == 404
    assert client.get("/api/accounts/nope").json() == {"detail": "no account with id 'nope'"}


def test_account_with_feedback_and_deals(client: TestClient) -> None:
    detail = client.get("/api/requests", params={"limit": 1}).json()["items"][0]
    feedback = client.get(f"/api/requests/{detail['slug']}").json()["feedback"][0]
    account = client.get(f"/api/accounts/{feedback['account_id']}").json()
    assert account["name"] == feedback["account_name"]
    assert feedback["id"] in [item["id"] for item in account["feedback"]]
    assert all(item["request_slug"] for item in account["feedback"])


def test_openapi_documents_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/areas",
        "/api/requests",
        "/api/requests/{slug}",
        "/api/accounts/{account_id}",
    } <= set(paths)
    # The interactive docs would load script from a CDN: not served (no network, strict CSP).
    assert client.get("/docs").status_code == 404
    assert "Bearer" in client.get("/openapi.json").json()["info"]["description"]
