"""Helpers for tests that drive the real app: a seeded embedded database, waiting for runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.migrations import upgrade
from gtm_feedback.sample.loader import seed

SAMPLE_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def seeded_settings(
    tmp_path_factory: pytest.TempPathFactory, name: str, **overrides: Any
) -> Settings:
    """Settings on a fresh, migrated embedded database holding the sample data."""
    data_dir = tmp_path_factory.mktemp(name)
    found = Settings(data_dir=data_dir, **overrides)
    upgrade(found.app_database_url)
    seed(found.app_database_url, data_dir, seed_value=7, now=SAMPLE_NOW)
    return found


def finished(client: TestClient, run_id: str, timeout: float = 30) -> dict[str, Any]:
    """``GET /api/runs/{run_id}`` once the run has succeeded or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if run.get("status") in {"SUCCESS", "ERROR"}:
            return run
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not finish in {timeout} s")
