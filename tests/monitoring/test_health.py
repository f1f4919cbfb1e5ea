"""Readiness reports what is wrong instead of failing opaquely."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.main import create_app


def test_readyz_reports_an_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with TestClient(create_app(settings, launch_dbos=False)) as bare:
        response = bare.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert "run db upgrade" in checks["database"]["error"]
    assert checks["dbos"]["ok"] is False
