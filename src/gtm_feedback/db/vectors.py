"""Embedding columns shared by every table whose rows are searched by meaning."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column


class EmbeddingColumns:
    """Mixin: the row's vector (float32 bytes), the model that made it, and what was embedded.

    ``embedding_key`` is a hash of the model id and the embedded text, so a sync re-embeds a
    row only when its text or the model changed. The vector is deferred: lists never load it.
    """

    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    embedding_model: Mapped[str | None] = mapped_column(String(80))
    embedding_key: Mapped[str | None] = mapped_column(String(64))


def to_bytes(vector: npt.NDArray[np.float32]) -> bytes:
    """Little-endian float32 bytes of a 1-d vector."""
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(blob: bytes) -> npt.NDArray[np.float32]:
    """The vector stored by :func:`to_bytes`."""
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)
