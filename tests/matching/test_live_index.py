"""The index that takes changes answers exactly like one rebuilt from the same entries."""

from __future__ import annotations

import numpy as np
import pytest

from gtm_feedback.matching.index import IndexEntry, LiveIndex, Matrix, VectorIndex

D = 16


def unit(rng: np.random.Generator, n: int) -> Matrix:
    rows = rng.normal(size=(n, D)).astype(np.float32)
    out: Matrix = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def entry(rng: np.random.Generator, request_id: str) -> IndexEntry:
    n = int(rng.integers(0, 6))
    return IndexEntry(
        request_id, unit(rng, 1)[0], unit(rng, n), tuple(f"{request_id}-f{i}" for i in range(n))
    )


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("fold_at", [0.0, 0.05, 10.0])  # fold every time, sometimes, never
def test_same_answers_as_a_rebuild(seed: int, fold_at: float) -> None:
    rng = np.random.default_rng(seed)
    truth = {f"r{i}": entry(rng, f"r{i}") for i in range(200)}
    live = LiveIndex(VectorIndex(list(truth.values()), D), fold_at=fold_at)
    for step in range(150):
        request_id = f"r{int(rng.integers(0, 260))}"  # some new, some existing
        if request_id in truth and rng.random() < 0.3:
            del truth[request_id]
            live = live.changed({request_id: None})
        else:
            truth[request_id] = entry(rng, request_id)
            live = live.changed({request_id: truth[request_id]})
        if step % 10:
            continue
        rebuilt = VectorIndex(list(truth.values()), D)
        assert sorted(live.request_ids) == sorted(rebuilt.request_ids)
        for query in unit(rng, 5):
            got, want = live.search(query, 10), rebuilt.search(query, 10)
            assert [h.request_id for h in got] == [h.request_id for h in want]
            assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-6)
            assert [h.best_feedback_id for h in got] == [h.best_feedback_id for h in want]
            assert [h.linked for h in got] == [h.linked for h in want]
    items, labels = live.labelled_items()
    owners = [e.request_id for e in truth.values() for _ in range(1 + len(e.feedback_vectors))]
    assert sorted(labels) == sorted(owners)
    assert len(items) == sum(1 + len(e.feedback_vectors) for e in truth.values())


def test_removing_everything_leaves_an_empty_index() -> None:
    rng = np.random.default_rng(1)
    live = LiveIndex(VectorIndex([entry(rng, "a"), entry(rng, "b")], D))
    live = live.changed({"a": None, "b": None})
    assert len(live) == 0
    assert live.search(unit(rng, 1)[0], 5) == []
