"""Duplicate requests: each request's neighbours, scored as a match scores feedback."""

from __future__ import annotations

import numpy as np
import pytest

from gtm_feedback.matching.duplicates import Neighbour, evaluate, neighbours, pairs_above
from gtm_feedback.matching.index import IndexEntry, VectorIndex


def _unit(rng: np.random.Generator, n: int, d: int = 16) -> np.ndarray:
    rows = rng.normal(size=(n, d)).astype(np.float32)
    out: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def _index(rng: np.random.Generator, requests: int = 300) -> VectorIndex:
    entries = [
        IndexEntry(f"r{i:03d}", _unit(rng, 1)[0], _unit(rng, int(rng.integers(0, 4))))
        for i in range(requests)
    ]
    return VectorIndex(entries, 16)


def test_neighbours_score_exactly_as_a_search_by_the_centroid() -> None:
    index = _index(np.random.default_rng(3))
    found = neighbours(index, k=5)
    hidden = np.zeros(len(index), dtype=np.bool_)
    for row, (request_id, centroid) in enumerate(
        zip(index.request_ids, index.centroids(), strict=True)
    ):
        hidden[row] = True
        want = index.search_except(centroid, 5, hidden)
        hidden[row] = False
        got = found[request_id]
        assert [n.request_id for n in got] == [h.request_id for h in want]
        assert [n.score for n in got] == pytest.approx([h.score for h in want], abs=1e-5)
        assert request_id not in {n.request_id for n in got}


def test_a_planted_duplicate_is_each_others_nearest() -> None:
    rng = np.random.default_rng(5)
    index = _index(rng, 100)
    entries = index.entries()
    twin = IndexEntry("twin", entries[7].text_vector, entries[7].feedback_vectors)
    found = neighbours(VectorIndex([*entries, twin], 16), k=3)
    best = found["twin"][0]
    assert best.request_id == entries[7].request_id
    assert found[entries[7].request_id][0] == Neighbour("twin", best.score)  # symmetric
    assert best.score > max(
        n[0].score for r, n in found.items() if r not in {"twin", best.request_id}
    )
    assert pairs_above(found, best.score) == [(entries[7].request_id, "twin", best.score)]


def test_the_report_counts_ranks_and_suggestions() -> None:
    found = {
        "a": [Neighbour("b", 0.95), Neighbour("c", 0.5)],
        "b": [Neighbour("a", 0.95), Neighbour("c", 0.4)],
        "c": [Neighbour("d", 0.9), Neighbour("a", 0.5)],
        "d": [Neighbour("c", 0.9), Neighbour("a", 0.2)],
        "e": [Neighbour("a", 0.3), Neighbour("d", 0.2)],
    }
    report = evaluate(found, [("a", "b"), ("c", "a"), ("e", "d")], threshold=0.8)
    assert report.recall_at_1 == pytest.approx(1 / 3)
    assert report.recall_at_5 == 1.0
    assert report.mrr == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    # Suggested: {a,b} (right) and {c,d} (not known): half right, a third of the known found.
    assert (report.suggested, report.suggest_precision) == (2, 0.5)
    assert report.suggest_recall == pytest.approx(1 / 3)


def test_one_request_alone_has_no_neighbours() -> None:
    rng = np.random.default_rng(1)
    alone = VectorIndex([IndexEntry("only", _unit(rng, 1)[0], _unit(rng, 2))], 16)
    assert neighbours(alone, k=5) == {"only": []}
    assert neighbours(VectorIndex([], 16)) == {}
