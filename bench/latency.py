"""Feedback latency and throughput through the real HTTP server, SQLite and PostgreSQL.

Per database, on a fresh server (``gtm-feedback serve``, the sample data, offline models):

* **sequential**: after a warm-up, one ``POST /api/feedback`` at a time, the next once the run
  has finished. *POST → outcome* is from just before the POST until the bench sees the run
  finished, per tier; the parts: the POST's own answer, answer → the run's first step (mostly
  the queue's dispatch) and the run's steps (first start → last end, DBOS's own stamps).
* **concurrent**: ``--burst`` submissions from ``--clients`` clients at once: runs per second
  from the first POST to the last run's end, and the server's CPU time per run.
* **idle**: the server's share of a core over ``--idle`` seconds with nothing to do, after the
  runs above left their approvals waiting.

The bench watches DBOS's table directly (an indexed read every 2 ms, in its own process)
instead of polling the API, so waiting costs the server nothing.

    python -m bench.latency [--sequential 100] [--burst 300] [--databases sqlite postgres]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import sqlalchemy as sa

from bench.burst import CLI, admin_token, bodies, free_port, fresh_database, wait_ready

WARM_UP = 10


@dataclass(frozen=True)
class Server:
    """A running ``gtm-feedback serve`` and how to reach it and its run table."""

    base: str
    auth: dict[str, str]
    pid: int
    runs: sa.Engine
    table: str


@contextmanager
def serving(database: str, folder: Path, cli: Path = CLI) -> Iterator[Server]:
    """A fresh server of ``cli`` on ``database`` (sqlite or postgres) with the sample data."""
    with fresh_database(database) as db_env:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
        env |= {"GTMFB_DATA_DIR": str(folder / "data"), "GTMFB_PORT": str(free_port())}
        env |= {"GTMFB_LOG_LEVEL": "WARNING", "GTMFB_FOLLOWUP_DELAY": "30d"}
        env |= {"GTMFB_INTAKE_RATE_LIMIT": "off", **db_env}
        subprocess.run([str(cli), "init"], env=env, check=True, capture_output=True)
        auth = admin_token(env, cli)
        url = db_env.get("GTMFB_DATABASE_URL")
        runs = sa.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1)
            if url
            else f"sqlite:///{folder / 'data' / 'dbos_system.sqlite'}"
        )
        log = (folder / "server.log").open("ab")
        server = subprocess.Popen(
            [str(cli), "serve", "--with-workers"], env=env, stdout=log, stderr=log
        )
        try:
            base = f"http://127.0.0.1:{env['GTMFB_PORT']}"
            wait_ready(base)
            table = "dbos.workflow_status" if url else "workflow_status"
            yield Server(base, auth, server.pid, runs, table)
        finally:
            server.terminate()
            server.wait(timeout=60)
            runs.dispose()


def _finished(server: Server, run_ids: Sequence[str]) -> set[str]:
    """The runs of ``run_ids`` that have finished."""
    query = sa.text(
        f"SELECT workflow_uuid FROM {server.table} "
        "WHERE workflow_uuid IN :ids AND status IN ('SUCCESS', 'ERROR')"
    ).bindparams(sa.bindparam("ids", expanding=True))
    with server.runs.connect() as connection:
        return {row[0] for row in connection.execute(query, {"ids": list(run_ids)})}


def _wait(server: Server, run_ids: Sequence[str], deadline: float = 300) -> float:
    """When (epoch seconds) every run of ``run_ids`` was seen finished; polls every 2 ms.

    DBOS stamps ``updated_at`` to the second on SQLite under Python 3.11, so the bench
    watches instead."""
    until = time.monotonic() + deadline
    while time.monotonic() < until:
        if len(_finished(server, run_ids)) == len(run_ids):
            return time.time()
        time.sleep(0.002)
    raise TimeoutError(f"{len(run_ids)} runs not finished after {deadline} s")


def _steps(server: Server, run_id: str) -> tuple[int, int]:
    """The first step's start and the last step's end, epoch ms (stamped by DBOS in Python)."""
    table = server.table.replace("workflow_status", "operation_outputs")
    query = sa.text(
        f"SELECT min(started_at_epoch_ms), max(completed_at_epoch_ms) FROM {table} "
        "WHERE workflow_uuid = :id"
    )
    with server.runs.connect() as connection:
        first, last = connection.execute(query, {"id": run_id}).one()
    return int(first), int(last)


def _post(client: httpx.Client, body: dict[str, str], key: str) -> tuple[str, float]:
    answer = client.post("/api/feedback", json=body, headers={"Idempotency-Key": key})
    answer.raise_for_status()
    return str(answer.json()["run_id"]), time.time()


def _tier(client: httpx.Client, run_id: str) -> str:
    result = client.get(f"/api/runs/{run_id}").json()["result"] or {}
    return str(result.get("tier", "?"))


def sequential(server: Server, sent: Sequence[dict[str, str]]) -> dict[str, list[float]]:
    """POST → outcome and its parts per submission, one at a time (after a warm-up)."""
    figures: dict[str, list[float]] = {}
    with httpx.Client(base_url=server.base, headers=server.auth, timeout=60) as client:
        for n, body in enumerate(sent):
            before = time.time()
            run_id, answered = _post(client, body, f"seq-{n}")
            done = _wait(server, [run_id])
            if n < WARM_UP:
                continue
            tier = _tier(client, run_id)
            first, last = _steps(server, run_id)
            for name, value in (
                ("POST → outcome", (done - before) * 1000),
                (f"POST → outcome, {tier}", (done - before) * 1000),
                ("POST answered", (answered - before) * 1000),
                ("answered → first step", first - answered * 1000),
                ("first step → last step end", last - first),
            ):
                figures.setdefault(name, []).append(value)
    return figures


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def concurrent(server: Server, sent: Sequence[dict[str, str]], clients: int) -> dict[str, float]:
    """Runs per second and CPU ms per run for a burst from ``clients`` clients at once."""
    cpu = _cpu_seconds(server.pid)
    started = time.time()
    with (
        httpx.Client(base_url=server.base, headers=server.auth, timeout=120) as client,
        ThreadPoolExecutor(clients) as pool,
    ):
        posted = list(pool.map(lambda nb: _post(client, nb[1], f"burst-{nb[0]}"), enumerate(sent)))
    done = _wait(server, [run for run, _ in posted], deadline=900)
    return {
        "runs per second": len(sent) / (done - started),
        "server CPU ms per run": (_cpu_seconds(server.pid) - cpu) * 1000 / len(sent),
    }


def idle(server: Server, seconds: float) -> dict[str, float]:
    """The server's share of one core while nothing is submitted, and the runs waiting
    (approvals and follow-up sleeps: PENDING in DBOS's table)."""
    time.sleep(2)  # let the last runs' children settle
    query = sa.text(f"SELECT count(*) FROM {server.table} WHERE status = 'PENDING'")
    with server.runs.connect() as connection:
        waiting = int(connection.execute(query).scalar_one())
    cpu, began = _cpu_seconds(server.pid), time.monotonic()
    time.sleep(seconds)
    share = (_cpu_seconds(server.pid) - cpu) / (time.monotonic() - began)
    return {"runs waiting": waiting, "idle share of a core (%)": share * 100}


def measure(database: str, args: argparse.Namespace, cli: Path = CLI) -> dict[str, Any]:
    """Sequential, concurrent and idle figures on one fresh server."""
    with tempfile.TemporaryDirectory() as name, serving(database, Path(name), cli) as server:
        sent = bodies(Path(name) / "data", WARM_UP + args.sequential + args.burst)
        figures = sequential(server, sent[: WARM_UP + args.sequential])
        burst = concurrent(server, sent[WARM_UP + args.sequential :], args.clients)
        return {"latency": figures, **burst, **idle(server, args.idle)}


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def report(results: dict[str, dict[str, Any]]) -> None:
    """Print the tables (ms; p50 / p95 / p99 and the count)."""
    names = list(results)
    print("\n| ms, p50 / p95 / p99 (n) | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    rows = sorted({k for r in results.values() for k in r["latency"]}, key=_order)
    for row in rows:
        cells = []
        for db in names:
            values = results[db]["latency"].get(row, [])
            cells.append(
                f"{statistics.median(values):.0f} / {_percentile(values, 0.95):.0f} / "
                f"{_percentile(values, 0.99):.0f} ({len(values)})"
                if values
                else "–"
            )
        print(f"| {row} | " + " | ".join(cells) + " |")
    print("\n| figure | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names))
    scalars = [k for k in results[names[0]] if k != "latency"]
    for key in scalars:
        print(f"| {key} | " + " | ".join(f"{results[db][key]:,.1f}" for db in names) + " |")


def _order(name: str) -> tuple[int, str]:
    return (0 if name.startswith("POST → outcome") else 1, name)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure each database in turn and print the tables."""
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--sequential", type=int, default=100)
    parser.add_argument("--burst", type=int, default=300)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--idle", type=float, default=30.0)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument(
        "--against",
        type=Path,
        help="another build's gtm-feedback (e.g. an older commit's venv): measured first, "
        "side by side in the same run",
    )
    args = parser.parse_args(argv)
    print(
        f"# feedback latency — {datetime.now(UTC):%Y-%m-%d %H:%M}, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    builds = {"": CLI} if args.against is None else {"before: ": args.against, "now: ": CLI}
    report(
        {
            f"{label}{db}": measure(db, args, cli)
            for db in args.databases
            for label, cli in builds.items()
        }
    )


if __name__ == "__main__":
    main()
