"""Fitting a calibration to labelled matches and the threshold table it produces."""

from __future__ import annotations

import numpy as np
import pytest

from gtm_feedback.config import Settings
from gtm_feedback.feature_request.search import offline_config
from gtm_feedback.matching import tuning
from gtm_feedback.matching.calibration import Calibration, calibration_for
from gtm_feedback.matching.matcher import Candidate, MatchResult
from gtm_feedback.matching.tiers import Tier


def candidate(request_id: str, score: float, margin: float, linked: int = 0) -> Candidate:
    return Candidate(request_id, request_id, 0.5, score, score, None, "", margin, linked)


def test_observe_takes_the_best_candidate_and_its_margin() -> None:
    result = MatchResult(Tier.APPROVAL, [candidate("a", 0.8, 0.1, 3), candidate("b", 0.7, -0.1)])
    seen = tuning.observe(result, "a")
    assert seen is not None
    assert (seen.score, seen.right, seen.has_request, seen.linked) == (0.8, True, True, 3)
    assert seen.margin == pytest.approx(0.1)
    unknown = tuning.observe(result, None)
    assert unknown is not None
    assert (unknown.score, unknown.right, unknown.has_request) == (0.8, False, False)
    assert unknown.margin == pytest.approx(0.1)
    assert tuning.observe(MatchResult(Tier.CREATE, []), "a") is None


def synthetic() -> list[tuning.Observation]:
    rng = np.random.default_rng(5)
    rows = []
    for _ in range(4000):
        score = float(rng.uniform(0.2, 1.0))
        right = bool(rng.uniform() < score**4)
        rows.append(tuning.Observation(score, 0.1, right, right or rng.uniform() < 0.5))
    return rows


def test_table_precision_rises_with_the_threshold_and_a_threshold_is_suggested() -> None:
    observed = synthetic()
    calibration = tuning.fit("m", observed)
    assert calibration.w_score > 0
    table = tuning.threshold_table(calibration, observed, [0.2, 0.4, 0.6])
    precisions = [row.precision or 0.0 for row in table]
    assert all(row.precision is not None for row in table)
    assert precisions == sorted(precisions)
    assert [row.coverage for row in table] == sorted((r.coverage for r in table), reverse=True)
    assert all(r.wrongly_new == pytest.approx(1 - r.coverage) for r in table)
    suggested = tuning.suggest_auto_threshold(calibration, observed)
    assert suggested is None or suggested >= 0.5


def test_no_threshold_is_suggested_when_nothing_is_precise_enough() -> None:
    coin = [tuning.Observation(0.5 + i / 1000, 0.1, i % 2 == 0, True) for i in range(200)]
    assert tuning.suggest_auto_threshold(Calibration("m", 0, 1, 0), coin) is None


def test_settings_override_the_shipped_calibration(monkeypatch: pytest.MonkeyPatch) -> None:
    model = "all-MiniLM-L6-v2-onnx-int8"
    assert offline_config(Settings(), model).calibration == calibration_for(model)
    monkeypatch.setenv("GTMFB_MATCH_CALIBRATION", "-7.1, 15.9, 12.1")
    assert offline_config(Settings(), model).calibration == Calibration(model, -7.1, 15.9, 12.1)
    monkeypatch.setenv("GTMFB_MATCH_CALIBRATION", "-5,7,13,0.1,0,-1,0.5,0.25")
    eight = offline_config(Settings(), model).calibration
    assert (eight.w_opinion, eight.w_belief, eight.w_lead) == (-1, 0.5, 0.25)
    for wrong in ("1,2", "1,2,3,4,5,6,7,8,9"):
        monkeypatch.setenv("GTMFB_MATCH_CALIBRATION", wrong)
        with pytest.raises(ValueError, match="three to eight numbers"):
            Settings()
    monkeypatch.setenv("GTMFB_MATCH_CALIBRATION", "1,x,3")
    with pytest.raises(ValueError, match="could not convert"):
        Settings()
