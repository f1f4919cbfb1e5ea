"""Exact cosine search over requests, each represented by its own text and its linked feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]

#: score = CENTROID_WEIGHT * cos(query, centroid of request text + linked feedback)
#:       + (1 - CENTROID_WEIGHT) * max cos(query, request text or any linked feedback).
#: The centroid rewards the request's overall topic, the max a close paraphrase of one item;
#: 0.5 was within 0.002 top-1 of the best weights on Banking77's train split (docs/matching.md).
CENTROID_WEIGHT = 0.5


@dataclass(frozen=True)
class IndexEntry:
    """One request: its text vector and the vectors of feedback already linked to it."""

    request_id: str
    text_vector: Matrix  # shape (d,)
    feedback_vectors: Matrix  # shape (n, d), n may be 0
    feedback_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A request's similarity to a query, and which of its items was closest."""

    request_id: str
    score: float
    text_similarity: float
    best_item_similarity: float
    best_feedback_id: str | None  # None when the request's own text was the closest item
    linked: int = 0  # feedback items already linked to the request


class CandidateSource(Protocol):
    """Anything that ranks requests for a query vector: this in-memory index, or pgvector."""

    def search(self, query: Matrix, k: int = 10) -> list[Hit]:
        """The ``k`` best requests for one L2-normalised query vector, best first."""
        ...


class VectorIndex:
    """Immutable exact index; rebuild it (cheap) when the requests or their feedback change."""

    def __init__(self, entries: Sequence[IndexEntry], dimensions: int) -> None:
        self.dimensions = dimensions
        self.request_ids = [entry.request_id for entry in entries]
        counts = [1 + len(entry.feedback_vectors) for entry in entries]
        self._starts = np.cumsum([0, *counts[:-1]], dtype=np.int64)
        self._item_ids: list[str | None] = []
        blocks: list[Matrix] = []
        for entry in entries:
            blocks.append(entry.text_vector.reshape(1, dimensions))
            blocks.append(entry.feedback_vectors.reshape(-1, dimensions))
            self._item_ids.append(None)
            self._item_ids.extend(_pad_ids(entry))
        self._items: Matrix = (
            np.concatenate(blocks).astype(np.float32, copy=False)
            if blocks
            else np.zeros((0, dimensions), dtype=np.float32)
        )
        self._centroid_norms = _sum_norms(self._items, self._starts, counts)

    def __len__(self) -> int:
        return len(self.request_ids)

    def labelled_items(self) -> tuple[Matrix, list[str]]:
        """Every item (request texts and linked feedback), with the request it belongs to."""
        counts = np.diff([*self._starts[: len(self)], len(self._items)])  # no rows: none
        return self._items, [
            r for r, n in zip(self.request_ids, counts, strict=True) for _ in range(n)
        ]

    def search(self, query: Matrix, k: int = 10) -> list[Hit]:
        """The ``k`` best requests for one L2-normalised query vector, best first."""
        if not self.request_ids or k <= 0:
            return []
        item_sims = self._items @ query.astype(np.float32, copy=False)
        best_item = np.maximum.reduceat(item_sims, self._starts)
        # cos(q, sum of items) = sum of q·item / |sum of items|: one pass over the matrix.
        centroid = np.add.reduceat(item_sims, self._starts) / self._centroid_norms
        scores = CENTROID_WEIGHT * centroid + (1 - CENTROID_WEIGHT) * best_item
        top = _top_k(scores, k)
        return [self._hit(int(i), float(scores[i]), item_sims) for i in top]

    def _hit(self, row: int, score: float, item_sims: Matrix) -> Hit:
        start = int(self._starts[row])
        end = int(self._starts[row + 1]) if row + 1 < len(self._starts) else len(item_sims)
        best = start + int(np.argmax(item_sims[start:end]))
        return Hit(
            request_id=self.request_ids[row],
            score=score,
            text_similarity=float(item_sims[start]),
            best_item_similarity=float(item_sims[best]),
            best_feedback_id=self._item_ids[best],
            linked=end - start - 1,
        )


def _pad_ids(entry: IndexEntry) -> list[str | None]:
    ids: list[str | None] = list(entry.feedback_ids)
    return ids + [None] * (len(entry.feedback_vectors) - len(ids))


def _sum_norms(items: Matrix, starts: npt.NDArray[np.int64], counts: list[int]) -> Matrix:
    if not counts:
        return np.ones(0, dtype=np.float32)
    norms = np.linalg.norm(np.add.reduceat(items, starts, axis=0), axis=1)
    out: Matrix = np.where(norms > 0, norms, 1.0).astype(np.float32)  # zero rows score 0
    return out


def _top_k(scores: npt.NDArray[np.floating[Any]], k: int) -> npt.NDArray[np.intp]:
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, k)[:k]
    return part[np.argsort(-scores[part], kind="stable")]
