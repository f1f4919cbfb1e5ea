"""Matching quality and speed on Banking77 (../shared/data/banking77), side by side.

Each of the 77 intents plays one feature request; test utterances are incoming feedback.
Protocols:
  one   - the request's text is one training utterance; nothing linked;
  five  - the request's text is its intent name ("card arrival"); five training utterances are
          linked to it as feedback.
Closed set: all 77 requests exist (top-1 comparable to the reference figures).
Open set: 20 % of intents have no request, so their utterances should create a new request;
          this is where the tier figures (auto precision, new recall...) come from.

``python -m bench.matching`` prints everything; ``--fit`` refits the calibration on the train
split and prints the coefficients and the thresholds the documented procedure picks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import time
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np

from bench import matching_fit
from bench.matching_data import (
    Banking77,
    CachedEmbedder,
    build_protocol,
    centroid_top1,
    text_cosine_top1,
    tfidf_top1,
)
from gtm_feedback.cli.evaluation import match_all, outcome_of
from gtm_feedback.config import Settings
from gtm_feedback.feature_request.search import offline_config
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.matching.evaluate import Report, evaluate
from gtm_feedback.matching.index import IndexEntry, VectorIndex
from gtm_feedback.matching.matcher import MatchConfig

DATA = Path(os.environ.get("GTMFB_BANKING77", Path(__file__).parents[2] / "shared/data/banking77"))
KEYS = [field.name for field in fields(Report)]


def default_config(lexical_weight: float | None = None) -> MatchConfig:
    """The shipped defaults: settings' thresholds, the ONNX model's calibration and novelty."""
    settings = Settings()
    if lexical_weight is not None:
        settings = settings.model_copy(update={"match_lexical_weight": lexical_weight})
    return replace(offline_config(settings, "all-MiniLM-L6-v2-onnx-int8"), k=10)


def throughput(embedder: OnnxEmbedder, texts: Sequence[str]) -> dict[str, float]:
    """Sentences per second over the test set, and one-sentence latency."""
    rates = []
    for _ in range(3):
        start = time.perf_counter()
        embedder.embed(texts)
        rates.append(len(texts) / (time.perf_counter() - start))
    single = []
    for text in texts[:200]:
        start = time.perf_counter()
        embedder.embed([text])
        single.append((time.perf_counter() - start) * 1000)
    return {
        "sentences_per_s": statistics.median(rates),
        "one_sentence_ms": statistics.median(single),
    }


def search_latency(n_requests: int, linked_per_request: int, rounds: int = 200) -> float:
    """Median ms of one top-10 search over ``n_requests`` random unit vectors (+ linked)."""
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        rows = rng.standard_normal((n, 384)).astype(np.float32)
        normed: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return normed

    texts, linked = unit(n_requests), unit(n_requests * linked_per_request)
    entries = [
        IndexEntry(
            f"r{i}",
            texts[i],
            linked[i * linked_per_request : (i + 1) * linked_per_request],
        )
        for i in range(n_requests)
    ]
    index = VectorIndex(entries, 384)
    queries = unit(rounds)
    samples = []
    for query in queries:
        start = time.perf_counter()
        index.search(query, 10)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def protocol_report(
    data: Banking77, embedder: CachedEmbedder, protocol: str, seeds: int, lexical: float
) -> dict[str, object]:
    """Closed-set top-1 of ours and the baselines, and the open-set report, averaged on seeds."""
    closed: dict[str, list[float]] = {}
    open_rows: list[dict[str, float | int | None]] = []
    for seed in range(seeds):
        full = build_protocol(data, protocol, seed, held_out=0.0, split="test")
        for name, weight in (("ours", lexical), ("ours, no lexical", 0.0)):
            results = match_all(full.eval_data, embedder, default_config(weight))
            top1 = evaluate(
                [
                    outcome_of(r, e)
                    for r, (_, e) in zip(results, full.eval_data.feedback, strict=True)
                ]
            ).top1
            closed.setdefault(name, []).append(top1 or 0.0)
        closed.setdefault("request-text cosine", []).append(text_cosine_top1(full, embedder))
        closed.setdefault("char TF-IDF", []).append(tfidf_top1(full))
        if protocol == "five":
            closed.setdefault("centroid of linked (reference)", []).append(
                centroid_top1(full, embedder)
            )
        held = build_protocol(data, protocol, seed, held_out=0.2, split="test")
        results = match_all(held.eval_data, embedder, default_config(lexical))
        outcomes = [
            outcome_of(r, e) for r, (_, e) in zip(results, held.eval_data.feedback, strict=True)
        ]
        open_rows.append(evaluate(outcomes).as_dict())
    return {
        "closed_top1": {name: statistics.mean(values) for name, values in closed.items()},
        "open": {key: _mean([row[key] for row in open_rows]) for key in KEYS},
    }


def _mean(values: Sequence[float | int | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.mean(present) if present else None


def main(argv: Sequence[str] | None = None) -> None:
    """Print every figure; ``--fit`` prints the calibration fitted on the train split."""
    parser = argparse.ArgumentParser(prog="python -m bench.matching")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--fit", action="store_true", help="refit calibration and thresholds")
    args = parser.parse_args(argv)
    data = Banking77.load(DATA)
    onnx = OnnxEmbedder()
    print(
        f"# matching benchmark — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    speed = throughput(onnx, data.test_texts)
    print(
        f"embedding: {speed['sentences_per_s']:.0f} sentences/s (3,080 test sentences, median "
        f"of 3); one sentence {speed['one_sentence_ms']:.1f} ms"
    )
    for n, linked in ((10_000, 0), (100_000, 0), (100_000, 2)):
        print(
            f"top-10 search, {n:,} requests + {n * linked:,} linked: "
            f"{search_latency(n, linked):.2f} ms median"
        )
    embedder = CachedEmbedder.warm(onnx, data.all_texts())
    if args.fit:
        matching_fit.fit(data, embedder, default_config)
        return
    lexical = Settings().match_lexical_weight
    for protocol in ("one", "five"):
        report = protocol_report(data, embedder, protocol, args.seeds, lexical)
        print(f"\n## protocol {protocol} ({args.seeds} seeds)")
        for name, value in cast(dict[str, float], report["closed_top1"]).items():
            print(f"closed-set top-1  {name:32s} {value:.3f}")
        print("open set (20 % of intents held out):", json.dumps(report["open"], indent=1))


if __name__ == "__main__":
    csv.field_size_limit(1 << 20)
    main()
