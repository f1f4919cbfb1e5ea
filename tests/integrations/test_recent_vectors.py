"""The embedder remembers recent vectors: the same text is computed once, answers unchanged."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gtm_feedback.integrations.embeddings.base import FloatMatrix, l2_normalise
from gtm_feedback.integrations.embeddings.recent import RecentVectors


class Counting:
    """A deterministic embedder that records every batch it is asked for."""

    model_id = "counting"
    dimensions = 4

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> FloatMatrix:
        self.asked.append(list(texts))
        return l2_normalise(np.array([[len(t), t.count("a"), t.count("e"), 1.0] for t in texts]))


def test_each_text_computed_once_and_answers_in_order() -> None:
    base = Counting()
    recent = RecentVectors(base)
    first = recent.embed(["alpha", "beta", "alpha"])
    again = recent.embed(["beta", "gamma", "alpha"])
    assert base.asked == [["alpha", "beta"], ["gamma"]]  # duplicates and known texts skipped
    np.testing.assert_array_equal(first, base.embed(["alpha", "beta", "alpha"]))
    np.testing.assert_array_equal(again, base.embed(["beta", "gamma", "alpha"]))
    assert recent.computed == 3
    assert recent.embed([]).shape == (0, 4)


def test_forgets_the_least_recently_used() -> None:
    base = Counting()
    recent = RecentVectors(base, size=2)
    recent.embed(["a", "b"])
    recent.embed(["a"])  # "a" used again: "b" is now the oldest
    recent.embed(["c"])
    recent.embed(["a", "b"])
    assert base.asked == [["a", "b"], ["c"], ["b"]]
