"""The command line, through Typer's runner, on the embedded default in a temp folder."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtm_feedback import __version__, migrations
from gtm_feedback.cli import app
from gtm_feedback.cli.imports import abandoned
from gtm_feedback.config import get_settings

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI's embedded database at a temp folder."""
    folder = tmp_path / "data"
    monkeypatch.setenv("GTMFB_DATA_DIR", str(folder))
    get_settings.cache_clear()
    return folder


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_db_upgrade_then_current(data_dir: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"revision {migrations.head_revision()}" in result.output
    assert "Vector search: in memory (this database has no pgvector" in result.output
    assert (data_dir / "gtm_feedback.sqlite").exists()
    current = runner.invoke(app, ["db", "current"])
    assert f"current: {migrations.head_revision()}" in current.output


def test_init_seeds_only_the_first_time(data_dir: Path) -> None:
    first = runner.invoke(app, ["init"])
    assert first.exit_code == 0, first.output
    assert "First run" in first.output
    assert "requests: 43 rows, 43 created" in first.output
    assert (data_dir / "sample" / "incoming.csv").exists()
    second = runner.invoke(app, ["init"])
    assert second.exit_code == 0
    assert "First run" not in second.output
    again = runner.invoke(app, ["seed"])
    assert "requests: 43 rows, 0 created, 43 updated, 0 rejected" in again.output


def test_import_reports_bad_rows_and_exits_1(data_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    source = tmp_path / "accounts.csv"
    source.write_bytes(b"id,name,arr\nA1,Acme,100\nA2,Beta,lots\nA3,Caf\xe9,5\n")
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(app, ["import", "accounts", str(source), "--rejects", str(rejects)])
    assert result.exit_code == 1
    assert "accounts: 3 rows, 1 created, 0 updated, 2 rejected" in result.output
    assert "not valid UTF-8" in result.output
    with rejects.open(newline="") as handle:
        assert list(csv.reader(handle))[1:] == [
            ["3", "arr: input should be a valid decimal (got 'lots')"],
            ["4", "column 'name' is not valid UTF-8 (byte 0xe9)"],
        ]
    clean = runner.invoke(app, ["import", "accounts", str(source.with_name("ok.csv"))])
    assert clean.exit_code == 2  # missing file: Typer's own usage error


def test_import_wrong_header_exits_2(data_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    source = tmp_path / "areas.csv"
    source.write_text("title\nSomething\n")
    result = runner.invoke(app, ["import", "areas", str(source)])
    assert result.exit_code == 2
    assert "missing required column(s) id, name" in " ".join(result.output.split())


def test_import_unknown_kind_is_a_usage_error(tmp_path: Path) -> None:
    source = tmp_path / "x.csv"
    source.write_text("id\n1\n")
    result = runner.invoke(app, ["import", "widgets", str(source)])
    assert result.exit_code == 2
    assert "widgets" in result.output


def test_only_a_dead_command_lines_import_counts_as_abandoned() -> None:
    host = socket.gethostname()
    dead = subprocess.Popen(["true"])  # a pid that has exited and been reaped
    dead.wait()
    assert abandoned(f"{host}-cli-{dead.pid}")
    assert not abandoned(f"{host}-cli-{os.getpid()}")  # still running
    assert not abandoned(f"{host}-8000")  # a server recovers its own runs
    assert not abandoned(f"other-host-cli-{dead.pid}")  # cannot tell from here
    assert not abandoned(None)
