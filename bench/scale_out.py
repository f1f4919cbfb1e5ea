"""Scale-out on PostgreSQL: a web-only server and 1, 2 or 4 workers, and a worker killed mid-burst.

Each column: a fresh database with the sample data, ``gtm-feedback serve --web-only`` and the
workers, a burst of N submissions (64 at a time, shed ones retried under their
Idempotency-Key), then until every run finished. The takeover column runs 3 workers with the
default 30 s lease and SIGKILLs one when a third of the burst is accepted: how long until a
live worker took its runs over, and until the burst drained.
``python -m bench.scale_out [--burst 2000] [--lease 30] [--workers 1,2,4] [--no-kill]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg

from bench.burst import CLI, _one, admin_token, bodies, free_port, fresh_database, wait_ready

#: Connections each process may hold (app pool and DBOS's): five processes stay under 100.
POOL = {"GTMFB_DB_POOL_SIZE": "3", "GTMFB_DB_MAX_OVERFLOW": "5"}


def _environment(folder: Path, db_env: dict[str, str], lease: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
    env |= {"GTMFB_DATA_DIR": str(folder / "data"), "GTMFB_PORT": str(free_port())}
    env |= {"GTMFB_LOG_LEVEL": "WARNING", "GTMFB_FOLLOWUP_DELAY": "1h"}
    env |= {"GTMFB_INTAKE_RATE_LIMIT": "off", "GTMFB_EXECUTOR_LEASE": f"{lease}s"}
    return env | POOL | db_env


async def _send(base: str, auth: dict[str, str], payloads: list[dict[str, str]]) -> list[Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=300, headers=auth)
    async with client:
        return list(await asyncio.gather(*(_one(client, n, b) for n, b in enumerate(payloads))))


def _finished(url: str, runs: list[str]) -> int:
    with psycopg.connect(url) as db:
        found = db.execute(
            "SELECT count(*) FROM dbos.workflow_status WHERE workflow_uuid = ANY(%s) "
            "AND status IN ('SUCCESS', 'ERROR')",
            (runs,),
        ).fetchone()
    return int(found[0]) if found else 0


def _column(workers: int, count: int, lease: float, kill: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as name, fresh_database("postgres") as db_env:
        folder = Path(name)
        env = _environment(folder, db_env, lease)
        subprocess.run([str(CLI), "init"], env=env, check=True, capture_output=True)
        auth = admin_token(env)
        log = folder / "processes.log"
        with log.open("ab") as out:
            commands = [["serve", "--web-only"]]
            commands += [["worker", "--name", f"b{n}"] for n in range(workers)]
            processes = [
                subprocess.Popen([str(CLI), *command], env=env, stdout=out, stderr=out)
                for command in commands
            ]
        try:
            base = f"http://127.0.0.1:{env['GTMFB_PORT']}"
            wait_ready(base)
            return _measure(base, auth, bodies(folder / "data", count), processes, log, env, kill)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait(timeout=120)


def _measure(
    base: str,
    auth: dict[str, str],
    payloads: list[dict[str, str]],
    processes: list[subprocess.Popen[bytes]],
    log: Path,
    env: dict[str, str],
    kill: bool,
) -> dict[str, float]:
    """Send the burst, kill a worker a third of the way through if asked, wait for the drain."""
    url = env["GTMFB_DATABASE_URL"].replace("+psycopg", "")
    started = time.monotonic()
    done = asyncio.run(_send(base, auth, payloads))
    accepted = max(d["at"] for d in done) - started
    runs = [d["run"] for d in done]
    killed_at: list[float] = []  # the kill, then the takeover
    while (finished := _finished(url, runs)) < len(runs):
        if kill and not killed_at and finished >= len(runs) // 3:
            processes[1].send_signal(signal.SIGKILL)  # mid-burst: it holds runs in flight
            killed_at.append(time.monotonic())
        if len(killed_at) == 1 and "executor.taken_over" in log.read_text():
            killed_at.append(time.monotonic())
        time.sleep(0.25)
    drained = time.monotonic() - started
    figures = {
        "all accepted after (s)": accepted,
        "accepted per s": len(runs) / accepted,
        "all processed after (s)": drained,
        "processed per s": len(runs) / drained,
    }
    if kill:
        took = killed_at[1] - killed_at[0] if len(killed_at) > 1 else float("nan")
        figures["takeover after the kill (s)"] = took
    return figures


def main(argv: list[str]) -> None:
    """Print the scale-out table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=2000)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--workers", default="1,2,4", help="Worker counts to compare.")
    parser.add_argument("--no-kill", action="store_true", help="Skip the takeover column.")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.workers.split(",")]
    columns = {f"{n} worker{'s' if n > 1 else ''}": (n, False) for n in counts}
    if not args.no_kill:
        columns["3 workers, one killed"] = (3, True)
    results = {}
    for label, (workers, kill) in columns.items():
        results[label] = _column(workers, args.burst, args.lease, kill)
        print(label, results[label], flush=True)
    print(f"\n## Burst of {args.burst} submissions, web-only server + workers, PostgreSQL\n")
    print("| figure | " + " | ".join(results) + " |\n|---|" + "---:|" * len(results))
    figures = list(results[max(results, key=lambda label: len(results[label]))])
    for figure in figures:
        values = [results[label].get(figure, float("nan")) for label in results]
        print(f"| {figure} | " + " | ".join(f"{v:,.1f}" for v in values) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
