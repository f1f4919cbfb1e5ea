"""Requests that ask for the same thing: each request's nearest others by the fused score.

A request is compared with the others as a query: the normalised sum of its items (its text
and linked feedback), scored against every other request exactly as a match scores feedback
(``VectorIndex.fused_scores``), many requests per matrix product.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

import numpy as np

from gtm_feedback.matching.index import VectorIndex

#: Requests scored per matrix product: (items × CHUNK) float32 stays a few hundred MB at 1M items.
CHUNK = 128


@dataclass(frozen=True)
class Neighbour:
    """Another request and how alike the two are (the fused score, -1..1)."""

    request_id: str
    score: float


def neighbours(
    index: VectorIndex,
    k: int = 10,
    progress: Callable[[int], None] | None = None,
    only: Collection[str] | None = None,
) -> dict[str, list[Neighbour]]:
    """Each request's (or each of ``only``'s) ``k`` most alike other requests, best first."""
    ids, centroids = index.request_ids, index.centroids()
    rows = [r for r, i in enumerate(ids) if only is None or i in only]
    found: dict[str, list[Neighbour]] = {}
    for start in range(0, len(rows), CHUNK):
        chunk = np.array(rows[start : start + CHUNK], dtype=np.intp)
        scores = index.fused_scores(centroids[chunk])
        scores[np.arange(len(chunk)), chunk] = -np.inf  # never itself
        take = max(1, min(k, len(ids) - 1))  # one request alone: its own -inf, dropped below
        # The k best of each row without sorting whole rows (10,000 wide at 10,000 requests).
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1).astype(np.intp)
        for position, (row, columns) in enumerate(zip(chunk, top, strict=True)):
            line = scores[position]
            found[ids[row]] = [
                Neighbour(ids[c], float(line[c])) for c in columns if np.isfinite(line[c])
            ]
        if progress is not None:
            progress(len(chunk))
    return found


def pairs_above(
    found: dict[str, list[Neighbour]], threshold: float
) -> list[tuple[str, str, float]]:
    """Unordered pairs scoring at least ``threshold`` (each once, best first)."""
    best: dict[tuple[str, str], float] = {}
    for request_id, others in found.items():
        for other in others:
            if other.score >= threshold:
                pair = (min(request_id, other.request_id), max(request_id, other.request_id))
                best[pair] = max(best.get(pair, -1.0), other.score)
    return sorted(((a, b, s) for (a, b), s in best.items()), key=lambda p: (-p[2], p[0], p[1]))


@dataclass(frozen=True)
class DuplicateReport:
    """How well known duplicates are found (``gtm-feedback eval-duplicates``)."""

    pairs: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr: float
    threshold: float
    suggested: int
    suggest_precision: float
    suggest_recall: float


def evaluate(
    found: dict[str, list[Neighbour]], known: Iterable[tuple[str, str]], threshold: float
) -> DuplicateReport:
    """Rank of each known duplicate among its request's neighbours; the suggested pairs at
    ``threshold`` against the known ones (unordered)."""
    known = list(known)
    ranks = []
    for request_id, duplicate_of in known:
        order = [n.request_id for n in found.get(request_id, [])]
        ranks.append(order.index(duplicate_of) + 1 if duplicate_of in order else None)
    truth = {(min(a, b), max(a, b)) for a, b in known}
    suggested = {(a, b) for a, b, _ in pairs_above(found, threshold)}
    hits = len(suggested & truth)

    def within(n: int) -> float:
        return sum(1 for r in ranks if r is not None and r <= n) / max(1, len(ranks))

    return DuplicateReport(
        pairs=len(known),
        recall_at_1=within(1),
        recall_at_5=within(5),
        recall_at_10=within(10),
        mrr=sum(1 / r for r in ranks if r is not None) / max(1, len(ranks)),
        threshold=threshold,
        suggested=len(suggested),
        suggest_precision=hits / len(suggested) if suggested else 0.0,
        suggest_recall=hits / len(truth) if truth else 0.0,
    )
