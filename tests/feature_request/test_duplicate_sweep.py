"""The duplicate sweep through the app: planted duplicates are asked about once; approve
merges, decline is remembered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.duplicate_workflows import run_id_for_pair
from gtm_feedback.feature_request.models import DuplicateSuggestion, FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.runs import finished, seeded_settings

#: The sample's planted duplicates (sample/catalog.toml, [[duplicates]]) and their originals.
TEAMS = ("microsoft-teams-notifications", "post-alerts-to-our-teams-channels")
AUDIT = (
    "exportable-audit-log-of-user-actions",
    "history-of-who-changed-what-exportable-for-auditors",
)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(
        tmp_path_factory, "duplicate-sweep", embed=True, port=8153, approval_timeout=60.0
    )


def _survivor(settings: Settings, slugs: tuple[str, str]) -> str:
    """The one a merge keeps: more feedback, else the older."""
    with session_scope(settings.app_database_url) as session:
        rows = session.execute(
            select(FeatureRequest.slug, FeatureRequest.created_at, func.count(Feedback.id))
            .join(Feedback, Feedback.request_id == FeatureRequest.id)
            .where(FeatureRequest.slug.in_(slugs))
            .group_by(FeatureRequest.slug, FeatureRequest.created_at)
        ).all()
    return min(rows, key=lambda row: (-row[2], row[1]))[0]


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _slugs(settings: Settings) -> dict[str, str]:
    with session_scope(settings.app_database_url) as session:
        return {r.id: r.slug for r in session.scalars(select(FeatureRequest))}


def _sweep(client: TestClient) -> dict[str, object]:
    started = client.post("/api/workflows/duplicate-sweep", json={})
    assert started.status_code == 202, started.text
    run = finished(client, started.json()["run_id"], timeout=120)
    assert run["status"] == "SUCCESS", run
    result: dict[str, object] = run["result"]
    return result


def _pending(client: TestClient) -> dict[str, str]:
    """Pending merge approvals: survivor id -> token."""
    return {
        a["payload"]["request_id"]: a["token"]
        for a in client.get("/api/approvals").json()["items"]
        if a["kind"] == "merge"
    }


def _status(settings: Settings, pair: str) -> str:
    with session_scope(settings.app_database_url) as session:
        found = session.get(DuplicateSuggestion, pair)
        assert found is not None
        return found.status


def test_the_sweep_asks_once_and_acts_on_the_answer(client: TestClient, settings: Settings) -> None:
    slugs = _slugs(settings)
    first = _sweep(client)
    pairs = first["suggested"]
    assert isinstance(pairs, list)
    named = {frozenset(slugs[i] for i in pair.split("|")) for pair in pairs}
    assert named == {frozenset(TEAMS), frozenset(AUDIT)}  # those two, and nothing else
    assert _sweep(client)["suggested"] == []  # never the same pair twice
    by_id = {slug: rid for rid, slug in slugs.items()}
    keep_teams, keep_audit = _survivor(settings, TEAMS), _survivor(settings, AUDIT)
    tokens = _pending(client)
    assert set(tokens) == {by_id[keep_teams], by_id[keep_audit]}  # the fuller, older survive
    teams_pair = next(p for p in pairs if by_id[TEAMS[0]] in p)
    audit_pair = next(p for p in pairs if by_id[AUDIT[0]] in p)
    declined = client.post(f"/api/approvals/{tokens[by_id[keep_audit]]}", json={"approved": False})
    assert declined.status_code == 200, declined.text
    approved = client.post(f"/api/approvals/{tokens[by_id[keep_teams]]}", json={"approved": True})
    assert approved.status_code == 200, approved.text
    for pair, outcome in ((teams_pair, "merged"), (audit_pair, "declined")):
        assert finished(client, run_id_for_pair(pair), timeout=120)["result"] == outcome
        assert _status(settings, pair) == outcome
    gone = next(slug for slug in TEAMS if slug != keep_teams)
    moved = client.get(f"/api/requests/{gone}", follow_redirects=False)
    assert moved.headers["location"] == f"/api/requests/{keep_teams}"
    assert _sweep(client)["suggested"] == []  # the declined pair is remembered
