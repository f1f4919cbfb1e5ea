"""``ship``, ``insights`` and ``matching refit``: workflows from the command line (own DBOS)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from gtm_feedback.cli import app
from gtm_feedback.config import get_settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.matching.learn import Features
from tests import factories


def test_ship_command(tmp_path_factory: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GTMFB_DATA_DIR", str(tmp_path_factory.mktemp("ship-cli")))
        get_settings.cache_clear()
        assert runner.invoke(app, ["seed"]).exit_code == 0
        shipped = runner.invoke(app, ["ship", "offline-mode-in-the-mobile-app"])
        assert shipped.exit_code == 0, shipped.output
        said = " ".join(shipped.output.split())
        told = re.search(
            r"notified (\d+) of (\d+) followers and (\d+) of (\d+) account owners", said
        )
        assert told is not None, said
        assert told[1] == told[2] != "0"
        assert told[3] == told[4] != "0"
        unknown = runner.invoke(app, ["ship", "nope"])
        assert unknown.exit_code == 2
        assert "no request with id or slug 'nope'" in " ".join(unknown.output.split())
    get_settings.cache_clear()


def test_insights_command(tmp_path_factory: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GTMFB_DATA_DIR", str(tmp_path_factory.mktemp("insights-cli")))
        get_settings.cache_clear()
        assert runner.invoke(app, ["seed"]).exit_code == 0
        done = runner.invoke(app, ["insights", "--area", "mobile", "-a", "integrations"])
        assert done.exit_code == 0, done.output
        output = " ".join(done.output.split())
        assert "2 reports stored, 0 failed." in output
        assert "mobile │ ok │ dealbreakers, execution, segments" in output
        unknown = runner.invoke(app, ["insights", "--area", "nope"])
        assert unknown.exit_code == 2
        assert "no product area with slug nope" in " ".join(unknown.output.split())
    get_settings.cache_clear()


def test_matching_refit_command(tmp_path_factory: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GTMFB_DATA_DIR", str(tmp_path_factory.mktemp("refit-cli")))
        patch.setenv("GTMFB_MATCH_MIN_DECISIONS", "20")
        get_settings.cache_clear()
        assert runner.invoke(app, ["seed"]).exit_code == 0
        early = runner.invoke(app, ["matching", "refit"])
        assert early.exit_code == 0, early.output
        assert "No refit: 0 decision(s); a refit needs 20" in " ".join(early.output.split())
        settings = get_settings()
        model_id = get_embedder(settings).model_id
        with session_scope(settings.app_database_url, write=True) as session:
            for i in range(60):  # close, clear matches, nearly all approved
                features = Features(0.8 + (i % 15) / 100, 0.3 + (i % 4) / 20, i % 7)
                factories.decision(session, model_id, f"cli:{i}", features, right=bool(i % 20))
        done = runner.invoke(app, ["matching", "refit"])
        assert done.exit_code == 0, done.output
        assert "Refit #1 in use: auto threshold" in " ".join(done.output.split())
        shown = runner.invoke(app, ["matching", "status"])
        assert "learnt" in shown.output
    get_settings.cache_clear()


def test_merge_and_unmerge_commands(tmp_path_factory: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GTMFB_DATA_DIR", str(tmp_path_factory.mktemp("merge-cli")))
        patch.setenv("GTMFB_APPROVAL_TIMEOUT", "1")
        get_settings.cache_clear()
        assert runner.invoke(app, ["seed"]).exit_code == 0
        source, into = (
            "offline-mode-in-the-mobile-app",
            "saml-single-sign-on-with-okta-and-azure-ad",
        )
        refused = runner.invoke(app, ["requests", "merge", source, into], input="n\n")
        assert refused.exit_code == 1
        assert f"“{source}” into “{into}”" in " ".join(refused.output.split())
        merged = runner.invoke(app, ["requests", "merge", source, into, "--yes"])
        assert merged.exit_code == 0, merged.output
        said = " ".join(merged.output.split())
        assert f"Merged {source} here" in said
        merge_id = said.split("gtm-feedback requests unmerge ")[1].split()[0]
        twice = runner.invoke(app, ["requests", "merge", source, into, "--yes"])
        assert twice.exit_code == 2
        assert f"already merged into '{into}'" in " ".join(twice.output.split())
        undone = runner.invoke(app, ["requests", "unmerge", merge_id])
        assert undone.exit_code == 0, undone.output
        assert f"Unmerged from {into}" in " ".join(undone.output.split())
        unknown = runner.invoke(app, ["requests", "unmerge", "nope"])
        assert unknown.exit_code == 2
        assert "no merge 'nope'" in " ".join(unknown.output.split())
    get_settings.cache_clear()
