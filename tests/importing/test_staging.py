"""Staged imports: the file goes into the database in chunks and the run reads it back from
there, never holding it whole; keys, repeats and clean-up behave like the other intakes."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from dbos import DBOS
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.importing import staging
from gtm_feedback.importing.models import ImportChunk, ImportFile, ImportSeenId
from gtm_feedback.importing.reader import read_csv_bytes, read_csv_stream
from gtm_feedback.importing.schemas import StagedImport
from gtm_feedback.importing.staging import CHUNK_BYTES, inspect, open_staged, stage
from gtm_feedback.importing.workflows import describe
from gtm_feedback.main import create_app
from tests.auth import signed_in
from tests.runs import finished, seeded_settings


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return seeded_settings(tmp_path_factory, "import-staging", port=8118)


@pytest.fixture(scope="module")
def client(settings: Settings) -> Iterator[TestClient]:
    with signed_in(create_app(settings), settings) as test_client:
        yield test_client


def wide_accounts(prefix: str, count: int) -> bytes:
    """Accounts whose names hold multi-byte characters, so chunk edges split some of them."""
    rows = [f"{prefix}{n},Société Ünïcode 😀 {n} {'x' * (n % 50)},{n},EMEA" for n in range(count)]
    return "\n".join(["id,name,arr,region", *rows]).encode()


def staged_files(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(ImportFile.id)))


def test_a_file_read_back_from_its_chunks_is_the_file(
    client: TestClient, settings: Settings
) -> None:
    content = wide_accounts("W", 30_000)
    assert len(content) > 2 * CHUNK_BYTES  # three chunks at least, with split characters
    facts = inspect("accounts", io.BytesIO(content))
    assert (facts.rows, facts.size, facts.ignored_columns) == (30_000, len(content), [])
    data = describe("staging-roundtrip", "accounts", facts, filename="wide.csv", embed=False)
    url = settings.app_database_url
    with session_scope(url, write=True) as session:
        stage(session, data, io.BytesIO(content))
    with session_scope(url) as session:
        chunks = session.scalar(select(func.count()).where(ImportChunk.file_id == data.file_id))
        assert chunks == -(-len(content) // CHUNK_BYTES)
    with open_staged(url, data.file_id) as stream:
        header, rows = read_csv_stream(stream)
        expected_header, expected = read_csv_bytes(content)
        assert header == expected_header
        assert list(rows) == list(expected)


def test_a_file_that_changed_between_check_and_copy_is_refused(settings: Settings) -> None:
    before = b"id,name\nA,B\n"
    facts = inspect("areas", io.BytesIO(before))
    data = describe("staging-changed", "areas", facts, filename=None, embed=False)
    url = settings.app_database_url
    changed = io.BytesIO(b"id,name\nA,C\n")
    refused = pytest.raises(InvalidInputError, match="changed while it was being read")
    with refused, session_scope(url, write=True) as session:
        stage(session, data, changed)
    assert "staging-changed" not in staged_files(url)  # nothing half-staged is left


def test_the_run_keeps_the_file_id_not_the_file(client: TestClient, settings: Settings) -> None:
    content = wide_accounts("R", 2_000).decode()
    started = client.post("/api/workflows/import", json={"kind": "accounts", "csv": content})
    assert started.status_code == 202, started.text
    run = finished(client, started.json()["run_id"])
    assert run["status"] == "SUCCESS", run["error"]
    assert run["result"]["created"] == 2_000
    (recorded,) = DBOS.list_workflows(workflow_ids=[run["run_id"]], load_input=True)
    assert recorded.input is not None
    (data,) = recorded.input["args"]
    assert isinstance(data, StagedImport)
    assert (data.file_id, data.rows, data.size) == (run["run_id"], 2_000, len(content.encode()))
    assert len(repr(recorded.input)) < 1_000  # an id and counts, not 200 kB of rows
    # The next import sweeps the staged file of a run that succeeded, with the ids it met.
    again = client.post("/api/workflows/import", json={"kind": "areas", "csv": "id,name\nz,Z\n"})
    assert finished(client, again.json()["run_id"])["status"] == "SUCCESS"
    assert run["run_id"] not in staged_files(settings.app_database_url)
    with session_scope(settings.app_database_url) as session:
        seen = select(func.count()).where(ImportSeenId.file_id == run["run_id"])
        assert session.scalar(seen) == 0


def test_a_repeated_id_far_apart_in_the_file_is_caught(
    client: TestClient, settings: Settings
) -> None:
    lines = ["id,name,arr"] + [f"D{n},Dup {n},{n}" for n in range(1, 1_001)] + ["D7,Again,1"]
    body = {"kind": "accounts", "csv": "\n".join(lines), "batch_size": 50}
    run = finished(client, client.post("/api/workflows/import", json=body).json()["run_id"])
    assert (run["result"]["created"], run["result"]["rejected"]) == (1_000, 1)
    assert run["result"]["errors"] == [
        {"line": 1_002, "reason": "duplicate id 'D7' (first on line 8)"}
    ]
    with session_scope(settings.app_database_url) as session:
        assert session.get(Account, "D7") is not None
        assert session.get(Account, "D7").name == "Dup 7"  # type: ignore[union-attr]


def test_one_key_one_file(client: TestClient) -> None:
    key = {"Idempotency-Key": "nightly-crm/2026-12-02"}
    body = {"kind": "areas", "csv": "id,name\nkeyed,Keyed area\n"}
    first = client.post("/api/workflows/import", json=body, headers=key)
    repeat = client.post("/api/workflows/import", json=body, headers=key)
    assert first.status_code == repeat.status_code == 202
    assert first.json()["run_id"] == repeat.json()["run_id"]
    assert finished(client, first.json()["run_id"])["result"]["created"] == 1
    other = client.post(
        "/api/workflows/import",
        json={**body, "csv": "id,name\nkeyed,Another name\n"},
        headers=key,
    )
    assert other.status_code == 409, other.text
    assert "different body" in other.json()["detail"]


def test_binary_and_oversize_files_are_refused_before_staging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(InvalidInputError, match="binary"):
        inspect("accounts", io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
    monkeypatch.setattr(staging, "MAX_FILE_BYTES", 10_000)
    with pytest.raises(InvalidInputError, match="over the import limit of 10,000 bytes"):
        inspect("accounts", io.BytesIO(wide_accounts("L", 1_000)))


def test_a_file_whose_run_is_gone_is_swept_once_old(client: TestClient, settings: Settings) -> None:
    """Run retention removed its (failed) run, or it never started: nothing will read the file,
    so the next sweep removes it once it is a day old; a young one may still get its run."""
    url = settings.app_database_url
    for name in ("orphan-old", "orphan-young"):
        facts = inspect("areas", io.BytesIO(b"id,name\nA,B\n"))
        with session_scope(url, write=True) as session:
            stage(
                session,
                describe(name, "areas", facts, filename=None, embed=False),
                io.BytesIO(b"id,name\nA,B\n"),
            )
    with session_scope(url, write=True) as session:
        old = session.get(ImportFile, "orphan-old")
        assert old is not None
        old.created_at = old.created_at - staging.ORPHAN_AFTER - staging.ORPHAN_AFTER
    swept = staging.sweep(url)
    assert "orphan-old" in swept
    assert "orphan-young" not in swept
    assert "orphan-young" in staged_files(url)
    assert "orphan-old" not in staged_files(url)
