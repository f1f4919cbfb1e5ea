"""Exact cosine search over requests, each represented by its own text and its linked feedback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
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

    @cached_property
    def rows(self) -> dict[str, int]:
        """Each request's row (position in ``request_ids``)."""
        return {request_id: row for row, request_id in enumerate(self.request_ids)}

    def labelled_items(self) -> tuple[Matrix, list[str]]:
        """Every item (request texts and linked feedback), with the request it belongs to."""
        counts = np.diff([*self._starts[: len(self)], len(self._items)])  # no rows: none
        return self._items, [
            r for r, n in zip(self.request_ids, counts, strict=True) for _ in range(n)
        ]

    def entries(self) -> list[IndexEntry]:
        """The entries the index holds (views of its matrix, no copies)."""
        starts = [int(x) for x in self._starts[: len(self)]]  # no requests: no rows
        ends = [*starts[1:], len(self._items)] if starts else []
        return [
            IndexEntry(
                request_id,
                self._items[start],
                self._items[start + 1 : end],
                _known_ids(self._item_ids[start + 1 : end]),
            )
            for request_id, start, end in zip(self.request_ids, starts, ends, strict=True)
        ]

    def search(self, query: Matrix, k: int = 10) -> list[Hit]:
        """The ``k`` best requests for one L2-normalised query vector, best first."""
        return self.search_except(query, k, None)

    def search_except(
        self, query: Matrix, k: int, hidden: npt.NDArray[np.bool_] | None
    ) -> list[Hit]:
        """``search``, leaving out the requests whose row in ``hidden`` is True."""
        if not self.request_ids or k <= 0:
            return []
        item_sims = self._items @ query.astype(np.float32, copy=False)
        best_item = np.maximum.reduceat(item_sims, self._starts)
        # cos(q, sum of items) = sum of q·item / |sum of items|: one pass over the matrix.
        centroid = np.add.reduceat(item_sims, self._starts) / self._centroid_norms
        scores = CENTROID_WEIGHT * centroid + (1 - CENTROID_WEIGHT) * best_item
        if hidden is not None:
            scores = np.where(hidden, -np.inf, scores)
        top = [i for i in _top_k(scores, k) if np.isfinite(scores[i])]
        return [self._hit(int(i), float(scores[i]), item_sims) for i in top]

    def centroids(self) -> Matrix:
        """Each request's normalised sum of its items (rows in ``request_ids`` order)."""
        if not self.request_ids:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        sums = np.add.reduceat(self._items, self._starts, axis=0)
        out: Matrix = (sums / self._centroid_norms[:, None]).astype(np.float32)
        return out

    def fused_scores(self, queries: Matrix) -> Matrix:
        """The fused score of each L2-normalised query (rows) against every request (columns):
        ``search``'s score for many queries in one matrix product."""
        sims = self._items @ queries.astype(np.float32, copy=False).T  # (items, queries)
        best = np.maximum.reduceat(sims, self._starts, axis=0)
        centroid = np.add.reduceat(sims, self._starts, axis=0) / self._centroid_norms[:, None]
        fused = CENTROID_WEIGHT * centroid + (1 - CENTROID_WEIGHT) * best
        out: Matrix = fused.T.astype(np.float32, copy=False)
        return out

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


class LiveIndex:
    """An index that takes changes without a rebuild: a built :class:`VectorIndex`, plus the
    requests changed since (searched apart, their old rows hidden), folded in once they
    outgrow ``fold_at`` of it. Immutable: ``changed`` returns a new one.

    Rebuilding 10k requests and 50k feedback costs ~0.7 s in every process; one attached
    feedback then costs a small index of the requests it changed.
    """

    def __init__(
        self,
        base: VectorIndex,
        recent: Mapping[str, IndexEntry | None] | None = None,
        fold_at: float = 0.05,
    ) -> None:
        self.base = base
        self.dimensions = base.dimensions
        self._recent = dict(recent or {})
        self._fold_at = fold_at
        rows = base.rows
        self._hidden = np.zeros(len(base), dtype=np.bool_)
        self._hidden[[rows[r] for r in self._recent if r in rows]] = True
        fresh = [e for e in self._recent.values() if e is not None]
        self._fresh = VectorIndex(fresh, base.dimensions)

    @property
    def request_ids(self) -> list[str]:
        """The requests the index holds."""
        kept = (r for r, h in zip(self.base.request_ids, self._hidden, strict=True) if not h)
        return [*kept, *self._fresh.request_ids]

    def __len__(self) -> int:
        return len(self.base) - int(self._hidden.sum()) + len(self._fresh)

    def changed(self, entries: Mapping[str, IndexEntry | None]) -> LiveIndex:
        """This index with ``entries`` replacing their requests' (None: the request is gone)."""
        recent = {**self._recent, **entries}
        if len(recent) <= max(64, self._fold_at * len(self.base)):
            return LiveIndex(self.base, recent, self._fold_at)
        kept = [e for e in self.base.entries() if e.request_id not in recent]
        folded = kept + [e for e in recent.values() if e is not None]
        return LiveIndex(VectorIndex(folded, self.dimensions), None, self._fold_at)

    def search(self, query: Matrix, k: int = 10) -> list[Hit]:
        """The ``k`` best requests for one L2-normalised query vector, best first."""
        hits = self.base.search_except(query, k, self._hidden if self._recent else None)
        hits += self._fresh.search(query, k)
        return sorted(hits, key=lambda hit: -hit.score)[:k]

    def labelled_items(self) -> tuple[Matrix, list[str]]:
        """Every item (request texts and linked feedback), with the request it belongs to."""
        if not self._recent:
            return self.base.labelled_items()
        return VectorIndex(self.entries(), self.dimensions).labelled_items()

    def entries(self) -> list[IndexEntry]:
        """The entries the index holds."""
        kept = [e for e in self.base.entries() if e.request_id not in self._recent]
        return kept + self._fresh.entries()


def _known_ids(item_ids: Sequence[str | None]) -> tuple[str, ...]:
    # Ids given for the first items only were padded with None (``_pad_ids``): undo that.
    known: list[str] = []
    for item_id in item_ids:
        if item_id is None:
            break
        known.append(item_id)
    return tuple(known)


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
