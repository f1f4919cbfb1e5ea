"""Sentence embedders: the offline ONNX model (default) and any OpenAI-compatible endpoint."""

from gtm_feedback.integrations.embeddings.base import (
    Embedder,
    EmbeddingError,
    EmbeddingModelError,
    FloatMatrix,
    Precomputed,
)
from gtm_feedback.integrations.embeddings.factory import build_embedder, get_embedder

__all__ = [
    "Embedder",
    "EmbeddingError",
    "EmbeddingModelError",
    "FloatMatrix",
    "Precomputed",
    "build_embedder",
    "get_embedder",
]
