"""``gtm-feedback demo``: the real command, in its own process, on its own temporary database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

CLI = Path(sys.executable).with_name("gtm-feedback")  # the venv's installed entry point


def _figure(output: str, label: str) -> str:
    found = re.search(rf"{re.escape(label)}\s*│\s*([^│]+?)\s*│", output)
    assert found is not None, f"no row {label!r} in:\n{output}"
    return found.group(1)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def test_demo_runs_everything_and_reports_consistent_figures(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    env |= {"GTMFB_DATA_DIR": str(tmp_path / "user-data"), "COLUMNS": "160"}
    command = [str(CLI), "demo", "--items", "30", "--followup-delay", "1s"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = done.stdout

    items = int(_figure(out, "incoming feedback processed"))
    auto = int(_figure(out, "attached automatically (auto tier)"))
    approval = int(_figure(out, "asked a person (approval tier)"))
    create = int(_figure(out, "new request written (create tier)"))
    approved, declined = _numbers(_figure(out, "approvals decided"))
    attached = int(_figure(out, "attached to an existing request"))
    created = int(_figure(out, "new requests created"))
    sent, due = _numbers(_figure(out, "follow-ups"))
    assert items == auto + approval + create == 30
    assert approval > 0, "the first 30 sample items include approval-tier ones"
    assert create > 0, "the first 30 sample items include create-tier ones"
    assert approved + declined == approval
    assert attached == auto + approved
    assert created == create + declined
    assert due == created  # every new request gets its durable follow-up
    assert sent == due  # nobody added feedback to the brand-new requests within the delay
    messages = _numbers(_figure(out, "messages sent (outbox)"))
    assert messages[0] == sum(messages[1:]) > 0
    # Every one of the sample's 8 areas gets its insight report at the end.
    reports = _numbers(_figure(out, "area insight reports"))
    assert reports[:2] == [8, 8]
    assert reports[2] > 0  # the sample has enterprise dealbreakers
    timing = re.fullmatch(r"median (\d+) ms, p95 (\d+) ms", _figure(out, "(own work)"))
    assert timing is not None
    assert 0 < int(timing.group(1)) <= int(timing.group(2))

    folder = re.search(r"Demo database: (\S+)", out)
    assert folder is not None
    assert not Path(folder.group(1)).exists()  # the temporary database is gone
    assert not (tmp_path / "user-data").exists()  # and the user's data was never touched
