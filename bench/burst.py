"""Burst benchmark: N concurrent ``POST /api/feedback`` on a real server, SQLite and PostgreSQL.

For each database: how many first answers were 202 (accepted) or 503/429 (shed, with
Retry-After), the first answer's latency (p50, p99), when every submission had been accepted
(clients retry shed ones after Retry-After with the same Idempotency-Key), and when every
accepted run had finished (drained). ``python -m bench.burst [--burst 200]``.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psycopg
from sqlalchemy.engine import make_url

CLI = Path(sys.executable).with_name("gtm-feedback")
PG_ADMIN = os.environ.get(
    "GTMFB_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bodies(data_dir: Path, count: int, same: int = 1) -> list[dict[str, str]]:
    """``count`` submissions from the sample's incoming feedback; ``same``: each pain is sent
    that many times in a row (copies arriving together), else each is its own."""
    with (data_dir / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for n in range(count):
        row = rows[(n // same) % len(rows)]
        suffix = f" (burst {n // same})" if same > 1 else f" (burst {n})"
        found.append(
            {
                "pain": f"{row['text']}{suffix}",
                "severity": row["severity"],
                "account_id": row["account_id"],
                "submitter_email": row["submitter_email"],
            }
        )
    return found


async def _one(client: httpx.AsyncClient, n: int, body: dict[str, str]) -> dict[str, Any]:
    first: tuple[int, float] | None = None
    while True:
        started = time.monotonic()
        answer = await client.post("/api/feedback", json=body, headers={"Idempotency-Key": f"{n}"})
        first = first or (answer.status_code, time.monotonic() - started)
        if answer.status_code == 202:
            return {"first": first, "run": answer.json()["run_id"], "at": time.monotonic()}
        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))


def admin_token(env: dict[str, str], cli: Path = CLI) -> dict[str, str]:
    """An admin's API token on the server's database, made with the command line."""
    user = ["users", "add", "bench@example.com", "--role", "admin"]
    subprocess.run([str(cli), *user], env=env, check=True, capture_output=True)
    made = subprocess.run(
        [str(cli), "tokens", "create", "--user", "bench@example.com", "--name", "bench"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return {"Authorization": f"Bearer {made.stdout.strip().splitlines()[-1]}"}


async def _burst(
    base: str, auth: dict[str, str], bodies: list[dict[str, str]]
) -> tuple[list[dict[str, Any]], float]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=len(bodies))
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=300, headers=auth)
    async with client:
        started = time.monotonic()
        done = await asyncio.gather(*(_one(client, n, b) for n, b in enumerate(bodies)))
        return list(done), started


def _drain(base: str, auth: dict[str, str], runs: list[str]) -> tuple[float, list[Any]]:
    """When every run had finished, and their results (empty for a run that failed)."""
    with httpx.Client(base_url=base, timeout=60, headers=auth) as client:
        while True:
            found = [client.get(f"/api/runs/{run}").json() for run in runs]
            if all(run["status"] in ("SUCCESS", "ERROR") for run in found):
                return time.monotonic(), [run["result"] or {} for run in found]
            time.sleep(0.25)


@contextmanager
def fresh_database(database: str) -> Iterator[dict[str, str]]:
    """The settings of a fresh database: the embedded SQLite, or a new PostgreSQL one."""
    if database != "postgres":
        yield {}
        return
    name = f"gtmfb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"GTMFB_DATABASE_URL": make_url(PG_ADMIN).set(database=name).render_as_string(False)}
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(env: dict[str, str], folder: Path, bodies: list[dict[str, str]]) -> dict[str, Any]:
    auth = admin_token(env)
    log = (folder / "server.log").open("ab")
    server = subprocess.Popen(
        [str(CLI), "serve", "--with-workers"], env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{env['GTMFB_PORT']}"
        wait_ready(base)
        done, started = asyncio.run(_burst(base, auth, bodies))
        drained, results = _drain(base, auth, [d["run"] for d in done])
        return {"done": done, "started": started, "drained": drained, "results": results}
    finally:
        server.terminate()
        server.wait(timeout=60)


def measure(database: str, count: int, src: Path | None = None, same: int = 1) -> dict[str, float]:
    """One burst against a fresh server on ``database`` (sqlite or postgres); ``src``: the
    server runs that source tree's package instead (a baseline commit's ``src``)."""
    with tempfile.TemporaryDirectory() as name, fresh_database(database) as db_env:
        folder = Path(name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("GTMFB_")}
        env |= {"PYTHONPATH": str(src)} if src else {}
        env |= {"GTMFB_DATA_DIR": str(folder / "data"), "GTMFB_PORT": str(free_port())}
        env |= {"GTMFB_LOG_LEVEL": "WARNING", "GTMFB_FOLLOWUP_DELAY": "1h"}
        env |= {"GTMFB_INTAKE_RATE_LIMIT": "off", **db_env}  # one client sends everything
        subprocess.run([str(CLI), "init"], env=env, check=True, capture_output=True)
        run = _run(env, folder, bodies(folder / "data", count, same))
    done, started = run["done"], run["started"]
    latencies = sorted(d["first"][1] * 1000 for d in done)
    return {
        "accepted first": sum(d["first"][0] == 202 for d in done),
        "shed first (503/429)": sum(d["first"][0] in (429, 503) for d in done),
        "first answer p50 (ms)": statistics.median(latencies),
        "first answer p99 (ms)": latencies[max(0, round(0.99 * len(latencies)) - 1)],
        "all accepted after (s)": max(d["at"] for d in done) - started,
        "all drained after (s)": run["drained"] - started,
        "requests written": sum(r.get("outcome") == "created" for r in run["results"]),
        "runs failed": sum(not r for r in run["results"]),
    }


def wait_ready(base: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server never became ready")


def main(argv: list[str]) -> None:
    """Print the burst table for SQLite and PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument(
        "--baseline-src", type=Path, help="a baseline commit's src/, measured alternately"
    )
    parser.add_argument("--same", type=int, default=1, help="copies of each pain sent together")
    args = parser.parse_args(argv)
    trees: dict[str, Path | None] = {"": None}
    if args.baseline_src:
        trees = {"baseline ": args.baseline_src.resolve(), "this tree ": None}
    columns = [
        (f"{tree}{db}", db, src) for db in ("sqlite", "postgres") for tree, src in trees.items()
    ]
    results = {name: measure(db, args.burst, src, args.same) for name, db, src in columns}
    copies = f", each pain {args.same} times" if args.same > 1 else ""
    print(f"\n## Burst of {args.burst} concurrent POST /api/feedback{copies}\n")
    print("| figure | " + " | ".join(results) + " |\n|---|" + "---:|" * len(results))
    for figure in next(iter(results.values())):
        values = [found[figure] for found in results.values()]
        print(f"| {figure} | " + " | ".join(f"{v:,.1f}" for v in values) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
