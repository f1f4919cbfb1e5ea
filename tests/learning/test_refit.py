"""Decisions become labels, refits run durably and change the threshold in use, and revert."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from gtm_feedback.cli import app as cli
from gtm_feedback.config import Settings, get_settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import search
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import store
from gtm_feedback.learning.models import MatchCalibration
from gtm_feedback.main import create_app
from gtm_feedback.matching.calibration import Calibration
from gtm_feedback.matching.learn import Features
from gtm_feedback.user.models import AuditEvent, Role
from tests import factories
from tests.auth import bearer, signed_in
from tests.runs import finished, seeded_settings

TRUTH = Calibration("truth", -9.0, 12.0, 10.0, 0.6)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "refit", match_min_decisions=50)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def _model(settings: Settings) -> str:
    return get_embedder(settings).model_id


def _decide(settings: Settings, n: int, seed: int) -> None:
    """``n`` decisions on best candidates drawn like the approval band's, labelled by TRUTH."""
    rng = np.random.default_rng(seed)
    with session_scope(settings.app_database_url, write=True) as session:
        for i in range(n):
            features = Features(
                float(rng.uniform(0.5, 0.95)),
                float(rng.uniform(0, 0.25)),
                int(rng.integers(0, 20)),
            )
            p = TRUTH.confidence(features.score, features.margin, features.linked)
            right = bool(rng.uniform() < p)
            factories.decision(session, _model(settings), f"test:{seed}:{i}", features, right=right)


def test_too_few_decisions_refit_nothing(client: TestClient, settings: Settings) -> None:
    started = client.post("/api/workflows/refit-matching", json={"trigger": "too early"})
    assert started.status_code == 202, started.text
    result = finished(client, started.json()["run_id"])["result"]
    assert result["calibration_id"] is None
    assert "a refit needs 50" in result["note"]
    assert client.get("/api/matching").json()["source"] == "shipped"


def test_a_refit_sets_the_threshold_in_use_and_can_be_reverted(
    client: TestClient, settings: Settings
) -> None:
    _decide(settings, 400, seed=1)
    started = client.post("/api/workflows/refit-matching", json={"trigger": "test"})
    result = finished(client, started.json()["run_id"])["result"]
    assert result["calibration_id"] is not None, result
    assert result["active"], result
    assert result["decisions"] == 400
    shown = client.get("/api/matching").json()
    assert shown["source"] == "learnt"
    assert shown["auto_threshold"] == result["auto_threshold"]
    assert shown["decisions"]["total"] == 400
    newest = shown["history"][0]
    assert (newest["id"], newest["decisions"], newest["held_back"]) == (
        result["calibration_id"],
        320,
        80,
    )
    assert newest["estimated_precision"] >= 0.99  # aimed above the 0.98 target
    with session_scope(settings.app_database_url) as session:
        config = search.match_config(settings, _model(settings), session)
    assert config.thresholds.auto == result["auto_threshold"]
    assert config.calibration.w_linked != 0.0

    path = f"/api/matching/calibrations/{result['calibration_id']}/revert"
    member = bearer(settings.app_database_url, Role.approver, "pm@tests.example")
    assert client.post(path, headers=member).status_code == 403
    reverted = client.post(path)
    assert reverted.status_code == 200
    assert reverted.json()["status"] == "reverted"
    assert client.post(path).status_code == 409
    assert client.post("/api/matching/calibrations/999999/revert").status_code == 404
    assert client.get("/api/matching").json()["source"] == "shipped"
    with session_scope(settings.app_database_url) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "matching.revert")
        ).all()
        assert actions == ["matching.revert"]


def test_the_matching_page_is_for_admins(client: TestClient, settings: Settings) -> None:
    page = client.get("/admin/matching", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert 'id="history"' in page.text
    assert "Refit now" in page.text
    viewer = bearer(settings.app_database_url, Role.viewer, "viewer@tests.example")
    assert client.get("/admin/matching", headers=viewer).status_code == 403
    assert client.get("/api/matching", headers=viewer).status_code == 403
    refit = client.post("/admin/matching/refit", follow_redirects=False)
    assert refit.status_code == 303
    assert refit.headers["location"].startswith("/runs/")
    run_id = refit.headers["location"].removeprefix("/runs/")
    assert finished(client, run_id)["result"]["calibration_id"] is not None
    with session_scope(settings.app_database_url) as session:
        row = session.scalars(select(MatchCalibration).where(MatchCalibration.run_id == run_id))
        assert row.one().trigger == "asked by admin@tests.example"


def test_the_command_line_shows_refits_and_reverts(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GTMFB_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    shown = runner.invoke(cli, ["matching", "status", "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"source": "learnt"' in shown.output
    with session_scope(settings.app_database_url) as session:
        active = store.active(session=session, model_id=_model(settings))
        assert active is not None
    reverted = runner.invoke(cli, ["matching", "revert", str(active.id)])
    assert reverted.exit_code == 0, reverted.output
    again = runner.invoke(cli, ["matching", "revert", str(active.id)])
    assert again.exit_code == 1
    assert "not active" in again.output
