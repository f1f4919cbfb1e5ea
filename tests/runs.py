"""Helpers for tests that drive the real app: a seeded embedded database, waiting for runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request import embeddings
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.migrations import upgrade
from gtm_feedback.sample.loader import seed

SAMPLE_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def seeded_settings(
    tmp_path_factory: pytest.TempPathFactory, name: str, *, embed: bool = False, **overrides: Any
) -> Settings:
    """Settings on a fresh, migrated embedded database holding the sample data (``embed``:
    with every request and feedback item embedded, so matching finds them)."""
    data_dir = tmp_path_factory.mktemp(name)
    found = Settings(data_dir=data_dir, **overrides)
    upgrade(found.app_database_url)
    seed(found.app_database_url, data_dir, seed_value=7, now=SAMPLE_NOW)
    if embed:
        embedder = get_embedder(found)
        with session_scope(found.app_database_url) as session:
            todo = embeddings.pending(session=session, model_id=embedder.model_id)
        for kind, ids in (("requests", todo.requests), ("feedback", todo.feedback)):
            embeddings.embed_batch(found.app_database_url, embedder, kind, ids)
    return found


def seeded_on(request: pytest.FixtureRequest, data_dir: Any, **overrides: Any) -> Settings:
    """Settings on the sample data, in SQLite or in a module's PostgreSQL database as the
    fixture's ``request.param`` says ("sqlite" or "postgres")."""
    url = request.getfixturevalue("module_pg_url") if request.param == "postgres" else None
    found = Settings(data_dir=data_dir, database_url=url, **overrides)
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
