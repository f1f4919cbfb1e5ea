"""The same new pain submitted several times at once, on both databases: one request is
written and every submission ends on it, none on a duplicate."""

from __future__ import annotations

import time
from typing import Any

import pytest
from dbos import DBOS
from sqlalchemy import func, select

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback import steps
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.runs import finished, seeded_on

PAIN = "Our auditors need a signed PDF of every approval chain, exported once a quarter."
COPIES = 6


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp(f"same-pain-{request.param}")
    return seeded_on(request, folder, followup_delay=3600.0)


def _joined(run_id: str) -> bool:
    """Whether the run's create step joined a request written since its match."""
    for step in DBOS.list_workflow_steps(run_id):
        if step["function_name"].endswith("create_request_step") and step["output"]:
            return step["output"].joined is not None
    return False


def test_the_same_new_pain_at_once_makes_one_request(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    related = steps._related

    def slow_related(title: str, description: str) -> str | None:
        time.sleep(2.0)  # every run's match happens before the first request is written
        return related(title, description)

    monkeypatch.setattr(steps, "_related", slow_related)
    with signed_in(create_app(settings), settings) as client:
        account = client.get("/api/accounts", params={"limit": 1}).json()["items"][0]["id"]
        body: dict[str, Any] = {
            "pain": PAIN,
            "severity": "high",
            "account_id": account,
            "submitter_email": "seller@gtm.example",
        }
        runs = [client.post("/api/feedback", json=body).json()["run_id"] for _ in range(COPIES)]
        results = [finished(client, run, timeout=120)["result"] for run in runs]
        joins = sum(_joined(run) for run in runs)
    assert sorted(r["outcome"] for r in results) == ["attached"] * (COPIES - 1) + ["created"]
    assert len({r["request_id"] for r in results}) == 1
    assert joins >= 1  # at least one run came to write and found the request written
    request_id = results[0]["request_id"]
    with session_scope(settings.app_database_url) as session:
        title = session.scalar(select(FeatureRequest.title).where(FeatureRequest.id == request_id))
        same = select(func.count()).select_from(FeatureRequest)
        assert session.scalar(same.where(FeatureRequest.title == title)) == 1
        on_it = select(func.count()).select_from(Feedback)
        assert session.scalar(on_it.where(Feedback.request_id == request_id)) == COPIES
