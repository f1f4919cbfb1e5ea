"""Embedded core: seeding, CSV import and the ranked requests query, SQLite vs PostgreSQL.

Prints medians of repeated runs measured side by side; copy the table into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from gtm_feedback.db.session import dispose_engines, session_scope
from gtm_feedback.feature_request.service import RequestQuery, list_requests
from gtm_feedback.importing.reader import RawRow
from gtm_feedback.importing.service import import_rows
from gtm_feedback.migrations import upgrade
from gtm_feedback.sample.loader import seed

PG_ADMIN = os.environ.get(
    "GTMFB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROUNDS = 5


def _median_ms(fn: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _pg_database() -> tuple[str, Callable[[], None]]:
    name = f"gtmfb_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        dispose_engines()
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False), drop


def _account_rows(n: int, tag: str) -> list[RawRow]:
    return [
        RawRow(i + 2, {"id": f"{tag}{i}", "name": f"Account {i}", "arr": str(1000 + i)})
        for i in range(n)
    ]


def measure(url: str, folder: Path) -> dict[str, float]:
    """Figures for one database."""
    upgrade(url)
    seed_ms = _median_ms(lambda: seed(url, folder, seed_value=7, now=NOW), 1)
    header = ["id", "name", "arr"]
    tags = iter(range(1000))
    import_ms = _median_ms(
        lambda: import_rows(url, "accounts", header, _account_rows(2000, f"b{next(tags)}-")), 3
    )

    def ranked() -> None:
        with session_scope(url) as session:
            list_requests(session=session, query=RequestQuery(limit=50))

    return {
        "seed (first load, ms)": seed_ms,
        "import 2,000 accounts (rows/s)": 2000 / (import_ms / 1000),
        "ranked requests page (ms)": _median_ms(ranked, 50),
    }


def main() -> None:
    """Measure both databases in one run and print a Markdown table."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sqlite = measure(f"sqlite:///{folder / 'bench.sqlite'}", folder)
        pg_url, drop = _pg_database()
        try:
            postgres = measure(pg_url, folder)
        finally:
            drop()
    print(f"# {platform.node()} · {os.cpu_count()} cores · {datetime.now(UTC):%Y-%m-%d}")
    print("| figure (median) | SQLite (WAL) | PostgreSQL 15 |\n|---|---:|---:|")
    for key in sqlite:
        print(f"| {key} | {sqlite[key]:,.1f} | {postgres[key]:,.1f} |")
