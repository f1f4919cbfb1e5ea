"""The vector index, calibration, tiers and evaluation figures on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest

from gtm_feedback.matching.calibration import Calibration, fit_calibration, margins
from gtm_feedback.matching.evaluate import Outcome, auroc, evaluate
from gtm_feedback.matching.index import IndexEntry, VectorIndex
from gtm_feedback.matching.tiers import Thresholds, Tier


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def entry(request_id: str, text: np.ndarray, *feedback: np.ndarray) -> IndexEntry:
    block = np.stack(feedback) if feedback else np.zeros((0, 3), np.float32)
    ids = tuple(f"{request_id}-fb{i}" for i in range(len(feedback)))
    return IndexEntry(request_id, text, block, ids)


def test_score_mixes_centroid_and_closest_item() -> None:
    index = VectorIndex(
        [
            entry("a", unit(1, 0, 0)),
            entry("b", unit(0, 1, 0), unit(0, 0, 1)),
        ],
        3,
    )
    hits = index.search(unit(0, 0, 1), k=5)
    assert [hit.request_id for hit in hits] == ["b", "a"]
    b = hits[0]
    # centroid of (0,1,0) and (0,0,1) is (0, .707, .707): cos .707; closest item: cos 1
    assert b.score == pytest.approx(0.5 * 0.7071 + 0.5 * 1.0, abs=1e-3)
    assert b.best_feedback_id == "b-fb0"
    assert b.text_similarity == pytest.approx(0.0, abs=1e-6)
    assert hits[1].score == pytest.approx(0.0, abs=1e-6)
    assert hits[1].best_feedback_id is None


def test_request_without_feedback_is_plain_cosine_and_top_k_is_ordered() -> None:
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex([entry(f"r{i}", v) for i, v in enumerate(vectors)], 8)
    query = vectors[7]
    hits = index.search(query, k=5)
    expected = np.argsort(-(vectors @ query))[:5]
    assert [hit.request_id for hit in hits] == [f"r{i}" for i in expected]
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(index.search(query, k=500)) == 50


def test_empty_index_finds_nothing() -> None:
    assert VectorIndex([], 3).search(unit(1, 0, 0)) == []


def test_thresholds_decide_the_tier() -> None:
    thresholds = Thresholds(auto=0.9, approval=0.5)
    assert thresholds.decide(0.95) is Tier.AUTO
    assert thresholds.decide(0.9) is Tier.AUTO
    assert thresholds.decide(0.89) is Tier.APPROVAL
    assert thresholds.decide(0.5) is Tier.APPROVAL
    assert thresholds.decide(0.49) is Tier.CREATE
    assert thresholds.decide(None) is Tier.CREATE
    with pytest.raises(ValueError, match="approval"):
        Thresholds(auto=0.4, approval=0.5)


def test_calibration_is_monotone_and_margins_are_relative_to_the_best_other() -> None:
    calibration = Calibration("m", bias=-5, w_score=6, w_margin=12)
    assert calibration.confidence(0.9, 0.2) > calibration.confidence(0.9, 0.01)
    assert calibration.confidence(0.9, 0.1) > calibration.confidence(0.6, 0.1)
    assert 0 < calibration.confidence(-5, -5) < calibration.confidence(5, 5) < 1.0001
    np.testing.assert_allclose(margins([0.5, 0.8, 0.7]), [-0.3, 0.1, -0.1])
    np.testing.assert_allclose(margins([0.4]), [0.4])


def test_fit_recovers_a_known_logistic_model() -> None:
    rng = np.random.default_rng(3)
    scores, gaps = rng.uniform(0, 1, 20_000), rng.uniform(0, 0.3, 20_000)
    truth = Calibration("m", bias=-4.0, w_score=5.0, w_margin=10.0)
    p = np.array([truth.confidence(s, g) for s, g in zip(scores, gaps, strict=True)])
    labels = rng.uniform(0, 1, len(p)) < p
    fitted = fit_calibration("m", scores.tolist(), gaps.tolist(), labels.tolist())
    assert fitted.bias == pytest.approx(-4.0, abs=0.4)
    assert fitted.w_score == pytest.approx(5.0, abs=0.5)
    assert fitted.w_margin == pytest.approx(10.0, abs=1.5)


def test_report_figures_on_a_hand_computed_set() -> None:
    outcomes = [
        Outcome("a", ["a", "b"], 0.97, Tier.AUTO),  # auto, right
        Outcome("b", ["a", "b"], 0.96, Tier.AUTO),  # auto, wrong
        Outcome("c", ["b", "x", "y", "z", "w", "c"], 0.6, Tier.APPROVAL),  # rank 6
        Outcome("a", ["b", "a"], 0.2, Tier.CREATE),  # wrongly new, rank 2
        Outcome(None, ["a"], 0.1, Tier.CREATE),  # rightly new
        Outcome(None, ["b"], 0.7, Tier.APPROVAL),  # has no request, sent to a person
    ]
    report = evaluate(outcomes).as_dict()
    assert list(report) == [
        "n", "top1", "recall_at_5", "mrr", "auto_precision", "auto_coverage",
        "approval_share", "new_precision", "new_recall", "auroc_new",
    ]  # fmt: skip
    assert report["n"] == 6
    assert report["top1"] == pytest.approx(1 / 4)
    assert report["recall_at_5"] == pytest.approx(3 / 4)
    assert report["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 6 + 1 / 2) / 4)
    assert report["auto_precision"] == pytest.approx(1 / 2)
    assert report["auto_coverage"] == pytest.approx(2 / 4)
    assert report["approval_share"] == pytest.approx(2 / 6)
    assert report["new_precision"] == pytest.approx(1 / 2)
    assert report["new_recall"] == pytest.approx(1 / 2)
    # positives .97 .96 .6 .2 against negatives .1 .7: they win 2, 2, 1 and 1 of the 2 pairs
    assert report["auroc_new"] == pytest.approx((2 + 2 + 1 + 1) / 8)


def test_auroc_counts_ties_as_half_and_is_undefined_without_both_classes() -> None:
    assert auroc([0.5, 0.5], [0.5]) == pytest.approx(0.5)
    assert auroc([0.9], [0.1, 0.95]) == pytest.approx(0.5)
    assert auroc([0.9], []) is None
    empty = evaluate([]).as_dict()
    assert empty["n"] == 0
    assert all(value is None for key, value in empty.items() if key != "n")
