"""Fit the confidence calibration and pick tier thresholds on Banking77's *train* split.

Procedure (docs/matching.md): for both protocols and 3 seeds, requests come from training
utterances, queries are 3,000 other training utterances, 20 % of intents have no request.
The best candidate of each query gives (score, margin, right or wrong); a logistic model is
fitted on those. Thresholds: auto = the lowest confidence at which the train precision of
auto-attached rows is at least 0.98 (a margin over the 0.97 contract); approval = 0.5, where
the best candidate becomes more likely right than wrong.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.matching_data import Banking77, CachedEmbedder, build_protocol
from gtm_feedback.feature_request.evaluation import match_all
from gtm_feedback.matching.calibration import fit_calibration
from gtm_feedback.matching.matcher import MatchConfig

AUTO_PRECISION = 0.98


def fit(data: Banking77, embedder: CachedEmbedder, config: Callable[[], MatchConfig]) -> None:
    """Print the fitted coefficients and a threshold table."""
    scores, margins, correct, has_answer = [], [], [], []
    for protocol in ("one", "five"):
        for seed in range(100, 103):
            built = build_protocol(data, protocol, seed, held_out=0.2, split="train")
            for result, (_, expected) in zip(
                match_all(built.eval_data, embedder, config()),
                built.eval_data.feedback,
                strict=True,
            ):
                first = result.candidates[0]
                second = result.candidates[1].score if len(result.candidates) > 1 else 0.0
                scores.append(first.score)
                margins.append(first.score - second)
                correct.append(first.request_id == expected)
                has_answer.append(expected is not None)
    calibration = fit_calibration(embedder.model_id, scores, margins, correct)
    print(f"\nfitted: {calibration}")
    confidence = np.array(
        [calibration.confidence(s, m) for s, m in zip(scores, margins, strict=True)]
    )
    right = np.array(correct)
    answered = np.array(has_answer)
    print("threshold  precision   coverage  new_recall wrongly_new  (rows at or above / below)")
    for t in np.arange(0.2, 1.0, 0.05):
        auto = confidence >= t
        precision = right[auto].mean() if auto.any() else float("nan")
        coverage = (auto & answered).sum() / answered.sum()
        created = confidence < t
        new_recall = (created & ~answered).sum() / (~answered).sum()
        wrongly_new = (created & answered).sum() / answered.sum()
        row = (t, precision, coverage, new_recall, wrongly_new)
        print("  ".join(f"{value:9.3f}" for value in row))
    eligible = [
        t for t in np.arange(0.2, 1.0, 0.005) if right[confidence >= t].mean() >= AUTO_PRECISION
    ]
    print(f"auto threshold for train precision >= {AUTO_PRECISION}: {min(eligible):.3f}")
