"""The embedder Protocol every implementation follows, and helpers they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from gtm_feedback.errors import AppError

FloatMatrix: TypeAlias = npt.NDArray[np.float32]

#: Width of every stored vector (all-MiniLM-L6-v2; the pgvector column will be vector(384)).
DIMENSIONS = 384


class EmbeddingError(AppError):
    """An embedding could not be computed (endpoint down, bad answer...)."""


class EmbeddingModelError(EmbeddingError):
    """The local model file is missing, altered, or cannot be loaded."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows, one per text, in input order."""

    @property
    def model_id(self) -> str:
        """Identifies the vector space; vectors of different model ids are not comparable."""
        ...

    @property
    def dimensions(self) -> int:
        """Width of each vector."""
        ...

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed ``texts``; returns an array of shape ``(len(texts), dimensions)``."""
        ...


def l2_normalise(matrix: npt.NDArray[np.floating]) -> FloatMatrix:
    """Scale each row to unit length (all-zero rows stay zero) as float32."""
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    out: FloatMatrix = np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)
    return out


def batches_by_length(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Index batches of texts sorted by length, so padding is short and work is even."""
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def empty_matrix(dimensions: int) -> FloatMatrix:
    """A (0, dimensions) float32 array, the result of embedding nothing."""
    return np.zeros((0, dimensions), dtype=np.float32)


class Precomputed:
    """An embedder that answers from vectors computed earlier, and asks ``base`` for the rest.

    Lets a step embed before it opens a write transaction and store inside it, so the write
    lock is never held while a model runs.
    """

    def __init__(self, base: Embedder, texts: Sequence[str]) -> None:
        self._base = base
        self._known = dict(zip(texts, base.embed(texts), strict=True)) if texts else {}

    @property
    def model_id(self) -> str:
        """The base embedder's model id."""
        return self._base.model_id

    @property
    def dimensions(self) -> int:
        """The base embedder's width."""
        return self._base.dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """The known vectors; texts not seen before are embedded by the base embedder."""
        missing = [text for text in texts if text not in self._known]
        if missing:
            self._known.update(zip(missing, self._base.embed(missing), strict=True))
        if not texts:
            return empty_matrix(self.dimensions)
        return np.stack([self._known[text] for text in texts])
