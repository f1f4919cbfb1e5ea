"""A second opinion on the best candidate: a classifier over the index items, trained on rivals.

Each request gets a weight vector, trained by softmax regression on its items (its text and the
feedback linked to it) against only its nearest rival requests: those are the ones it competes
with when the index shortlists candidates, so a training step costs items × rivals × dimensions,
not items × requests × dimensions (a softmax over every request took 10 minutes at 2,000 requests
here). At match time it gives each candidate its ``Opinion``: its log-probability among the
candidates and its lead over the best other one, two features of the calibration
(``bench.matching_second`` measures what they add).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from gtm_feedback.matching.calibration import Opinion
from gtm_feedback.matching.index import Matrix

#: Unit vectors scaled up, so the regression separates classes in a few hundred steps.
SCALE = 10.0


@dataclass(frozen=True)
class SecondOpinion:
    """Per-request weights and biases, rows in ``request_ids`` order."""

    request_ids: tuple[str, ...]
    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]

    def opinions(self, query: Matrix, candidate_ids: Sequence[str]) -> list[Opinion | None]:
        """Each candidate's opinion among the candidates it knows; None for a request created
        since it was trained (and for every candidate when it knows fewer than two)."""
        rows = self.rows
        known = [n for n, c in enumerate(candidate_ids) if c in rows]
        out: list[Opinion | None] = [None] * len(candidate_ids)
        if len(known) < 2:
            return out
        classes = [rows[candidate_ids[n]] for n in known]
        x = np.asarray(query, np.float32).ravel() * SCALE
        z = (self.weights[classes] @ x + self.bias[classes]).astype(np.float64)
        log_p = z - z.max() - float(np.log(np.exp(z - z.max()).sum()))
        uniform = float(np.log(len(known)))
        for position, n in enumerate(known):
            others = np.delete(log_p, position)
            lead = float(log_p[position] - others.max())
            out[n] = Opinion.clipped(float(log_p[position]) + uniform, lead)
        return out

    @cached_property
    def rows(self) -> dict[str, int]:
        """Each known request's row in ``weights`` (built once, asked at every match)."""
        return {request_id: n for n, request_id in enumerate(self.request_ids)}

    @property
    def size(self) -> int:
        """How many requests it knows."""
        return len(self.request_ids)


Classes = npt.NDArray[np.int64]


def rivals_of(vectors: Matrix, labels: Classes, k: int, n: int, block: int = 1024) -> Classes:
    """For each of the ``k`` requests, its ``n`` nearest other requests by centroid cosine,
    nearest first (``block`` rows of the similarity matrix at a time: k² floats do not fit)."""
    centroids = np.zeros((k, vectors.shape[1]), np.float32)
    np.add.at(centroids, labels, vectors)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    n = min(n, k - 1)
    out = np.empty((k, n), np.int64)
    for start in range(0, k, block):
        similarity = centroids[start : start + block] @ centroids.T
        rows = np.arange(similarity.shape[0])
        similarity[rows, rows + start] = -np.inf
        near = np.argpartition(-similarity, n - 1, axis=1)[:, :n] if n else rows[:, None][:, :0]
        order = np.argsort(-np.take_along_axis(similarity, near, axis=1), axis=1, kind="stable")
        out[start : start + block] = np.take_along_axis(near, order, axis=1)
    return out


def train(
    vectors: Matrix, labels: Sequence[str], *, rivals: int = 20, steps: int = 400
) -> SecondOpinion:
    """Fit the weights by full-batch gradient descent with a light L2 penalty.

    A request's items all meet the same classes (it and its rivals), so each step is one small
    dense product per request instead of a product with every request.
    """
    ids = tuple(dict.fromkeys(labels))
    position = {request_id: n for n, request_id in enumerate(ids)}
    y = np.array([position[label] for label in labels], np.int64)
    order = np.argsort(y, kind="stable")
    x, y = np.asarray(vectors, np.float32)[order] * SCALE, y[order]
    weights = np.zeros((len(ids), x.shape[1]), np.float32)
    bias = np.zeros(len(ids), np.float32)
    if len(ids) < 2:
        return SecondOpinion(ids, weights, bias)
    near = rivals_of(x, y, len(ids), rivals)
    groups = [
        (np.concatenate([[c], near[c]]), x[lo:hi])
        for c, (lo, hi) in enumerate(zip(*_bounds(y, len(ids)), strict=True))
    ]
    for _ in range(steps):
        grad_w, grad_b = np.zeros_like(weights), np.zeros_like(bias)
        for classes, rows in groups:  # the request first, then its rivals: all distinct
            z = rows @ weights[classes].T + bias[classes]
            g = np.exp(z - z.max(1, keepdims=True))
            g /= g.sum(1, keepdims=True)
            g[:, 0] -= 1.0
            g /= len(x)
            grad_w[classes] += g.T @ rows
            grad_b[classes] += g.sum(0)
        weights -= grad_w + 1e-3 * weights
        bias -= grad_b
    return SecondOpinion(ids, weights, bias)


def _bounds(sorted_labels: Classes, k: int) -> tuple[Classes, Classes]:
    starts = np.searchsorted(sorted_labels, np.arange(k), side="left")
    ends = np.searchsorted(sorted_labels, np.arange(k), side="right")
    return starts.astype(np.int64), ends.astype(np.int64)
