"""A match at scale while feedback keeps arriving: the index updated in place against rebuilt.

An SQLite database with ``--requests`` requests and ``--feedback`` linked feedback (random unit
vectors, short generated texts). Then, ``--rounds`` times: one feedback item is attached (its
vector stored, the index version bumped, as ``attach_step`` does) and a pain, one of
``PAINS``, is matched through ``search.find_candidates`` (index, wording re-rank,
calibration; the pain is embedded just before by the real model, timed apart, as
``match_step`` shares it with ``attach_step``).
Side by side in one run, in turn: *in place* (the product: the change log names the
requests changed since its last match, the process reloads them and keeps the other requests'
texts), *in place, texts read* (the same, the shortlist's texts read from the database as
before they were kept) and *rebuild* (a process without an index: what every process paid
before). The last two run set aside: the product's index and texts are back afterwards.

    python -m bench.index_updates [--requests 10000 --feedback 50000 --rounds 60]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Sequence
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from gtm_feedback.account.models import Account
from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.db.vectors import to_bytes
from gtm_feedback.feature_request import search
from gtm_feedback.feature_request.index_state import bump_version
from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.migrations import upgrade

WORDS = [
    "export",
    "csv",
    "sso",
    "saml",
    "okta",
    "audit",
    "log",
    "api",
    "webhook",
    "dashboard",
    "mobile",
    "offline",
    "invoice",
    "vat",
    "permissions",
    "role",
    "report",
    "schedule",
    "email",
    "slack",
    "jira",
    "salesforce",
    "sync",
    "latency",
    "search",
    "filter",
]


#: Distinct pains the rounds draw from: customers repeat topics, so shortlists repeat too.
PAINS = 50


def _text(rng: np.random.Generator, words: int) -> str:
    return " ".join(rng.choice(WORDS, size=words))


def _vectors(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    rows = rng.normal(size=(n, width)).astype(np.float32)
    out: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def build(url: str, requests: int, feedback: int, model_id: str, width: int) -> None:
    """Fill the database: requests, then feedback spread over them, with vectors."""
    rng = np.random.default_rng(7)
    with session_scope(url, write=True) as session:
        session.add(Account(id="acme", name="Acme", arr=1000))
        session.flush()
        vectors = _vectors(rng, requests, width)
        session.execute(
            insert(FeatureRequest),
            [
                {
                    "id": f"fr_{i}",
                    "slug": f"r-{i}",
                    "title": _text(rng, 4),
                    "description": _text(rng, 12),
                    "embedding": to_bytes(v),
                    "embedding_model": model_id,
                }
                for i, v in enumerate(vectors)
            ],
        )
        owners = rng.integers(0, requests, size=feedback)
        session.execute(
            insert(Feedback),
            [_feedback(rng, f"fb_{i}", int(o), model_id, width) for i, o in enumerate(owners)],
        )
        bump_version(session, None)


def _feedback(
    rng: np.random.Generator, fid: str, owner: int, model_id: str, width: int
) -> dict[str, object]:
    return {
        "id": fid,
        "request_id": f"fr_{owner}",
        "account_id": "acme",
        "severity": Severity.MEDIUM,
        "description": _text(rng, 14),
        "embedding": to_bytes(_vectors(rng, 1, width)[0]),
        "embedding_model": model_id,
        "links": [],
        "match_candidates": [],
    }


def rounds(url: str, settings: Settings, count: int) -> dict[str, list[float]]:
    """Attach one item, then match, ``count`` times per mode (alternating)."""
    embedder = get_embedder(settings)
    rng = np.random.default_rng(11)
    config = search.offline_config(settings, embedder.model_id)
    pains = [_text(rng, 10) for _ in range(PAINS)]
    modes = ["rebuild", "in place, texts read", "in place"]
    times: dict[str, list[float]] = {mode: [] for mode in [*modes, "embedding the pain"]}
    for n in range(len(modes) * count):
        mode = modes[n % len(modes)]
        with session_scope(url, write=True) as session:
            item = _feedback(
                rng,
                f"fb_new_{n}",
                int(rng.integers(0, 100)),
                embedder.model_id,
                embedder.dimensions,
            )
            session.add(Feedback(**item))
        pain = pains[int(rng.integers(0, len(pains)))]
        started = time.perf_counter()
        embedder.embed([pain])  # remembered: the match below finds it (timed apart)
        times["embedding the pain"].append((time.perf_counter() - started) * 1000)
        aside = (
            search.INDEXES.set_aside(texts_only=mode != "rebuild")
            if mode != "in place"
            else nullcontext()
        )
        with aside:  # the product's own index and texts are back for the next round
            started = time.perf_counter()
            with session_scope(url) as session:
                search.find_candidates(session=session, embedder=embedder, pain=pain, config=config)
            times[mode].append((time.perf_counter() - started) * 1000)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    """Build the data, run the rounds, print medians and the ratio."""
    parser = argparse.ArgumentParser(prog="python -m bench.index_updates", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--feedback", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        url = settings.app_database_url
        upgrade(url)
        embedder = get_embedder(settings)
        started = time.perf_counter()
        build(url, args.requests, args.feedback, embedder.model_id, embedder.dimensions)
        took = time.perf_counter() - started
        print(f"built {args.requests:,} requests + {args.feedback:,} feedback in {took:.0f} s")
        with session_scope(url) as session:  # warm: the first build and the model
            search.find_candidates(
                session=session,
                embedder=embedder,
                pain="warm up",
                config=search.offline_config(settings, embedder.model_id),
            )
        times = rounds(url, settings, args.rounds)
    print(
        f"# index updates — {datetime.now(UTC):%Y-%m-%d %H:%M}, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    )
    print("\n| attach, then match (ms) | p50 | p95 | n |\n|---|---:|---:|---:|")
    print("| (the match: index, wording, calibration; the pain's embedding apart) | | | |")
    for mode, values in times.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
        print(f"| {mode} | {statistics.median(values):.1f} | {p95:.1f} | {len(values)} |")
    for mode in ("rebuild", "in place, texts read"):
        ratio = statistics.median(times[mode]) / statistics.median(times["in place"])
        print(f"{mode} / in place, medians: {ratio:.1f}×")


if __name__ == "__main__":
    main()
