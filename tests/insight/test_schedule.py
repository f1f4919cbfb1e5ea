"""The schedules with two real server processes: registered once, each time run once."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.runs import seeded_settings

GTM_FEEDBACK = Path(sys.executable).with_name("gtm-feedback")
EVERY_3S = "*/3 * * * * *"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ready(port: int, server: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    said = log.read_text(errors="replace")[-3000:]
    raise AssertionError(f"server on port {port} never became ready ({server.poll()}):\n{said}")


def _scheduled_runs(system_db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(system_db) as db:
        rows = db.execute(
            "SELECT workflow_uuid, status FROM workflow_status WHERE name LIKE ?",
            ("%scheduled_area_insights_workflow",),
        ).fetchall()
    return [(str(run_id), str(status)) for run_id, status in rows]


def test_two_servers_register_one_schedule_and_run_each_time_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = seeded_settings(tmp_path_factory, "schedule")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    env |= {
        "GTMFB_DATA_DIR": str(settings.data_dir),
        "GTMFB_INSIGHTS_CRON": EVERY_3S,
        "GTMFB_TIMEZONE": "Europe/Paris",
        "GTMFB_LOG_LEVEL": "WARNING",
    }
    ports = [_free_port(), _free_port()]
    logs = [settings.data_dir / f"server-{port}.log" for port in ports]
    outputs = [log.open("wb") for log in logs]  # what a server said, if it never gets ready
    servers = [
        subprocess.Popen(
            [str(GTM_FEEDBACK), "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        for port, output in zip(ports, outputs, strict=True)
    ]
    system_db = settings.data_dir / "dbos_system.sqlite"
    try:
        for port, server, log in zip(ports, servers, logs, strict=True):
            _ready(port, server, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = [run for run in _scheduled_runs(system_db) if run[1] == "SUCCESS"]
            if len(done) >= 3:
                break
            time.sleep(0.5)
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)
        for output in outputs:
            output.close()

    with sqlite3.connect(system_db) as db:
        schedules = db.execute(
            "SELECT schedule_name, schedule, cron_timezone, queue_name FROM workflow_schedules "
            "ORDER BY schedule_name"
        ).fetchall()
    assert schedules == [
        ("area-insights-daily", EVERY_3S, "Europe/Paris", "insights"),
        ("duplicate-sweep-weekly", "0 6 * * 1", "Europe/Paris", "matching"),
        ("matching-refit-nightly", "30 2 * * *", "Europe/Paris", "matching"),
        ("run-retention", "45 3 * * *", "Europe/Paris", "matching"),
        ("view-digest", "0 8 * * *", "Europe/Paris", "notifications"),
        ("weekly-digest", "0 9 * * 1", "Europe/Paris", "notifications"),
    ]
    runs = _scheduled_runs(system_db)
    succeeded = [run_id for run_id, status in runs if status == "SUCCESS"]
    assert len(succeeded) >= 3, runs
    # One run per firing time: its id is the schedule name and the time, whoever fired it.
    assert all(run_id.startswith("sched-area-insights-daily-20") for run_id in succeeded)
    assert all(run_id.endswith("+01:00") for run_id in succeeded)  # Paris time in November
    with sqlite3.connect(settings.data_dir / "gtm_feedback.sqlite") as app_db:
        reports = app_db.execute("SELECT run_id FROM insight_reports").fetchall()
    per_parent = Counter(run_id.rsplit("+01:00-", 1)[0] for (run_id,) in reports)
    # Each finished firing made exactly one report per area (8 areas), never two.
    for run_id in succeeded:
        assert per_parent[run_id.removesuffix("+01:00")] == 8, per_parent
