"""Fit the confidence calibration and pick the auto threshold on Banking77's *train* split.

Procedure (docs/matching.md): for both protocols and 3 seeds, requests come from training
utterances, queries are 3,000 other training utterances, 20 % of intents have no request.
The best candidate of each query gives (score, margin, right or wrong); a logistic model is
fitted on those (the same code as ``gtm-feedback eval-matching --fit``). Auto threshold: the
lowest confidence at which the train precision of auto-attached rows is at least 0.98.
"""

from __future__ import annotations

from collections.abc import Callable

from bench.matching_data import Banking77, CachedEmbedder, build_protocol
from gtm_feedback.feature_request.evaluation import match_all
from gtm_feedback.matching import tuning
from gtm_feedback.matching.matcher import MatchConfig


def fit(data: Banking77, embedder: CachedEmbedder, config: Callable[[], MatchConfig]) -> None:
    """Print the fitted coefficients, a threshold table and the suggested auto threshold."""
    observed: list[tuning.Observation] = []
    for protocol in ("one", "five"):
        for seed in range(100, 103):
            built = build_protocol(data, protocol, seed, held_out=0.2, split="train")
            results = match_all(built.eval_data, embedder, config())
            for result, (_, expected) in zip(results, built.eval_data.feedback, strict=True):
                seen = tuning.observe(result, expected)
                if seen is not None:
                    observed.append(seen)
    calibration = tuning.fit(embedder.model_id, observed)
    print(f"\nfitted on {len(observed)} train rows: {calibration}")
    print("threshold  precision>=  coverage>=  new_recall<  known_rows<")
    thresholds = [0.2 + 0.05 * i for i in range(16)]
    for row in tuning.threshold_table(calibration, observed, thresholds):
        values = (row.threshold, row.precision, row.coverage, row.new_recall, row.wrongly_new)
        print("  ".join(f"{v:10.3f}" if v is not None else f"{'-':>10}" for v in values))
    suggested = tuning.suggest_auto_threshold(calibration, observed)
    print(f"auto threshold for train precision >= {tuning.TARGET_PRECISION}: {suggested}")
