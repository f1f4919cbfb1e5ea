"""Starting workflows by name over HTTP and inspecting their runs (real app, real DBOS)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from dbos import DBOS, SetWorkflowID
from fastapi.testclient import TestClient

from gtm_feedback.feature_request.workflows import MarkShippedInput, mark_shipped_workflow
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.runs import finished, seeded_settings

SLUG = "offline-mode-in-the-mobile-app"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = seeded_settings(tmp_path_factory, "workflow-api", port=8115)
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def test_start_by_name_then_inspect_the_run(client: TestClient) -> None:
    started = client.post("/api/workflows/mark-shipped", json={"request": SLUG})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    run = finished(client, run_id)
    assert run["status"] == "SUCCESS"
    assert run["workflow"].endswith("mark_shipped_workflow")
    result = run["result"]
    told, owners = result["notified"], result["owners"]
    assert result["owners_notified"] == owners > 0  # the sample's accounts have owners
    # Followers who own an account that asked hear as its owner (and count there).
    assert told == result["followers"] > 0
    names = [step["name"].rsplit(".", 1)[-1] for step in run["steps"]]
    # Fan-out: one child run per follower, then per owner; each fan-in waits for each result.
    assert names == (
        ["ship_step"]
        + ["notify_follower_workflow"] * told
        + ["getResult"] * told
        + ["notify_owner_workflow"] * owners
        + ["getResult"] * owners
    )
    children = [step["child_run_id"] for step in run["steps"][1 : 1 + told]]
    assert all(child.startswith(f"{run_id}-notify-") for child in children)
    assert [finished(client, child)["result"] for child in children] == [True] * told
    assert all(
        step["duration_ms"] is not None and step["duration_ms"] >= 0 for step in run["steps"]
    )
    assert run["duration_ms"] >= 0
    assert run["error"] is None


def test_idempotency_key_returns_the_same_run(client: TestClient) -> None:
    headers = {"Idempotency-Key": "ship-mobile-sso-1"}
    first = client.post("/api/workflows/mark-shipped", json={"request": SLUG}, headers=headers)
    again = client.post("/api/workflows/mark-shipped", json={"request": SLUG}, headers=headers)
    assert first.json()["run_id"] == again.json()["run_id"]
    assert first.json()["run_id"].startswith("mark-shipped-")
    assert finished(client, first.json()["run_id"])["status"] == "SUCCESS"


def test_a_failed_run_shows_its_error(client: TestClient) -> None:
    # The API refuses an unknown request at the door; a run started past it (e.g. the request
    # was deleted in between) fails with the cause on its step.
    refused = client.post("/api/workflows/mark-shipped", json={"request": "nope"})
    assert refused.status_code == 422
    run_id = f"mark-shipped-gone-{uuid.uuid4().hex[:8]}"
    with SetWorkflowID(run_id):
        DBOS.start_workflow(mark_shipped_workflow, MarkShippedInput(request="nope"))
    run = finished(client, run_id)
    assert run["status"] == "ERROR"
    assert run["error"] == "PermanentError: no request with id or slug 'nope'"
    assert run["steps"][0]["error"] == run["error"]


def test_unknown_workflow_bad_body_unknown_run(client: TestClient) -> None:
    missing = client.post("/api/workflows/nope", json={})
    assert missing.status_code == 404
    assert (
        "known: area-insights, create-request, duplicate-sweep, import, mark-shipped, "
        "merge-requests, process-feedback, refit-matching, sync-embeddings, unmerge-requests, "
        "view-alerts, view-digest, weekly-digest" in missing.json()["detail"]
    )
    bad = client.post("/api/workflows/mark-shipped", json={"request": 3, "extra": True})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("body", "request"),
        ("body", "extra"),
    }
    assert client.post("/api/workflows/mark-shipped", json=[1]).status_code == 422
    assert client.get("/api/runs/no-such-run").status_code == 404


def test_sync_embeddings_in_batches_with_progress(client: TestClient) -> None:
    started = client.post("/api/workflows/sync-embeddings", json={"batch_size": 100})
    run = finished(client, started.json()["run_id"])
    assert run["status"] == "SUCCESS"
    assert run["result"] == {"requests": 43, "feedback": 168, "batches": 3}
    assert run["progress"] == {"done": 211, "total": 211}
    batches = [s for s in run["steps"] if s["name"].endswith("embed_batch_step")]
    assert [s["output"] for s in batches] == [43, 100, 68]
    again = finished(
        client, client.post("/api/workflows/sync-embeddings", json={}).json()["run_id"]
    )
    assert again["result"] == {"requests": 0, "feedback": 0, "batches": 0}
    bad = client.post("/api/workflows/sync-embeddings", json={"batch_size": 0})
    assert bad.status_code == 422
