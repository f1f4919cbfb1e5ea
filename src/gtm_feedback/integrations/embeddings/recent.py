"""Remember the vectors of recently embedded texts, so no text is embedded twice in a row.

A submission's pain is embedded to match it and again to store it; a new request's draft is
embedded to find related requests, to search, and to store; area descriptions and candidate
requests come back on every new request. On the offline model each costs 5–15 ms of CPU.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from gtm_feedback.integrations.embeddings.base import Embedder, FloatMatrix, empty_matrix


class RecentVectors:
    """An embedder that answers from the last ``size`` texts' vectors and asks ``base`` for
    the rest (in one call, in input order)."""

    def __init__(self, base: Embedder, size: int = 4096) -> None:
        self._base = base
        self._size = size
        self._lock = threading.Lock()
        self._vectors: OrderedDict[str, FloatMatrix] = OrderedDict()
        self.computed = 0  # texts the base embedder was asked for, for tests and benchmarks

    @property
    def model_id(self) -> str:
        """The base embedder's model id."""
        return self._base.model_id

    @property
    def dimensions(self) -> int:
        """The base embedder's width."""
        return self._base.dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Vectors for ``texts``: remembered ones, and the others from the base embedder."""
        if not texts:
            return empty_matrix(self.dimensions)
        found = self._recall(texts)
        missing = list(dict.fromkeys(t for t in texts if t not in found))
        if missing:
            fresh = dict(zip(missing, self._base.embed(missing), strict=True))
            self._remember(fresh)
            found |= fresh
        return np.stack([found[text] for text in texts])

    def _recall(self, texts: Sequence[str]) -> dict[str, FloatMatrix]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
        return found

    def _remember(self, fresh: dict[str, FloatMatrix]) -> None:
        with self._lock:
            self.computed += len(fresh)
            self._vectors.update(fresh)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
