"""Memory of ``gtm-feedback import`` as the file grows: peak RSS of the whole command.

Each import runs in a fresh embedded database, as its own process, and its peak resident set
size comes from the kernel (``wait4``). With ``--baseline REV`` the same files are imported by
the code of an earlier commit too (a git worktree put first on ``PYTHONPATH``), alternating,
so the two are measured side by side on the same machine in the same minutes.

    python -m bench.import_memory --rows 50000 200000 --baseline e2b1fef
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = Path(sys.executable).with_name("gtm-feedback")
ROOT = Path(__file__).resolve().parent.parent


def write_accounts(path: Path, rows: int) -> None:
    """An accounts CSV of ``rows`` rows (about 70 bytes each)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,name,arr,region\n")
        for n in range(rows):
            handle.write(f"ACC{n:07d},Company number {n} Incorporated,{n * 10},EMEA\n")


def peak_rss_mb(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Peak RSS (MB) and wall time (s) of ``command`` run to its end."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{command} failed with {process.returncode}")
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def import_once(source: Path, rows: int, src: Path | None) -> tuple[float, float]:
    """Import ``source`` into a fresh database with the code in ``src`` (None: this tree)."""
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
        env |= {"GTMFB_DATA_DIR": data, "GTMFB_LOG_LEVEL": "WARNING"}
        if src is not None:
            env["PYTHONPATH"] = str(src)
        subprocess.run([str(CLI), "db", "upgrade"], env=env, check=True, capture_output=True)
        command = [str(CLI), "import", "accounts", str(source), "--batch-size", "500"]
        return peak_rss_mb(command, env)


def baseline_tree(rev: str, where: Path) -> Path:
    """A worktree of ``rev``; its ``src`` shadows the installed package when put on the path."""
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), rev],
        check=True,
        capture_output=True,
    )
    return where / "src"


def main() -> None:
    """Print peak RSS and time per file size, for this tree and optionally a baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--baseline", help="a commit to measure side by side")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        trees: dict[str, Path | None] = {"this tree": None}
        if args.baseline:
            trees[args.baseline] = baseline_tree(args.baseline, Path(scratch) / "baseline")
        print("| rows | file (MB) | code | peak RSS (MB) | time (s) |")
        print("|---:|---:|---|---:|---:|")
        try:
            for rows in args.rows:
                source = Path(scratch) / f"accounts-{rows}.csv"
                write_accounts(source, rows)
                size = source.stat().st_size / 1e6
                for name, src in trees.items():
                    rss, seconds = import_once(source, rows, src)
                    print(f"| {rows:,} | {size:.1f} | {name} | {rss:.0f} | {seconds:.0f} |")
        finally:
            if args.baseline:
                where = str(Path(scratch) / "baseline")
                remove = ["git", "-C", str(ROOT), "worktree", "remove", "--force", where]
                subprocess.run(remove, check=False)


if __name__ == "__main__":
    main()
