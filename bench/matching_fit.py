"""Fit the confidence calibration and pick the auto threshold on Banking77's *train* split.

Procedure (docs/matching.md): for both protocols and 3 seeds, requests come from training
utterances, queries are 3,000 other training utterances, 20 % of intents have no request.
The best candidate of each query gives (score, margin, right or wrong); a logistic model is
fitted on all of them (the same code as ``gtm-feedback eval-matching --fit``). Auto threshold:
the lowest confidence at which the train precision of auto-attached rows reaches
``PER_PROTOCOL_PRECISION`` in *each* protocol, rounded up to a hundredth.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from bench.matching_data import Banking77, CachedEmbedder, build_protocol
from gtm_feedback.cli.evaluation import match_all
from gtm_feedback.matching import tuning
from gtm_feedback.matching.calibration import Calibration
from gtm_feedback.matching.matcher import MatchConfig

PER_PROTOCOL_PRECISION = 0.985
PROTOCOLS = ("one", "five")


def observe(
    data: Banking77, embedder: CachedEmbedder, config: Callable[[], MatchConfig]
) -> dict[str, list[tuning.Observation]]:
    """Best-candidate observations per protocol on the train split (3 seeds each)."""
    observed: dict[str, list[tuning.Observation]] = {protocol: [] for protocol in PROTOCOLS}
    for protocol in PROTOCOLS:
        for seed in range(100, 103):
            built = build_protocol(data, protocol, seed, held_out=0.2, split="train")
            results = match_all(built.eval_data, embedder, config())
            for result, (_, expected) in zip(results, built.eval_data.feedback, strict=True):
                seen = tuning.observe(result, expected)
                if seen is not None:
                    observed[protocol].append(seen)
    return observed


def fit(data: Banking77, embedder: CachedEmbedder, config: Callable[[], MatchConfig]) -> None:
    """Print the fitted coefficients, threshold tables and the chosen auto threshold."""
    observed = observe(data, embedder, config)
    pooled = [o for rows in observed.values() for o in rows]
    calibration = tuning.fit(embedder.model_id, pooled)
    print(f"\nfitted on {len(pooled)} train rows: {calibration}")
    thresholds = [0.2 + 0.05 * i for i in range(16)] + [0.96, 0.97, 0.98, 0.985, 0.99]
    for name, rows in (("pooled", pooled), *observed.items()):
        print(f"\n{name}: threshold  precision>=  coverage>=  new_recall<  known_rows<")
        for row in tuning.threshold_table(calibration, rows, thresholds):
            values = (row.threshold, row.precision, row.coverage, row.new_recall, row.wrongly_new)
            print("  ".join(f"{v:10.3f}" if v is not None else f"{'-':>10}" for v in values))
    pooled_rule = tuning.suggest_auto_threshold(calibration, pooled)
    print(f"\npooled rule (as eval-matching --fit): {pooled_rule}")
    print(
        f"auto threshold, train precision >= {PER_PROTOCOL_PRECISION} in each protocol: "
        f"{per_protocol_threshold(calibration, observed)}"
    )


def per_protocol_threshold(
    calibration: Calibration, observed: dict[str, list[tuning.Observation]]
) -> float | None:
    """Lowest threshold (step 0.0025) reaching the precision in every protocol, rounded up."""
    for step in range(200, 400):
        threshold = step / 400
        table = [
            tuning.threshold_table(calibration, rows, [threshold])[0] for rows in observed.values()
        ]
        if all((row.precision or 0.0) >= PER_PROTOCOL_PRECISION for row in table):
            return math.ceil(threshold * 100) / 100
    return None
