"""Real `gtm-feedback serve` processes for tests: start, wait until ready, read runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

from gtm_feedback.config import Settings
from gtm_feedback.user.models import Role
from tests.auth import bearer

CLI = Path(sys.executable).with_name("gtm-feedback")  # the venv's installed entry point


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, **settings: str) -> tuple[dict[str, str], str]:
    """The environment of a server on ``data_dir`` (migrated, sample loaded) and its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    env |= {"GTMFB_DATA_DIR": str(data_dir), "GTMFB_PORT": str(port), "GTMFB_LOG_LEVEL": "WARNING"}
    env |= {f"GTMFB_{name.upper()}": value for name, value in settings.items()}
    subprocess.run([str(CLI), "init"], env=env, check=True, capture_output=True)
    return env, f"http://127.0.0.1:{port}"


def start(env: dict[str, str], log: Path, *command: str) -> subprocess.Popen[bytes]:
    """``gtm-feedback serve --with-workers`` (or ``command``), its output appended to ``log``."""
    with log.open("ab") as handle:  # the child keeps its own copy of the descriptor
        argv = [str(CLI), *(command or ("serve", "--with-workers"))]
        return subprocess.Popen(argv, env=env, stdout=handle, stderr=handle)


def wait_ready(base: str, timeout: float = 120) -> None:
    """Wait until ``/readyz`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server never became ready")


def database_url(env: dict[str, str]) -> str:
    """The application database of the server started with ``env``."""
    found = Settings(
        data_dir=Path(env["GTMFB_DATA_DIR"]), database_url=env.get("GTMFB_DATABASE_URL")
    )
    return found.app_database_url


def api_headers(
    env: dict[str, str], role: Role = Role.admin, email: str | None = None
) -> dict[str, str]:
    """An ``Authorization`` header for the server started with ``env`` (a real new token)."""
    return bearer(database_url(env), role, email)


def run_status(base: str, run_id: str, headers: dict[str, str]) -> dict[str, Any]:
    """``GET /api/runs/{run_id}``."""
    answer = httpx.get(f"{base}/api/runs/{run_id}", timeout=30, headers=headers)
    found: dict[str, Any] = answer.json()
    return found


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then wait for the process to exit."""
    server.terminate()
    server.wait(timeout=60)
