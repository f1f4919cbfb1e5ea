"""The duplicate sweep through the app: planted duplicates are asked about once; approve
merges, decline is remembered."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings
from gtm_feedback.feature_request.duplicate_workflows import run_id_for_pair
from gtm_feedback.feature_request.models import DuplicateSuggestion, FeatureRequest
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.runs import finished, seeded_settings

SSO = "saml-single-sign-on-with-okta-and-azure-ad"
OFFLINE = "offline-mode-in-the-mobile-app"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    found = seeded_settings(
        tmp_path_factory, "duplicate-sweep", embed=True, port=8153, approval_timeout=60.0
    )
    _plant(
        found,
        "okta-sso-login",
        "Log in with Okta SSO",
        "Let our people sign in through our Okta (SAML) identity provider instead of passwords.",
        "IT requires that everyone signs in through Okta; passwords are not allowed.",
    )
    _plant(
        found,
        "work-without-signal",
        "Use the mobile app without signal",
        "Reps in the field lose their notes when the phone has no connection.",
        "Our field reps need the app to keep working offline and sync later.",
    )
    return found


def _plant(settings: Settings, slug: str, title: str, description: str, pain: str) -> None:
    """A duplicate written in other words, with one feedback item, embedded."""
    url = settings.app_database_url
    with session_scope(url, write=True) as session:
        account = session.scalars(select(Feedback.account_id)).first()
        assert account is not None
        planted = FeatureRequest(slug=slug, title=title, description=description)
        session.add(planted)
        session.flush()
        session.add(
            Feedback(
                request_id=planted.id, account_id=account, severity=Severity.HIGH, description=pain
            )
        )
        session.flush()
        embedder = get_embedder(settings)
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)


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
    assert named == {
        frozenset({SSO, "okta-sso-login"}),
        frozenset({OFFLINE, "work-without-signal"}),
    }
    assert _sweep(client)["suggested"] == []  # never the same pair twice
    by_id = {slug: rid for rid, slug in slugs.items()}
    deadline_tokens = _pending(client)
    assert set(deadline_tokens) == {by_id[SSO], by_id[OFFLINE]}  # the older, fuller survive
    sso_pair = next(p for p in pairs if by_id[SSO] in p)
    offline_pair = next(p for p in pairs if by_id[OFFLINE] in p)
    declined = client.post(
        f"/api/approvals/{deadline_tokens[by_id[OFFLINE]]}", json={"approved": False}
    )
    assert declined.status_code == 200, declined.text
    approved = client.post(f"/api/approvals/{deadline_tokens[by_id[SSO]]}", json={"approved": True})
    assert approved.status_code == 200, approved.text
    for pair, outcome in ((sso_pair, "merged"), (offline_pair, "declined")):
        assert finished(client, run_id_for_pair(pair), timeout=120)["result"] == outcome
        assert _status(settings, pair) == outcome
    moved = client.get("/api/requests/okta-sso-login", follow_redirects=False)
    assert moved.headers["location"] == f"/api/requests/{SSO}"
    assert _sweep(client)["suggested"] == []  # the declined pair is remembered
