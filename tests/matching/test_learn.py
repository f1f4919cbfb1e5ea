"""Refits from decisions: the threshold meets the aim, the guard rails hold, the prior anchors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gtm_feedback.matching.calibration import Calibration, Opinion, fit_calibration
from gtm_feedback.matching.learn import (
    Decision,
    Features,
    Policy,
    check,
    choose_threshold,
    outdone,
    refit,
)
from gtm_feedback.matching.tiers import Thresholds, Tier

TRUTH = Calibration("m", -9.0, 12.0, 10.0, 0.6)  # how likely a best candidate really is right
PRIOR = Calibration("m", -5.0, 7.0, 12.0, 0.0)  # a shipped calibration, more timid than truth


def _draw(n: int, seed: int) -> list[Decision]:
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        features = Features(
            float(rng.uniform(0.4, 0.95)), float(rng.uniform(0, 0.25)), int(rng.integers(0, 20))
        )
        p = TRUTH.confidence(features.score, features.margin, features.linked)
        rows.append(
            Decision(features.score, features.margin, features.linked, right=rng.uniform() < p)
        )
    return rows


def _true_precision(threshold: float, calibration: Calibration, rows: list[Decision]) -> float:
    above = [r for r in rows if calibration.confidence(r.score, r.margin, r.linked) >= threshold]
    return float(np.mean([TRUTH.confidence(r.score, r.margin, r.linked) for r in above]))


def test_too_few_decisions_make_no_refit() -> None:
    assert refit(_draw(99, 1), [], PRIOR, 0.99, Policy(min_decisions=100)) is None


def test_a_refit_meets_the_target_on_the_population_it_will_decide() -> None:
    population = _draw(5000, 2)
    for seed in range(3):
        found = refit(_draw(600, 10 + seed), population, PRIOR, 0.99, Policy(prior_weight=0.05))
        assert found is not None
        assert found.accepted
        assert found.estimated_precision is not None
        assert found.estimated_precision >= 0.99
        assert _true_precision(found.auto_threshold, found.calibration, population) >= 0.98
        best = choose_threshold(TRUTH, population, Policy().aim)  # knowing the truth
        assert found.estimated_coverage is not None
        assert best is not None
        assert found.estimated_coverage > 0.5 * best[2]
        assert found.calibration.w_linked > 0.2  # more linked feedback, more trust
        assert (found.decisions, found.held_back) == (480, 120)


def test_held_back_decisions_that_disagree_keep_the_threshold() -> None:
    decisions = _draw(400, 3)
    # The newest decisions say every confident candidate was wrong: the world changed.
    wrong = [Decision(0.95, 0.3, 19, right=False) for _ in range(60)]
    found = refit(decisions + wrong, _draw(3000, 4), PRIOR, 0.995, Policy(held_back=0.15))
    assert found is not None
    assert not found.accepted
    assert found.auto_threshold == 0.995
    assert found.held_back_wrong >= 50
    assert "disagree" in found.note


def test_a_threshold_no_recent_match_vouches_for_changes_nothing() -> None:
    few = [Decision(0.5, 0.01, 0, right=i % 2 == 0) for i in range(120)]  # unsure, half wrong
    found = refit(few, few, PRIOR, 0.98, Policy())
    assert found is not None
    assert not found.accepted
    assert found.auto_threshold == 0.98
    assert found.estimated_precision is None
    assert "fewer than 20 recent matches" in found.note


def test_raising_the_threshold_needs_no_agreement() -> None:
    found = refit(_draw(300, 5), _draw(3000, 6), PRIOR, 0.5, Policy())
    assert found is not None
    assert found.auto_threshold > 0.5
    assert found.accepted


def test_agreement_is_judged_against_what_the_fit_expects() -> None:
    sure = Calibration("m", 10.0, 0.0, 0.0)  # p ~ 1 for every row
    right = [Decision(0.9, 0.1, 0, right=True)] * 30
    assert check(sure, right, 0.9) == (30, 0, True)
    assert check(sure, right[:28] + [Decision(0.9, 0.1, 0, right=False)] * 2, 0.9)[2] is False
    assert check(sure, right, 1.1)[:2] == (0, 0)


def test_few_labels_stay_near_the_prior_and_many_move_away() -> None:
    def fitted(n: int) -> Calibration:
        rows = _draw(n, 7)
        return fit_calibration(
            "m",
            [r.score for r in rows],
            [r.margin for r in rows],
            [r.right for r in rows],
            linked=[r.linked for r in rows],
            prior=PRIOR,
            prior_weight=5.0,
        )

    def distance(c: Calibration, to: Calibration) -> float:
        return math.dist(c.coefficients, to.coefficients)

    few, many = fitted(10), fitted(4000)
    assert distance(few, PRIOR) < distance(many, PRIOR)
    assert distance(many, TRUTH) < distance(few, TRUTH)


def test_the_novelty_score_decides_between_asking_and_creating() -> None:
    thresholds = Thresholds(auto=0.9, approval=0.3)
    assert thresholds.decide(0.95, exists=0.1) is Tier.AUTO  # confident: attach regardless
    assert thresholds.decide(0.5, exists=0.2) is Tier.CREATE
    assert thresholds.decide(0.2, exists=0.8) is Tier.APPROVAL  # weak best, but something fits
    assert thresholds.decide(0.2) is Tier.CREATE  # no novelty model: the confidence decides
    assert thresholds.decide(None, exists=0.9) is Tier.CREATE


def test_an_llm_opinion_gets_the_weight_decisions_give_it() -> None:
    rng = np.random.default_rng(7)
    rows = []
    for _ in range(400):
        features = Features(float(rng.uniform(0.5, 0.9)), float(rng.uniform(0, 0.1)))
        right = bool(rng.uniform() < PRIOR.confidence(features.score, features.margin))
        # A model that is right about four times in five, and says how sure it is.
        sure = float(rng.uniform(0.6, 1.0))
        agrees = right if rng.uniform() < 0.8 else not right
        opinion = sure if agrees else -sure
        rows.append(Decision(features.score, features.margin, llm=opinion, right=right))
    found = refit(rows, rows, PRIOR, 0.99, Policy(prior_weight=0.05))
    assert found is not None
    assert found.calibration.w_llm > 1.0  # agreement raises the confidence, dissent lowers it
    agreeing, dissenting = (
        Features(0.7, 0.05, llm=0.9).confidence(found.calibration),
        Features(0.7, 0.05, llm=-0.9).confidence(found.calibration),
    )
    assert agreeing > Features(0.7, 0.05).confidence(found.calibration) > dissenting
    # Decisions made with no LLM configured say nothing about it: its weight stays the prior's.
    silent = [Decision(r.score, r.margin, right=r.right) for r in rows]
    kept = refit(silent, silent, PRIOR, 0.99, Policy(prior_weight=0.05))
    assert kept is not None
    assert kept.calibration.w_llm == PRIOR.w_llm == 0.0


def test_the_classifiers_opinion_gets_the_weights_decisions_give_it() -> None:
    rng = np.random.default_rng(8)
    rows = []
    for n in range(600):
        features = Features(float(rng.uniform(0.5, 0.9)), float(rng.uniform(0, 0.1)))
        right = bool(rng.uniform() < PRIOR.confidence(features.score, features.margin))
        # The classifier leads on right candidates more often than on wrong ones; a third of
        # the candidates are requests it has not been trained on (no opinion).
        lead = float(rng.normal(2.0 if right else -1.0, 1.5))
        opinion = Opinion.clipped(lead / 2, lead) if n % 3 else None
        rows.append(Decision(features.score, features.margin, opinion=opinion, right=right))
    found = refit(rows, rows, PRIOR, 0.99, Policy(prior_weight=0.05))
    assert found is not None
    fitted = found.calibration
    assert fitted.w_lead + fitted.w_belief / 2 > 0.5  # a lead raises the confidence
    ahead = Features(0.7, 0.05, opinion=Opinion(1.0, 2.0)).confidence(fitted)
    behind = Features(0.7, 0.05, opinion=Opinion(-1.0, -2.0)).confidence(fitted)
    assert ahead > Features(0.7, 0.05).confidence(fitted) > behind
    # Decisions made before any training say nothing about it: its weights stay the prior's.
    silent = [Decision(r.score, r.margin, right=r.right) for r in rows]
    kept = refit(silent, silent, PRIOR, 0.99, Policy(prior_weight=0.05))
    assert kept is not None
    assert kept.calibration.coefficients[5:] == PRIOR.coefficients[5:] == (0.0, 0.0, 0.0)


def test_an_opinion_shifts_the_logit_by_its_weights() -> None:
    calibration = Calibration("m", -5.0, 7.0, 12.0, 0.1, 0.0, -1.5, 0.5, 0.25)
    base = calibration.logit(0.8, 0.05, 4)
    assert calibration.logit(0.8, 0.05, 4, 0.0, Opinion(1.0, 2.0)) == pytest.approx(
        base - 1.5 + 0.5 * 1.0 + 0.25 * 2.0
    )
    assert calibration.logit(0.8, 0.05, 4, 0.0, None) == base


def test_a_refit_that_would_attach_less_with_nothing_to_fix_keeps_the_one_in_use() -> None:
    rng = np.random.default_rng(11)
    rows = [Features(float(rng.uniform(0.9, 1.0)), 0.5) for _ in range(200)]
    in_use = Calibration("m", -9.0, 12.0, 10.0)  # ≥ 0.999 on every row: all attached at 0.99
    slightly_less_sure = Calibration("m", -10.0, 12.0, 10.0)
    note = outdone(slightly_less_sure, in_use, 0.99, rows, coverage=0.5, aim=0.99)
    assert note is not None
    assert "attaches 1.00 of recent matches against the refit's 0.50" in note
    # The refit covers as much: use it. The refit doubts those attaches: use it (safety first).
    assert outdone(slightly_less_sure, in_use, 0.99, rows, coverage=1.0, aim=0.99) is None
    doubtful = Calibration("m", -16.0, 12.0, 10.0)
    assert outdone(doubtful, in_use, 0.99, rows, coverage=0.5, aim=0.99) is None
    # Fewer than MIN_ABOVE attached rows say nothing.
    assert outdone(slightly_less_sure, in_use, 0.99, rows[:10], coverage=0.5, aim=0.99) is None


def test_the_refit_reports_a_kept_calibration_and_keeps_the_threshold() -> None:
    # The refit (held at the prior, which ignores linked feedback) attaches only the 100 surest
    # rows; the calibration in use also trusts 30 well-linked rows that the refit itself
    # estimates at 0.978 each: 130 rows at 0.993 by the refit's own model.
    sure = [Features(0.99, 0.3) for _ in range(100)]
    linked = [Features(0.9, 0.2, 5) for _ in range(30)]
    plain = [Features(0.9, 0.2) for _ in range(270)]
    rows = sure + linked + plain
    prior = Calibration("m", -9.0, 12.0, 10.0)
    in_use = Calibration("m", -9.0, 12.0, 10.0, 2.0)
    decisions = [Decision(r.score, r.margin, r.linked, right=True) for r in rows]
    found = refit(decisions, rows, prior, 0.99, Policy(prior_weight=1e6), in_use=in_use)
    assert found is not None
    assert not found.accepted
    assert found.auto_threshold == 0.99
    assert found.estimated_coverage == 0.25
    assert found.note.startswith("kept the calibration in use: it attaches 0.33")


def test_a_policy_may_hold_coefficients_at_the_prior() -> None:
    rows = _draw(2000, 11)
    proposal = refit(rows, rows, PRIOR, 0.98, Policy(held=(1, 2, 3, 4, 5, 6, 7)))
    assert proposal is not None
    moved = proposal.calibration.coefficients
    assert moved[1:] == pytest.approx(PRIOR.coefficients[1:], abs=1e-6)  # only the bias learnt
    assert abs(moved[0] - PRIOR.coefficients[0]) > 1e-3  # the bias is free
    free = refit(rows, rows, PRIOR, 0.98, Policy())
    assert free is not None
    assert free.calibration.coefficients[1:4] != pytest.approx(PRIOR.coefficients[1:4], abs=0.1)
