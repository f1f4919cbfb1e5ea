"""``gtm-feedback ship``: the mark-shipped workflow from the command line (its own DBOS)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gtm_feedback.cli import app
from gtm_feedback.config import get_settings


def test_ship_command(tmp_path_factory: pytest.TempPathFactory) -> None:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GTMFB_DATA_DIR", str(tmp_path_factory.mktemp("ship-cli")))
        get_settings.cache_clear()
        assert runner.invoke(app, ["seed"]).exit_code == 0
        shipped = runner.invoke(app, ["ship", "offline-mode-in-the-mobile-app"])
        assert shipped.exit_code == 0, shipped.output
        assert "notified 3 of 3 followers" in " ".join(shipped.output.split())
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
