"""A person's decision in the inbox becomes a label, and every Nth label starts a refit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import store
from gtm_feedback.learning.models import MatchDecision
from gtm_feedback.main import create_app
from gtm_feedback.matching.learn import Features
from tests import factories
from tests.auth import signed_in
from tests.runs import finished, seeded_settings

NEW_PAIN = "The invoice PDF shows the wrong VAT rate for German customers."


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Approval threshold 0: anything not attached automatically asks a person.
    return seeded_settings(
        tmp_path_factory,
        "decisions",
        embed=True,
        match_min_decisions=10,
        match_refit_every=5,
        match_approval_threshold=0.0,
        approval_timeout=120.0,
        followup_delay=1.0,
    )


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def test_the_tenth_decision_starts_a_refit(client: TestClient, settings: Settings) -> None:
    model_id = get_embedder(settings).model_id
    with session_scope(settings.app_database_url, write=True) as session:
        for i in range(9):
            features = Features(0.6 + i / 50, 0.05, i)
            factories.decision(session, model_id, f"earlier:{i}", features, right=bool(i % 3))
        account = session.scalars(select(Feedback.account_id).limit(1)).one()
    body = {"pain": NEW_PAIN, "severity": "high", "account_id": account}
    started = client.post("/api/feedback", json={**body, "submitter_email": "rep@tests.example"})
    first = finished(client, started.json()["run_id"])["result"]
    assert first["tier"] == "approval"
    decision_run = first["decision_run_id"]
    token = next(
        a["token"]
        for a in client.get("/api/approvals").json()["items"]
        if a["workflow_id"] == decision_run
    )
    assert client.post(f"/api/approvals/{token}", json={"approved": False}).status_code == 200
    finished(client, decision_run)
    refit = finished(client, f"refit-{model_id}-after-10", timeout=60)
    assert refit["status"] == "SUCCESS", refit
    assert refit["result"]["calibration_id"] is not None
    assert refit["result"]["decisions"] == 10
    # Told twice (a retried message), the decision is still one label.
    with session_scope(settings.app_database_url, write=True) as session:
        again = store.record_decision(
            session=session,
            key=f"approval:{token}",
            kind="decline",
            right=False,
            model_id=model_id,
            features=Features(0.5, 0.0),
            request_id=None,
            feedback_id=None,
            decided_by="x",
        )
        assert again is False
        keys = session.scalars(
            select(MatchDecision.key).where(MatchDecision.key.like("approval:%"))
        )
        assert list(keys) == [f"approval:{token}"]
    shown = client.get("/api/matching").json()
    assert shown["decisions"] == {"approve": 6, "decline": 4, "total": 10}
    assert shown["history"][0]["trigger"] == "after 10 decisions"
