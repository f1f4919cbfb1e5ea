"""Themes: an area's open requests grouped by embedding similarity (pure, no I/O)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: At most this many themes are reported per area, the largest by ARR first.
MAX_THEMES = 5


def group_by_similarity(vectors: npt.NDArray[np.float32], threshold: float) -> list[list[int]]:
    """Indices grouped so that each joins the most similar group if that is ≥ ``threshold``.

    Rows are taken in order (callers pass the highest ARR first, so a theme is anchored on
    its most valuable request) and compared with each group's running centroid. One pass,
    deterministic, O(n · groups): an area has hundreds of open requests, not millions.
    """
    if len(vectors) == 0:
        return []
    unit = _normalised(vectors)
    groups: list[list[int]] = []
    sums = np.zeros((0, unit.shape[1]), dtype=np.float32)
    for index, vector in enumerate(unit):
        if groups:
            centroids = _normalised(sums)
            scores = centroids @ vector
            best = int(np.argmax(scores))
            if scores[best] >= threshold:
                groups[best].append(index)
                sums[best] += vector
                continue
        groups.append([index])
        sums = np.vstack([sums, vector[None, :]])
    return groups


def _normalised(matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


def themes(
    vectors: npt.NDArray[np.float32], weights: list[float], threshold: float
) -> list[list[int]]:
    """Groups of at least two related rows, heaviest (by summed weight) first, at most five."""
    groups = [group for group in group_by_similarity(vectors, threshold) if len(group) >= 2]
    groups.sort(key=lambda group: (-sum(weights[i] for i in group), -len(group), group[0]))
    return groups[:MAX_THEMES]
