"""The weighted priority score: the documented default, per-workspace weights set by admins,
the score of every sample request equal to the formula computed here by hand, and the sort."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import priority
from gtm_feedback.feature_request.priority import PriorityWeights
from gtm_feedback.main import create_app
from gtm_feedback.sample.generator import generate
from gtm_feedback.user.models import AuditEvent, Role
from tests.auth import bearer, signed_in
from tests.runs import SAMPLE_NOW, seeded_on

DEFAULTS = {
    "arr": 1.0,
    "dealbreaker_arr": 1.0,
    "open_pipeline": 0.5,
    "blocked_pipeline": 1.0,
    "nice_to_have": 10.0,
    "significant": 20.0,
    "dealbreaker": 30.0,
}
RANK = {"low": 1, "medium": 2, "high": 3}
NAMES = {1: "nice_to_have", 2: "significant", 3: "dealbreaker"}


@pytest.fixture(scope="module")
def severities() -> dict[str, dict[str, int]]:
    """Request id -> accounts at each highest severity, by hand from the sample's rows."""
    highest: dict[tuple[str, str], int] = {}
    for row in generate(7, SAMPLE_NOW).feedback:
        key = (row["request_id"], row["account_id"])
        highest[key] = max(highest.get(key, 0), RANK[row["severity"]])
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(NAMES.values(), 0))
    for (request_id, _), rank in highest.items():
        counts[request_id][NAMES[rank]] += 1
    return counts


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_on(request, tmp_path_factory.mktemp(f"priority-{request.param}"), port=8165)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _by_hand(item: dict[str, Any], counts: dict[str, int], weights: dict[str, float]) -> float:
    money = {
        name: float(Decimal(str(item[name])) / 1000)
        for name in ("arr", "dealbreaker_arr", "open_pipeline", "blocked_pipeline")
    }
    terms = money | {name: float(counts.get(name, 0)) for name in NAMES.values()}
    return sum(terms[name] * weights[name] for name in DEFAULTS)


def _listed(client: TestClient, sort: str = "score") -> list[dict[str, Any]]:
    page = client.get("/api/requests", params={"limit": 200, "sort": sort}).json()
    items: list[dict[str, Any]] = page["items"]
    return items


def _check_scores(
    client: TestClient, severities: dict[str, dict[str, int]], weights: dict[str, float]
) -> list[dict[str, Any]]:
    listed = _listed(client)
    for item in listed:
        want = _by_hand(item, severities.get(item["id"], {}), weights)
        assert item["score"] == pytest.approx(want, abs=0.051), item["slug"]
    scores = [item["score"] for item in listed]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]
    return listed


def test_default_weights_score_every_request_by_the_formula(
    client: TestClient, severities: dict[str, dict[str, int]]
) -> None:
    assert client.get("/api/priority/weights").json() == DEFAULTS
    listed = _check_scores(client, severities, DEFAULTS)
    top = client.get(f"/api/requests/{listed[0]['slug']}").json()
    terms = {t["name"]: t for t in top["score_breakdown"]}
    assert list(terms) == list(DEFAULTS)
    assert sum(t["points"] for t in terms.values()) == pytest.approx(top["score"], abs=0.051)
    assert terms["open_pipeline"]["weight"] == 0.5
    # The ARR sort is still there, and differs from the score's.
    by_arr = [item["slug"] for item in _listed(client, "arr")]
    assert by_arr != [item["slug"] for item in listed]


def test_admins_set_the_workspace_weights(
    client: TestClient, settings: Settings, severities: dict[str, dict[str, int]]
) -> None:
    only_dealbreakers = dict.fromkeys(DEFAULTS, 0.0) | {"dealbreaker": 1.0, "blocked_pipeline": 2}
    member = bearer(settings.app_database_url, Role.member)
    assert client.put("/api/priority/weights", json=DEFAULTS, headers=member).status_code == 403
    refused = client.put("/api/priority/weights", json=DEFAULTS | {"arr": -1})
    assert refused.status_code == 422
    assert "arr" in refused.text
    try:
        saved = client.put("/api/priority/weights", json=only_dealbreakers)
        assert saved.status_code == 200, saved.text
        assert client.get("/api/priority/weights").json() == only_dealbreakers
        _check_scores(client, severities, only_dealbreakers)
        with session_scope(settings.app_database_url) as session:
            details = session.scalars(
                select(AuditEvent.detail).where(AuditEvent.action == "priority.weights")
            ).all()
        assert list(details) == [
            "arr=0, dealbreaker_arr=0, open_pipeline=0, blocked_pipeline=2, "
            "nice_to_have=0, significant=0, dealbreaker=1"
        ]
    finally:
        client.put("/api/priority/weights", json=DEFAULTS)


def test_the_pages(client: TestClient) -> None:
    bad = client.post("/admin/priority", data=DEFAULTS | {"significant": "lots"})
    assert bad.status_code == 422
    assert 'id="significant-error"' in bad.text
    good = client.post(
        "/admin/priority", data=DEFAULTS | {"nice_to_have": "5"}, follow_redirects=False
    )
    assert good.status_code == 303
    assert "Saved" in client.get(good.headers["location"]).text
    assert client.get("/api/priority/weights").json()["nice_to_have"] == 5.0
    client.put("/api/priority/weights", json=DEFAULTS)
    listed = client.get("/requests", params={"sort": "score"})
    assert 'value="score" selected' in listed.text
    assert ">Score</th>" in listed.text
    top = _listed(client)[0]
    page = client.get(f"/requests/{top['slug']}").text
    assert f"Priority score {top['score']:,.1f}" in page
    assert "Dealbreaker ARR, per $1k" in page


def test_every_weight_reads_one_figure() -> None:
    assert list(priority.SOURCES) == list(priority.Weights.model_fields) == list(DEFAULTS)


def test_a_burst_of_first_saves_stores_one_row(client: TestClient, settings: Settings) -> None:
    """Admins saving the weights for the first time at once all succeed (an upsert, no 500)."""
    with session_scope(settings.app_database_url, write=True) as session:
        session.execute(delete(PriorityWeights))
    bodies = [DEFAULTS | {"arr": float(n + 2)} for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda body: client.put("/api/priority/weights", json=body), bodies)
        )
    assert [answer.status_code for answer in answers] == [200] * 8, [a.text for a in answers]
    with session_scope(settings.app_database_url) as session:
        rows = list(session.scalars(select(PriorityWeights)))
        assert len(rows) == 1
        assert rows[0].weights in bodies
    client.put("/api/priority/weights", json=DEFAULTS)
