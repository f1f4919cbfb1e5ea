"""Choose the embedder from settings: an OpenAI-compatible endpoint if configured, else ONNX."""

from __future__ import annotations

import threading

from gtm_feedback.config import Settings
from gtm_feedback.integrations.embeddings.base import Embedder
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.integrations.embeddings.openai_api import OpenAIEmbedder
from gtm_feedback.integrations.embeddings.recent import RecentVectors

_lock = threading.Lock()
_cache: dict[tuple[object, ...], Embedder] = {}


def build_embedder(settings: Settings) -> Embedder:
    """A new embedder for ``settings`` (loads and verifies the model: ~0.3 s)."""
    if settings.embeddings_base_url:
        key = settings.embeddings_api_key
        return OpenAIEmbedder(
            base_url=settings.embeddings_base_url,
            model=settings.embeddings_model,
            api_key=key.get_secret_value() if key else None,
            dimensions=settings.embeddings_dimensions,
            timeout=settings.embeddings_timeout,
        )
    return OnnxEmbedder(
        model_path=settings.embeddings_model_path,
        batch_size=settings.embeddings_batch_size,
        threads=settings.embeddings_threads,
    )


def get_embedder(settings: Settings) -> Embedder:
    """The process's embedder for these settings, built once (models are costly to load),
    remembering its recent vectors."""
    key = (
        settings.embeddings_base_url,
        settings.embeddings_model,
        settings.embeddings_dimensions,
        settings.embeddings_model_path,
        settings.embeddings_batch_size,
        settings.embeddings_threads,
    )
    with _lock:
        if key not in _cache:
            _cache[key] = RecentVectors(build_embedder(settings))
        return _cache[key]
