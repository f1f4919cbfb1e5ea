"""Crash: a real ``gtm-feedback import`` killed with SIGKILL mid-import, then run again.

The second run must resume the first (not start over) and every row must be written exactly
once: the created count equals the rows in the file, nothing is counted as "updated".
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from dbos import DBOS

from gtm_feedback.config import Settings
from gtm_feedback.runtime import dbos_runtime

CLI = Path(sys.executable).with_name("gtm-feedback")  # the venv's installed entry point
ROWS = 6000


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    return env | {"GTMFB_DATA_DIR": str(tmp_path / "data"), "GTMFB_LOG_LEVEL": "WARNING"}


def _accounts(path: Path) -> None:
    lines = ["id,name,arr,region"] + [f"C{n},Company {n},{n * 10},EMEA" for n in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")


def _count(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute("SELECT count(*) FROM accounts").fetchone()
        return int(count)


def _kill_mid_import(command: list[str], env: dict[str, str], database: Path) -> int:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    written = 0
    while time.monotonic() < deadline and written < ROWS // 6:
        written = _count(database)
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()  # reaped, so its pid no longer answers: the run is seen as abandoned
    return _count(database)


def test_a_killed_import_resumes_and_writes_every_row_once(tmp_path: Path) -> None:
    env = _env(tmp_path)
    subprocess.run([str(CLI), "db", "upgrade"], env=env, check=True, capture_output=True)
    source = tmp_path / "accounts.csv"
    _accounts(source)
    database = tmp_path / "data" / "gtm_feedback.sqlite"
    command = [str(CLI), "import", "accounts", str(source), "--batch-size", "50"]
    at_kill = _kill_mid_import(command, env, database)
    assert 0 < at_kill < ROWS, "the kill must land mid-import"

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    output = " ".join(again.stdout.split())
    assert again.returncode == 0, again.stderr
    assert "Resuming the interrupted import" in output
    assert f"accounts: {ROWS} rows, {ROWS} created, 0 updated, 0 rejected" in output
    assert _count(database) == ROWS

    settings = Settings(data_dir=tmp_path / "data")
    with dbos_runtime(settings, "cli"):
        (run,) = DBOS.list_workflows(workflow_id_prefix="import-accounts-")
        assert run.status == "SUCCESS"
        steps = DBOS.list_workflow_steps(run.workflow_id)
        batches = [step for step in steps if step["function_name"] == "import_batch_step"]
        assert len(batches) == ROWS // 50  # each batch recorded once across both processes
