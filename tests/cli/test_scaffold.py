"""``gtm-feedback new-workflow``: the generated workflow passes lint, typecheck and its own test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gtm_feedback.cli import app

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _project(root: Path) -> Path:
    """A copy of the project's sources, test set-up and tool configuration."""
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "tests").mkdir()
    for name in ("__init__.py", "conftest.py"):
        shutil.copy(REPO / "tests" / name, root / "tests" / name)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def _run(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    env["PYTHONPATH"] = str(root / "src")  # the copy, with the new module, not the install
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
    )


def test_a_scaffolded_workflow_is_linted_typed_tested_and_startable(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    made = CliRunner().invoke(
        app,
        ["new-workflow", "crm-sync", "--domain", "account", "--root", str(root),
         "--summary", "Sync accounts from the CRM"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    module = "src/gtm_feedback/account/crm_sync_workflows.py"
    test = "tests/account/test_crm_sync_workflows.py"
    assert (root / module).is_file()
    assert (root / test).is_file()
    for check in (
        (str(BIN / "ruff"), "check", module, test),
        (str(BIN / "ruff"), "format", "--check", module, test),
        (str(BIN / "mypy"), "--cache-dir", str(tmp_path / "mypy"), module),
        (str(BIN / "pytest"), "-q", "-p", "no:cacheprovider", test),
    ):
        done = _run(root, *check)
        assert done.returncode == 0, f"{' '.join(check[1:])}:\n{done.stdout}\n{done.stderr}"
    listed = _run(
        root,
        str(BIN / "python"),
        "-c",
        "from gtm_feedback.durable.registry import startable;"
        "print(startable()['crm-sync'].summary)",
    )
    assert listed.stdout.strip() == "Sync accounts from the CRM."


def test_bad_names_and_existing_files_are_refused(tmp_path: Path) -> None:
    root = _project(tmp_path / "project")
    runner = CliRunner()
    bad = runner.invoke(
        app, ["new-workflow", "CRM Sync", "--domain", "account", "--root", str(root)]
    )
    assert bad.exit_code == 2
    assert "lower-case words joined by '-'" in " ".join(bad.output.split())
    args = ["new-workflow", "crm-sync", "--domain", "account", "--root", str(root)]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already exists" in " ".join(again.output.split())
