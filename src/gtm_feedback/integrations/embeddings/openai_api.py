"""Embeddings from any OpenAI-compatible ``/embeddings`` endpoint."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai

from gtm_feedback.integrations.embeddings.base import (
    EmbeddingError,
    FloatMatrix,
    empty_matrix,
    l2_normalise,
)

#: Texts per request: well under every provider's limit, small enough to retry cheaply.
BATCH_SIZE = 128


class OpenAIEmbedder:
    """Calls ``POST {base_url}/embeddings``; the client retries 429s (with Retry-After) and 5xx."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None,
        dimensions: int,
        timeout: float = 30.0,
        max_retries: int = 3,
    ) -> None:
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key or "unused",  # local servers take any key; the client wants one
            timeout=timeout,
            max_retries=max_retries,
        )
        self._model = model
        self._dimensions = dimensions

    @property
    def model_id(self) -> str:
        """The endpoint's model and width, e.g. ``openai:text-embedding-3-small@384``."""
        return f"openai:{self._model}@{self._dimensions}"

    @property
    def dimensions(self) -> int:
        """Width requested from the endpoint."""
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed ``texts`` in input order, ``BATCH_SIZE`` per request, longest batches last."""
        if not texts:
            return empty_matrix(self._dimensions)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self._dimensions), dtype=np.float32)
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            out[batch] = self._request([texts[i] or " " for i in batch])
        return out

    def _request(self, inputs: list[str]) -> FloatMatrix:
        try:
            response = self._client.embeddings.create(
                model=self._model,
                input=inputs,
                dimensions=self._dimensions,
                encoding_format="float",
            )
        except openai.APIError as exc:
            raise EmbeddingError(f"embeddings endpoint failed: {exc}") from exc
        rows = sorted(response.data, key=lambda item: item.index)
        if len(rows) != len(inputs):
            raise EmbeddingError(f"embeddings endpoint returned {len(rows)} of {len(inputs)}")
        matrix = np.asarray([row.embedding for row in rows], dtype=np.float32)
        if matrix.shape[1] != self._dimensions:
            raise EmbeddingError(
                f"embeddings endpoint returned {matrix.shape[1]}-d vectors; "
                f"GTMFB_EMBEDDINGS_DIMENSIONS is {self._dimensions}"
            )
        return l2_normalise(matrix)
