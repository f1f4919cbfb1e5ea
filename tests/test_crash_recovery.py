"""A real process killed mid-workflow; its restart resumes the workflow without repeating steps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

WORKER = Path(__file__).with_name("crash_worker.py")


def _wait_for(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_killed_server_resumes_its_workflow_after_restart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    first = subprocess.Popen(
        [sys.executable, str(WORKER), str(tmp_path), "start"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Kill during the sleep, after step "a" was checkpointed. Killing as soon as "a" is in
        # the log raced the checkpoint: DBOS then rightly ran "a" again (at-least-once steps).
        _wait_for(tmp_path / "sleeping")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    second = subprocess.run(
        [sys.executable, str(WORKER), str(tmp_path), "recover"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert second.stdout.strip().splitlines()[-1] == "done"
    assert (tmp_path / "steps.log").read_text() == "ab"  # step "a" was not run again
