"""The import workflow over HTTP: the real app, a launched DBOS, SQLite, the offline model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.runs import finished, seeded_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "import-workflow", port=8117)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def accounts_csv(count: int) -> str:
    rows = [f"IMP{n},Imported {n},{1000 + n},no,sam" for n in range(count)]
    return "\n".join(
        ["id,name,arr,is_enterprise,owner", *rows, "IMP3,Again,1,no,sam", "BAD,,5,no,sam"]
    )


def test_import_writes_batches_once_each_and_reports_bad_rows(
    client: TestClient, settings: Settings
) -> None:
    body = {"kind": "accounts", "csv": accounts_csv(25), "batch_size": 10}
    started = client.post("/api/workflows/import", json=body)
    assert started.status_code == 202, started.text
    run = finished(client, started.json()["run_id"])
    assert run["status"] == "SUCCESS", run["error"]
    result = run["result"]
    assert (result["total"], result["created"], result["updated"]) == (27, 25, 0)
    assert result["batches"] == 3
    assert result["ignored_columns"] == ["owner"]
    assert [(e["line"], e["reason"][:12]) for e in result["errors"]] == [
        (27, "duplicate id"),
        (28, "name: string"),
    ]
    assert result["embeddings_run_id"] is None  # accounts carry no text to match on
    # Rows read of the file, rejected ones included (the file is read a batch at a time).
    assert run["progress"] == {"done": 27, "total": 27, "created": 25, "rejected": 2}
    batches = [s for s in run["steps"] if s["name"] == "import_batch_step"]
    assert [s["output"]["created"] for s in batches] == [10, 10, 5]
    with session_scope(settings.app_database_url) as session:
        imported = select(func.count()).where(Account.id.like("IMP%"))
        assert session.scalar(imported) == 25
    again = finished(client, client.post("/api/workflows/import", json=body).json()["run_id"])
    assert (again["result"]["created"], again["result"]["updated"]) == (0, 25)


def test_imported_requests_are_embedded_by_a_child_run(
    client: TestClient, settings: Settings
) -> None:
    text = (
        "id,title,areas,description\n"
        "imp-r1,Bulk export of audit logs to S3,api-developer-tools,"
        "Security teams need a nightly export of every audit event to their own bucket.\n"
    )
    started = client.post("/api/workflows/import", json={"kind": "requests", "csv": text})
    run = finished(client, started.json()["run_id"])
    assert run["status"] == "SUCCESS", run["error"]
    child = run["result"]["embeddings_run_id"]
    assert child == f"{run['run_id']}-embeddings"
    assert finished(client, child)["result"]["requests"] >= 1
    with session_scope(settings.app_database_url) as session:
        row = session.get(FeatureRequest, "imp-r1")
        assert row is not None
        assert row.embedding is not None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"kind": "areas", "csv": "title\nSomething\n"}, "missing required column(s) id, name"),
        ({"kind": "accounts", "csv": ""}, "at least 1"),
        ({"kind": "accounts", "csv": "\x00\x01binary"}, "NUL bytes are not allowed"),
        ({"kind": "widgets", "csv": "id\n1\n"}, "Input should be"),
        ({"kind": "accounts", "csv": "id,name\nA,B\n", "batch_size": 0}, "greater than"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_before_any_run(
    client: TestClient, body: dict[str, Any], message: str
) -> None:
    before = len(DBOS.list_workflows(workflow_id_prefix="import-"))
    answer = client.post("/api/workflows/import", json=body)
    assert answer.status_code == 422
    assert message in " ".join(error["msg"] for error in answer.json()["detail"])
    assert len(DBOS.list_workflows(workflow_id_prefix="import-")) == before
