"""Matching that learns, on Banking77: the shipped defaults, then after 200 and 500 decisions.

Per protocol (five or twenty training utterances linked to each request) and seed: 20 % of the
intents have no request; the *history* is 3,000 other training utterances matched with the
shipped defaults; decisions are drawn at random from the history rows the defaults send to a
person (the approval band), labelled by their intent; the refit is the product's own
(``learn.refit``, population = the history). Every figure is measured on the *test* split,
which nothing is fitted on. Each stage twice, side by side: with the second-opinion classifier
(trained on each protocol's requests and linked items, as the nightly job does) and without it
(the same matches with its opinions removed: ranking does not depend on them).

    python -m bench.matching_learn [--seeds 5] [--protocols five twenty] [--decisions 200 500]
    python -m bench.matching_learn --tune   # how the refit policy's prior weight was chosen
    python -m bench.matching_learn --placement   # refitting fewer coefficients, aiming lower

``--tune`` never touches the test split: per train-split seed of ``bench.matching_fit``, half the
queries are the history (decisions drawn from its approval band) and the other half measure.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from bench import matching_fit
from bench.matching import DATA, default_config
from bench.matching_data import Banking77, CachedEmbedder, Protocol, build_protocol
from gtm_feedback.cli.evaluation import match_all, outcome_of
from gtm_feedback.integrations.embeddings.onnx import OnnxEmbedder
from gtm_feedback.matching import learn, tuning
from gtm_feedback.matching.calibration import Calibration, Opinion
from gtm_feedback.matching.evaluate import Report, evaluate
from gtm_feedback.matching.matcher import Candidate, MatchConfig, MatchResult, recalibrate
from gtm_feedback.matching.tiers import Thresholds, Tier

FIGURES = ("auto_precision", "auto_coverage", "approval_share", "new_precision", "new_recall")


def learnt_config(
    config: MatchConfig,
    band: Sequence[tuple[MatchResult, str | None]],
    population: Sequence[learn.Features],
    n: int,
    rng: np.random.Generator,
) -> tuple[MatchConfig, learn.Proposal | None]:
    """The config after refitting on ``n`` decisions drawn from the approval band."""
    picked = [band[i] for i in rng.permutation(len(band))[:n]]
    decisions = [
        learn.Decision(*_features(r.best), right=r.best.request_id == e)
        for r, e in picked
        if r.best is not None
    ]
    proposal = learn.refit(
        decisions, population, config.calibration, config.thresholds.auto, learn.Policy()
    )
    if proposal is None or not proposal.accepted:  # as the server: a kept refit is not used
        return config, proposal
    approval = config.thresholds.approval
    thresholds = Thresholds(max(proposal.auto_threshold, approval), approval)
    return replace(config, calibration=proposal.calibration, thresholds=thresholds), proposal


def _features(best: Candidate) -> tuple[float, float, int, float, Opinion | None]:
    return (best.score, best.margin, best.linked, 0.0, best.opinion)


def _silenced(results: Sequence[MatchResult], config: MatchConfig) -> list[MatchResult]:
    """The matches as made with no classifier: opinions removed, decided again."""
    return [
        recalibrate(replace(r, candidates=[replace(c, opinion=None) for c in r.candidates]), config)
        for r in results
    ]


def one_seed(
    data: Banking77, embedder: CachedEmbedder, protocol: str, seed: int, sizes: Sequence[int]
) -> dict[str, tuple[Report, str]]:
    """Reports on the test split: defaults, then after each number of decisions, with and
    without the second opinion."""
    config = default_config()
    history = build_protocol(data, protocol, seed, held_out=0.2, split="train")
    test = build_protocol(data, protocol, seed, held_out=0.2, split="test")
    past = match_all(history.eval_data, embedder, config)
    results = match_all(test.eval_data, embedder, config)
    out = {}
    for variant, (seen, tested) in {
        "": (past, results),
        "no 2nd ": (_silenced(past, config), _silenced(results, config)),
    }.items():
        for stage, figures in _stages(config, history, test, seen, tested, sizes, seed).items():
            out[variant + stage] = figures
    return out


def _stages(
    config: MatchConfig,
    history: Protocol,
    test: Protocol,
    past: Sequence[MatchResult],
    results: Sequence[MatchResult],
    sizes: Sequence[int],
    seed: int,
) -> dict[str, tuple[Report, str]]:
    expected = [e for _, e in test.eval_data.feedback]

    def report(chosen: MatchConfig) -> Report:
        rescored = [recalibrate(r, chosen) for r in results]
        return evaluate([outcome_of(r, e) for r, e in zip(rescored, expected, strict=True)])

    band = [
        (r, e)
        for r, (_, e) in zip(past, history.eval_data.feedback, strict=True)
        if r.tier is Tier.APPROVAL
    ]
    population = [learn.Features(*_features(r.best)) for r in past if r.best]
    out = {"defaults": (report(config), f"band {len(band)} of {len(past)}")}
    rng = np.random.default_rng(seed)
    for n in sizes:
        chosen, proposal = learnt_config(config, band, population, n, rng)
        note = "no refit" if proposal is None else f"t={chosen.thresholds.auto:.3f}"
        note += "" if proposal is None or proposal.accepted else " kept"
        out[f"after {n}"] = (report(chosen), note)
    return out


def summarise(rows: list[dict[str, tuple[Report, str]]]) -> None:
    """Mean (min–max) of each figure per stage over the seeds."""
    for stage in rows[0]:
        reports = [row[stage][0] for row in rows]
        cells = []
        for name in (*FIGURES, "auroc_new"):
            values = [getattr(r, name) for r in reports if getattr(r, name) is not None]
            if values:
                cells.append(
                    f"{name} {statistics.mean(values):.3f} ({min(values):.3f}–{max(values):.3f})"
                )
        notes = ", ".join(row[stage][1] for row in rows)
        print(f"  {stage:10s} " + " | ".join(cells) + f"   [{notes}]")


def tune(data: Banking77, embedder: CachedEmbedder) -> None:
    """Refit policies simulated on the train split: precision and coverage per prior weight."""
    observed = matching_fit.observe(data, embedder, default_config)
    prior = default_config().calibration
    for protocol in ("five", "twenty"):
        for weight, opinion in ((0.5, True), (0.1, True), (0.02, True), (0.02, False)):
            policy = learn.Policy(prior_weight=weight, learn_opinion=opinion)
            for n in (200, 500):
                figures = [
                    _simulate(observed[protocol, seed], prior, policy, n, seed)
                    for seed in (*matching_fit.FIT_SEEDS, *matching_fit.CHECK_SEEDS)
                ]
                precision = [f[0] for f in figures]
                held = "" if opinion else ", opinion held"
                print(
                    f"{protocol:6s} prior weight {weight:<4}{held} after {n}: precision "
                    f"{statistics.mean(precision):.3f} (min {min(precision):.3f}), coverage "
                    f"{statistics.mean(f[1] for f in figures):.3f}",
                    flush=True,
                )


#: Refit variants: coefficients held at the prior's (``Calibration.coefficients`` order).
VARIANTS = {
    "all": (),
    "bias": (1, 2, 3, 4, 5, 6, 7),
    "bias+score": (2, 3, 4, 5, 6, 7),
    "bias+opinion": (1, 2, 3, 4),
}


def placement(data: Banking77, embedder: CachedEmbedder) -> None:
    """Refit variants on the train split: which coefficients a refit may move, and the aim
    (the target 0.98 aims at 0.99; a target of 0.97 aims at 0.985)."""
    observed = matching_fit.observe(data, embedder, default_config)
    prior = default_config().calibration
    seeds = (*matching_fit.FIT_SEEDS, *matching_fit.CHECK_SEEDS)
    for protocol in ("five", "twenty"):
        for (name, held), target, n in itertools.product(
            VARIANTS.items(), (0.98, 0.97), (200, 500)
        ):
            policy = learn.Policy(target=target, held=held)
            figures = [_simulate(observed[protocol, s], prior, policy, n, s) for s in seeds]
            precision, coverage = [f[0] for f in figures], [f[1] for f in figures]
            print(
                f"{protocol:6s} {name:12s} aim {policy.aim:.3f} after {n}: precision "
                f"{statistics.mean(precision):.3f} (min {min(precision):.3f}), coverage "
                f"{statistics.mean(coverage):.3f} (min {min(coverage):.3f})",
                flush=True,
            )


def _simulate(
    rows: list[tuning.Observation], prior: Calibration, policy: learn.Policy, n: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    history, measured = [rows[i] for i in order[:1500]], [rows[i] for i in order[1500:]]
    confidence = tuning.confidences(prior, history)
    band = [o for o, c in zip(history, confidence, strict=True) if 0.3 <= c < 0.98]
    picked = [band[i] for i in rng.permutation(len(band))[:n]]
    decisions = [
        learn.Decision(o.score, o.margin, o.linked, 0.0, o.opinion, right=o.right) for o in picked
    ]
    population = [learn.Features(o.score, o.margin, o.linked, 0.0, o.opinion) for o in history]
    proposal = learn.refit(decisions, population, prior, 0.98, policy)
    assert proposal is not None
    used = proposal.calibration if proposal.accepted else prior
    above = tuning.confidences(used, measured) >= proposal.auto_threshold
    right = np.array([o.right for o in measured])
    known = np.array([o.has_request for o in measured])
    return float(right[above].mean()), float((above & known).sum() / known.sum())


def main(argv: Sequence[str] | None = None) -> None:
    """Print the figures of every protocol."""
    parser = argparse.ArgumentParser(prog="python -m bench.matching_learn")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--protocols", nargs="+", default=["five", "twenty"])
    parser.add_argument("--decisions", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--tune", action="store_true", help="simulate policies on train")
    parser.add_argument("--placement", action="store_true", help="refit variants on train")
    args = parser.parse_args(argv)
    data = Banking77.load(DATA)
    if args.tune or args.placement:
        embedder = CachedEmbedder.warm(OnnxEmbedder(), data.all_texts())
        (tune if args.tune else placement)(data, embedder)
        return
    print(
        f"# matching that learns — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores; test split, {args.seeds} seeds; mean (min–max)"
    )
    embedder = CachedEmbedder.warm(OnnxEmbedder(), data.all_texts())
    for protocol in args.protocols:
        print(f"\n## {protocol} linked per request", flush=True)
        rows = [one_seed(data, embedder, protocol, s, args.decisions) for s in range(args.seeds)]
        summarise(rows)


if __name__ == "__main__":
    main()
