"""A PostgreSQL server of a test's own (initdb into a temp dir, its own port): a test may
restart it without disturbing the machine's server that every other test uses."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers import free_port


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/ensure-postgres)")
    return str(found[-1])


class PrivateCluster:
    """``initdb`` once, then ``start`` / ``restart`` / ``stop``; ``url`` reaches it."""

    def __init__(self, max_connections: int = 300) -> None:
        # Not under pytest's tmp_path: its folders are private to root, and the server runs
        # as the postgres user when the tests run as root (initdb refuses root).
        self.root = Path(tempfile.mkdtemp(prefix="gtmfb-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.max_connections = max_connections
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            _bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={self.max_connections} -c fsync=off"
        )
        log = str(self.root / "server.log")
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            log,
            "-o",
            options,
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            action,
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._ctl("start")

    def restart(self) -> None:
        """Stop it (fast: open connections are cut) and start it again."""
        self._ctl("restart")

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._ctl("stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
