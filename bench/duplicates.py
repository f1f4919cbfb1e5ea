"""The duplicate sweep's cost: every request against every other, by the fused score.

``--requests`` requests with ``--feedback`` feedback spread over them (random unit vectors
of the offline model's width; the cost does not depend on the values), then
``matching.duplicates.neighbours`` as the sweep runs it, ``--rounds`` times.

    python -m bench.duplicates [--requests 10000 --feedback 50000 --rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from gtm_feedback.matching import duplicates
from gtm_feedback.matching.index import IndexEntry, VectorIndex

WIDTH = 384
NEAREST = 5  # as the sweep asks (feature_request.duplicate_sweep.NEAREST)


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.normal(size=(n, WIDTH)).astype(np.float32)
    out: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def build(requests: int, feedback: int) -> VectorIndex:
    """An index of ``requests`` requests and ``feedback`` linked items."""
    rng = np.random.default_rng(7)
    owners = np.bincount(rng.integers(0, requests, feedback), minlength=requests)
    texts, items = _unit(rng, requests), _unit(rng, feedback)
    starts = np.concatenate([[0], np.cumsum(owners)])
    entries = [
        IndexEntry(f"r{i}", texts[i], items[starts[i] : starts[i + 1]]) for i in range(requests)
    ]
    return VectorIndex(entries, WIDTH)


def main(argv: Sequence[str] | None = None) -> None:
    """Time the sweep and print its figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.duplicates", description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--feedback", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    index = build(args.requests, args.feedback)
    times = []
    for _ in range(args.rounds):
        started = time.perf_counter()
        duplicates.neighbours(index, NEAREST)
        times.append(time.perf_counter() - started)
    median = statistics.median(times)
    pairs = args.requests * (args.requests - 1)
    print(
        f"# duplicate sweep — {datetime.now(UTC):%Y-%m-%d %H:%M}, {platform.node()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n"
        f"{args.requests:,} requests + {args.feedback:,} feedback, k={NEAREST}: "
        f"median {median:.1f} s of {args.rounds} "
        f"({min(times):.1f}–{max(times):.1f}); {pairs / median:,.0f} request pairs scored per s"
    )


if __name__ == "__main__":
    main()
