"""Does a "second opinion" classifier over the index items help matching? (Banking77 *train*.)

Per protocol (five or twenty training utterances linked to each request) and train-split seed
100-105 (``bench.matching_fit``'s seeds; 20 % of intents have no request): a softmax regression
is fitted on the index items (each request's text and linked feedback vectors, labelled by
request), and each query's best candidate gets two more features, log P(best) and
log P(best) − log P(best other). Then, in both halves of the queries in turn, the calibration is
fitted on one half with and without them, the auto threshold set where that half's precision
reaches 0.98, and precision and coverage measured on the other half; AUROC of "some request fits"
likewise. Two classifiers side by side: ``softmax``, over every request, and ``rivals``, the
product's ``matching/second.py`` (each request trained against its 20 nearest rivals only, asked
about the matcher's candidates). Nothing here reads the test split.

    python -m bench.matching_second [--protocols five twenty]
    python -m bench.matching_second --cost   # training time of both, side by side
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.matching import DATA, default_config
from bench.matching_data import Banking77, CachedEmbedder, build_protocol
from bench.matching_fit import CHECK_SEEDS, FIT_SEEDS, TARGET
from gtm_feedback.cli.evaluation import match_all
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.matching import second
from gtm_feedback.matching.evaluate import auroc
from gtm_feedback.matching.matcher import request_text

Array = npt.NDArray[np.float64]
#: Columns of a row: score, margin, ln(1+linked), log P(best), log-ratio (softmax over all),
#: right, has a request, log P(best), lead (rivals).
VARIANTS = {"without": [0, 1, 2], "softmax": [0, 1, 2, 3, 4], "rivals": [0, 1, 2, 7, 8]}


def softmax_fit(
    x: npt.NDArray[np.floating[Any]], y: npt.NDArray[np.int64], k: int, iters: int = 400
) -> npt.NDArray[np.floating[Any]]:
    """Multinomial logistic regression by full-batch gradient descent (light L2); [W; b]."""
    w, b = np.zeros((x.shape[1], k), x.dtype), np.zeros(k, x.dtype)
    target = np.eye(k, dtype=x.dtype)[y]
    for _ in range(iters):
        gradient = (_softmax(x @ w + b) - target) / len(x)
        w -= x.T @ gradient + 1e-3 * w
        b -= gradient.sum(0)
    return np.vstack([w, b])


def _softmax(z: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.floating[Any]]:
    z = np.exp(z - z.max(1, keepdims=True))
    out: npt.NDArray[np.floating[Any]] = z / z.sum(1, keepdims=True)
    return out


def logistic(features: Array, labels: Array) -> Array:
    """Weights of a logistic regression (Newton, light ridge), bias first."""
    x = np.column_stack([np.ones(len(features)), features])
    w = np.zeros(x.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -60, 60)))
        hessian = (x * (p * (1 - p))[:, None]).T @ x + 1e-3 * np.eye(len(w))
        w -= np.linalg.solve(hessian, x.T @ (p - labels) + 1e-3 * w)
    return w


def predict(w: Array, features: Array) -> Array:
    """Probabilities of the logistic model ``w``."""
    z = np.column_stack([np.ones(len(features)), features]) @ w
    out: Array = 1 / (1 + np.exp(-np.clip(z, -60, 60)))
    return out


def threshold_for(confidence: Array, right: Array) -> float:
    """Lowest threshold whose rows (at least 20) reach ``TARGET`` precision."""
    for t in np.arange(0.5, 0.9999, 0.0025):
        above = confidence >= t
        if above.sum() >= 20 and right[above].mean() >= TARGET:
            return float(t)
    return 1.0


def observe(data: Banking77, embedder: CachedEmbedder, protocol: str, seed: int) -> Array:
    """One row per query with a candidate (see ``BASE``'s comment for the columns)."""
    built = build_protocol(data, protocol, seed, held_out=0.2, split="train").eval_data
    results = match_all(built, embedder, default_config(), opinion=False)
    ids = list(built.requests)
    texts = [request_text(built.requests[i].title, built.requests[i].description) for i in ids]
    labels = list(range(len(ids))) + [ids.index(rid) for rid, _ in built.linked]
    texts += [text for _, text in built.linked]
    scale = 10.0  # unit vectors: a wider range lets the regression separate in few steps
    items = embedder.embed(texts).astype(np.float64) * scale
    model = softmax_fit(items, np.array(labels), len(ids))
    rival = second.train(embedder.embed(texts), [ids[n] for n in labels])
    unit = embedder.embed([t for t, _ in built.feedback])
    log_p = np.log(_softmax(unit.astype(np.float64) * scale @ model[:-1] + model[-1]) + 1e-9)
    rows = []
    for result, (_, expected), logs, query in zip(
        results, built.feedback, log_p, unit, strict=True
    ):
        if not result.candidates:
            continue
        best = result.candidates[0]
        j = ids.index(best.request_id)
        other = np.max(np.delete(logs, j))
        right, known = best.request_id == expected, expected is not None
        seen = rival.opinions(query, [c.request_id for c in result.candidates])[0]
        assert seen is not None  # every request was trained on
        opinion = (seen.belief, seen.lead)
        row = (best.score, best.margin, np.log1p(best.linked), logs[j], logs[j] - other)
        rows.append((*row, right, known, *opinion))
    return np.array(rows, dtype=float)


def compare(rows: Array, seed: int) -> dict[str, tuple[float, float, float]]:
    """(precision, coverage, AUROC of "a request fits") per variant."""
    order = np.random.default_rng(seed).permutation(len(rows))
    halves = (order[: len(rows) // 2], order[len(rows) // 2 :])
    out = {}
    for name, columns in VARIANTS.items():
        figures = []
        for fit_rows, test_rows in (halves, halves[::-1]):
            fit, test = rows[fit_rows], rows[test_rows]
            w = logistic(fit[:, columns], fit[:, 5])
            threshold = threshold_for(predict(w, fit[:, columns]), fit[:, 5].astype(bool))
            above = predict(w, test[:, columns]) >= threshold
            right, known = test[:, 5].astype(bool), test[:, 6].astype(bool)
            precision = float(right[above].mean()) if above.any() else 1.0
            exists = predict(logistic(fit[:, columns], fit[:, 6]), test[:, columns])
            area = auroc(list(exists[known]), list(exists[~known])) or 0.5
            figures.append((precision, float((above & known).sum() / known.sum()), area))
        precision, coverage, area = np.mean(figures, axis=0)
        out[name] = (float(precision), float(coverage), float(area))
    return out


def cost(sizes: Sequence[tuple[int, int]] = ((62, 372), (500, 5000), (2000, 20000))) -> None:
    """Seconds for 400 training steps of each classifier (median of 3 timings of 5 steps,
    interleaved), on random unit vectors in float32."""
    rng = np.random.default_rng(0)
    for k, n in sizes:
        x = rng.standard_normal((n, 384)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        y = rng.integers(0, k, n)
        labels = [f"r{v}" for v in y]
        took: dict[str, list[float]] = {"softmax": [], "rivals": []}
        for _ in range(3):
            started = time.perf_counter()
            softmax_fit(x * np.float32(10), y, k, iters=5)
            took["softmax"].append(time.perf_counter() - started)
            started = time.perf_counter()
            second.train(x, labels, steps=5)
            took["rivals"].append(time.perf_counter() - started)
        per = {name: statistics.median(t) / 5 * 400 for name, t in took.items()}
        print(
            f"{k} requests, {n} items: softmax {per['softmax']:.0f} s, rivals "
            f"{per['rivals']:.0f} s (ratio {per['softmax'] / per['rivals']:.1f})",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Print per-seed and mean figures, with and without the second opinion."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocols", nargs="+", default=["five", "twenty"])
    parser.add_argument("--cost", action="store_true", help="time the training of both")
    args = parser.parse_args(argv)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    print(f"# {stamp} {platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.cost:
        cost()
        return
    data = Banking77.load(DATA)
    embedder = CachedEmbedder.warm(OnnxEmbedder(), data.all_texts())
    for protocol in args.protocols:
        seen = []
        for seed in (*FIT_SEEDS, *CHECK_SEEDS):
            found = compare(observe(data, embedder, protocol, seed), seed)
            seen.append(found)
            print(protocol, seed, _line(found), flush=True)
        means = {k: tuple(np.mean([s[k] for s in seen], axis=0)) for k in VARIANTS}
        better = {k: sum(s[k][1] > s["without"][1] for s in seen) for k in VARIANTS}
        print(f"{protocol} mean {_line(means)}; coverage higher (of {len(seen)}): {better}")


def _line(found: Mapping[str, tuple[float, ...]]) -> str:
    return "  ".join(
        f"{name}: precision {p:.3f} coverage {c:.3f} AUROC(new) {a:.3f}"
        for name, (p, c, a) in found.items()
    )


if __name__ == "__main__":
    main()
