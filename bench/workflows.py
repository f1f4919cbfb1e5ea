"""Workflows on SQLite: process-feedback throughput, a durable step against an INSERT, and
the CSV import as a workflow (transactional batch steps) against the plain importer.

``python -m bench.workflows [--items 1000]``. All figures come from one run on one fresh
embedded database; DBOS keeps its tables in the same SQLite file as the app, so the step and
the INSERT pay for the same disk.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dbos import DBOS, SetWorkflowID
from sqlalchemy import text

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.runs import own_work_ms, percentile
from gtm_feedback.feature_request import embeddings
from gtm_feedback.feedback.schemas import FeedbackSubmission, ProcessFeedbackInput
from gtm_feedback.feedback.workflows import process_feedback_workflow
from gtm_feedback.importing.reader import read_csv_bytes
from gtm_feedback.importing.schemas import ImportInput
from gtm_feedback.importing.service import import_rows
from gtm_feedback.importing.workflows import start_import_bytes
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.logging import configure_logging
from gtm_feedback.migrations import upgrade
from gtm_feedback.runtime import dbos_runtime
from gtm_feedback.sample.loader import seed

STEPS = 200
IMPORT_ROWS = 5000


@DBOS.step()
def noop_step(n: int) -> int:
    """A step doing nothing: what remains is DBOS's own checkpoint."""
    return n


@DBOS.workflow()
def steps_workflow(count: int) -> int:
    """``count`` no-op steps in a row."""
    return sum(noop_step(n) for n in range(count))


def step_vs_insert(url: str) -> tuple[float, float]:
    """Median ms of one durable step and of one committed single-row INSERT."""
    with session_scope(url) as session:
        session.execute(
            text("CREATE TABLE IF NOT EXISTS bench_rows (id INTEGER PRIMARY KEY, v TEXT)")
        )
    step_ms, insert_ms = [], []
    for run in range(5):  # side by side, alternating
        start = time.perf_counter()
        with SetWorkflowID(f"steps-{run}"):
            steps_workflow(STEPS)
        step_ms.append((time.perf_counter() - start) * 1000 / STEPS)
        start = time.perf_counter()
        for n in range(STEPS):
            with session_scope(url) as session:
                session.execute(text("INSERT INTO bench_rows (v) VALUES (:v)"), {"v": f"{run}-{n}"})
        insert_ms.append((time.perf_counter() - start) * 1000 / STEPS)
    return statistics.median(step_ms), statistics.median(insert_ms)


def _accounts_csv(prefix: str, count: int) -> bytes:
    rows = [f"{prefix}{n},Company {n},{1000 + n},EMEA" for n in range(count)]
    return "\n".join(["id,name,arr,region", *rows]).encode()


def import_plain_vs_workflow(url: str, rows: int = IMPORT_ROWS) -> tuple[float, float]:
    """Median rows/s of the plain importer and of the import workflow, alternating runs."""
    plain, durable = [], []
    for run in range(3):
        data = _accounts_csv(f"P{run}-", rows)
        start = time.perf_counter()
        header, raw = read_csv_bytes(data)
        report = import_rows(url, "accounts", header, raw, batch_size=200)
        plain.append(rows / (time.perf_counter() - start))
        assert report.created == rows
        spec = ImportInput(kind="accounts", csv=_accounts_csv(f"W{run}-", rows), batch_size=200)
        start = time.perf_counter()
        _input, handle = start_import_bytes(spec, f"bench-import-{run}")
        result = handle.get_result()
        durable.append(rows / (time.perf_counter() - start))
        assert result.created == rows
    return statistics.median(plain), statistics.median(durable)


def submissions(folder: Path, count: int) -> list[FeedbackSubmission]:
    """The sample's incoming items, cycled to ``count``, each a distinct pain."""
    with (folder / "sample" / "incoming.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        FeedbackSubmission(
            pain=rows[n % len(rows)]["text"] + ("" if n < len(rows) else f" (case {n})"),
            severity=rows[n % len(rows)]["severity"],
            account_id=rows[n % len(rows)]["account_id"],
            submitter_email=rows[n % len(rows)]["submitter_email"],
        )
        for n in range(count)
    ]


def process_all(items: Sequence[FeedbackSubmission]) -> tuple[float, list[float], dict[str, int]]:
    """Enqueue every item, wait for all; wall seconds, per-run latencies (ms), tier counts."""
    queue = DBOS.retrieve_queue("feedback")
    assert queue is not None
    start = time.perf_counter()
    handles = []
    for n, item in enumerate(items):
        with SetWorkflowID(f"bench-{n}"):
            data = ProcessFeedbackInput(submission_id=f"sub_bench_{n}", submission=item)
            handles.append(queue.enqueue(process_feedback_workflow, data))
    tiers: dict[str, int] = {}
    for handle in handles:
        result = handle.get_result()
        tiers[result.tier] = tiers.get(result.tier, 0) + 1
    wall = time.perf_counter() - start
    works = (own_work_ms(handle.get_workflow_id()) for handle in handles)
    return wall, [ms for ms in works if ms is not None], tiers


def main(argv: Sequence[str] | None = None) -> None:
    """Print both figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.workflows")
    parser.add_argument("--items", type=int, default=1000)
    args = parser.parse_args(argv)
    configure_logging("WARNING", "console")
    folder = Path(tempfile.mkdtemp(prefix="gtmfb-bench-"))
    app_db = f"sqlite:///{folder / 'app.sqlite'}"
    settings = Settings(
        data_dir=folder, database_url=app_db, system_database_url=app_db, log_level="WARNING"
    )
    upgrade(app_db)
    seed(app_db, folder, seed_value=7, now=datetime(2026, 11, 1, tzinfo=UTC))
    embedder = get_embedder(settings)
    with session_scope(app_db) as session:
        todo = embeddings.pending(session=session, model_id=embedder.model_id)
        embeddings.embed_requests(session=session, embedder=embedder, ids=todo.requests)
        embeddings.embed_feedback(session=session, embedder=embedder, ids=todo.feedback)
    print(
        f"# workflows benchmark — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, SQLite (WAL), one file for app and DBOS"
    )
    with dbos_runtime(settings, "test"):
        step, insert = step_vs_insert(app_db)
        print(
            f"durable no-op step: {step:.2f} ms median; committed single-row INSERT: "
            f"{insert:.2f} ms median; ratio {step / insert:.1f}x"
        )
        plain, durable = import_plain_vs_workflow(app_db)
        print(
            f"CSV import of {IMPORT_ROWS} accounts, batches of 200: plain importer "
            f"{plain:,.0f} rows/s, import workflow {durable:,.0f} rows/s median; "
            f"the workflow costs {plain / durable:.2f}x"
        )
        wall, latencies, tiers = process_all(submissions(folder, args.items))
    p95 = percentile(latencies, 0.95)
    print(
        f"process feedback: {args.items} items in {wall:.1f} s = {args.items / wall:.1f} runs/s; "
        f"one run's work (first step start to last step end) median "
        f"{statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms; tiers {tiers}"
    )


if __name__ == "__main__":
    main()
    # Approval decision runs wait (GTMFB_APPROVAL_TIMEOUT, 7 days) in DBOS worker threads that
    # keep the interpreter from exiting after shutdown; the figures are printed, so leave now.
    sys.stdout.flush()
    os._exit(0)
