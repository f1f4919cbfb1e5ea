"""The second-opinion classifier: trained on rivals, it prefers the request a query belongs to."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gtm_feedback.matching.calibration import Opinion
from gtm_feedback.matching.index import Matrix
from gtm_feedback.matching.second import rivals_of, train


def _unit(rows: npt.ArrayLike) -> Matrix:
    values = np.asarray(rows, np.float64)
    out: Matrix = (values / np.linalg.norm(values, axis=1, keepdims=True)).astype(np.float32)
    return out


def _clusters(
    seed: int, k: int = 12, per: int = 8
) -> tuple[Matrix, list[str], npt.NDArray[np.float64]]:
    """Items around ``k`` close centres (a shared direction plus a small own one)."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal(32)
    centres = shared + 0.6 * rng.standard_normal((k, 32))
    items = np.repeat(centres, per, axis=0) + 0.35 * rng.standard_normal((k * per, 32))
    labels = [f"fr_{n}" for n in range(k) for _ in range(per)]
    return _unit(items), labels, centres


def test_it_prefers_the_request_a_query_belongs_to() -> None:
    items, labels, centres = _clusters(1)
    opinion = train(items, labels, rivals=5, steps=300)
    rng = np.random.default_rng(2)
    right, asked = 0, 0
    for n, centre in enumerate(centres):
        for _ in range(10):
            query = _unit((centre + 0.35 * rng.standard_normal(32))[None, :])[0]
            others = [f"fr_{(n + 1) % len(centres)}", f"fr_{(n + 2) % len(centres)}"]
            own = opinion.opinions(query, [f"fr_{n}", *others])[0]
            assert own is not None
            right, asked = right + (own.lead > 0), asked + 1
    assert right >= 0.9 * asked  # the own request leads its rivals in nine queries of ten


def test_a_request_it_never_saw_has_no_opinion() -> None:
    items, labels, _ = _clusters(3, k=3)
    opinion = train(items, labels, rivals=2, steps=50)
    first, _, third = opinion.opinions(items[0], ["fr_0", "fr_new", "fr_1"])
    assert opinion.opinions(items[0], ["fr_new"]) == [None]
    assert opinion.opinions(items[0], ["fr_0", "fr_new"]) == [None, None]  # one known: no choice
    assert first is not None
    assert third is not None
    assert first.lead == -third.lead > 0  # of two known candidates, the own one leads
    assert first.belief > 0 > third.belief


def test_opinions_are_clipped() -> None:
    assert Opinion.clipped(-40.0, 25.0) == Opinion(-Opinion.CAP, Opinion.CAP)
    assert Opinion.clipped(0.5, -0.25) == Opinion(0.5, -0.25)


def test_rivals_are_the_nearest_other_requests() -> None:
    vectors = _unit(np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], np.float32))
    labels = np.array([0, 1, 2, 3], np.int64)
    assert rivals_of(vectors, labels, 4, 1).ravel().tolist() == [1, 0, 3, 2]
    assert rivals_of(vectors, labels, 4, 9).shape == (4, 3)  # never more than the others


def test_one_request_trains_to_a_neutral_model() -> None:
    items, labels, _ = _clusters(4, k=1)
    opinion = train(items, labels)
    assert opinion.request_ids == ("fr_0",)
    assert not opinion.weights.any()


def test_rivals_found_block_by_block_are_the_same() -> None:
    items, labels, _ = _clusters(5, k=40, per=2)
    y = np.array([int(label[3:]) for label in labels], np.int64)
    whole = rivals_of(items, y, 40, 6, block=1024)
    assert (rivals_of(items, y, 40, 6, block=7) == whole).all()
    assert not (whole == np.arange(40)[:, None]).any()  # never its own rival
