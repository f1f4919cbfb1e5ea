"""Learn the auto threshold from decisions (pure: the store and the schedule live elsewhere).

Every approve / decline / undo is a label on the best candidate's features. A refit pulls the
calibration towards those labels (a MAP fit around the shipped prior, so a few labels move it
little), then sets the auto threshold at the lowest value whose *estimated* precision over recent
matches reaches an aim above the target. The estimate is model-based on purpose: decisions come
from the approval band only, so their raw precision says nothing about the rows above it.
Guard rails: too few decisions, no refit; a threshold is only lowered when the decisions held back
from the fit agree with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gtm_feedback.matching.calibration import Calibration, Opinion, fit_calibration

#: The grid the threshold is chosen on.
_GRID = np.round(np.arange(0.5, 0.9951, 0.005), 3)
#: Fewer recent matches than this above a threshold and its estimated precision means little.
MIN_ABOVE = 20
#: Positions of w_opinion, w_belief and w_lead in ``Calibration.coefficients``.
OPINION_WEIGHTS = (5, 6, 7)


@dataclass(frozen=True)
class Features:
    """The best candidate of one match: fused score, margin over the runner-up, linked count,
    an LLM's opinion when one was asked and the second-opinion classifier's when it knew the
    candidate (see ``Calibration``)."""

    score: float
    margin: float
    linked: int = 0
    llm: float = 0.0
    opinion: Opinion | None = None

    def confidence(self, calibration: Calibration) -> float:
        """What ``calibration`` makes of these features."""
        return calibration.confidence(self.score, self.margin, self.linked, self.llm, self.opinion)


@dataclass(frozen=True, kw_only=True)
class Decision(Features):
    """A person's verdict on a best candidate: ``right`` when it was the request."""

    right: bool = False


@dataclass(frozen=True)
class Policy:
    """How a refit is allowed to move the threshold."""

    target: float = 0.98  # the precision promised for automatic attaches
    min_decisions: int = 100
    held_back: float = 0.2  # the newest share of decisions, kept out of the fit to check it
    prior_weight: float = 0.02  # pull towards the prior's coefficients (MAP penalty)
    learn_opinion: bool = True  # refit the second opinion's weights too (else hold the prior's)
    held: tuple[int, ...] = ()  # further coefficients kept at the prior's (``coefficients`` order)

    @property
    def aim(self) -> float:
        """The estimated precision a threshold must reach: halfway from the target to 1.

        Aiming exactly at the target with a few hundred labels lands below it about half the
        time; aiming above it keeps most refits at or over the target.
        """
        return self.target + (1 - self.target) / 2


@dataclass(frozen=True)
class Proposal:
    """What one refit found, and whether the guard rails let it lower the threshold."""

    calibration: Calibration
    auto_threshold: float
    decisions: int  # used for the fit
    held_back: int
    estimated_precision: float | None  # over recent matches at or above the threshold
    estimated_coverage: float | None  # share of recent matches at or above it
    held_back_auto: int  # held-back decisions the new threshold would have attached
    held_back_wrong: int  # of those, how many a person said were wrong
    accepted: bool
    note: str


def refit(
    decisions: Sequence[Decision],
    population: Sequence[Features],
    prior: Calibration,
    current_threshold: float,
    policy: Policy,
    in_use: Calibration | None = None,
) -> Proposal | None:
    """Fit on the older decisions, check on the newest, pick the threshold; None if too few.
    ``in_use`` is the calibration matching uses now (default: the prior)."""
    if len(decisions) < policy.min_decisions:
        return None
    cut = len(decisions) - max(1, round(len(decisions) * policy.held_back))
    fitted, checked = decisions[:cut], decisions[cut:]
    calibration = fit_calibration(
        prior.model_id,
        [d.score for d in fitted],
        [d.margin for d in fitted],
        [d.right for d in fitted],
        linked=[d.linked for d in fitted],
        llm=[d.llm for d in fitted],
        opinions=[d.opinion for d in fitted],
        prior=prior,
        prior_weight=policy.prior_weight,
        held=policy.held + (() if policy.learn_opinion else OPINION_WEIGHTS),
    )
    rows = population or decisions  # a fresh install has no history but its decisions
    placed = choose_threshold(calibration, rows, policy.aim)
    if placed is None:
        return _unplaced(calibration, fitted, checked, current_threshold, policy)
    threshold, precision, coverage = placed
    auto, wrong, agrees = check(calibration, checked, threshold)
    lowered = threshold < current_threshold
    kept = outdone(calibration, in_use or prior, current_threshold, rows, coverage, policy.aim)
    accepted = (agrees or not lowered) and kept is None
    note = kept or _note(threshold, current_threshold, precision, policy, agrees, lowered)
    return Proposal(
        calibration=calibration,
        auto_threshold=threshold if accepted else current_threshold,
        decisions=len(fitted),
        held_back=len(checked),
        estimated_precision=precision,
        estimated_coverage=coverage,
        held_back_auto=auto,
        held_back_wrong=wrong,
        accepted=accepted,
        note=note,
    )


def _unplaced(
    calibration: Calibration,
    fitted: Sequence[Decision],
    checked: Sequence[Decision],
    current: float,
    policy: Policy,
) -> Proposal:
    # Too few recent matches are confident enough to vouch for any threshold: change nothing.
    return Proposal(
        calibration=calibration,
        auto_threshold=current,
        decisions=len(fitted),
        held_back=len(checked),
        estimated_precision=None,
        estimated_coverage=None,
        held_back_auto=0,
        held_back_wrong=0,
        accepted=False,
        note=(
            f"kept {current:.3f}: fewer than {MIN_ABOVE} recent matches reach an estimated "
            f"precision of {policy.aim:.3f} at any threshold"
        ),
    )


def choose_threshold(
    calibration: Calibration, rows: Sequence[Features], aim: float
) -> tuple[float, float, float] | None:
    """The lowest grid threshold whose mean confidence above it reaches ``aim`` over at least
    ``MIN_ABOVE`` rows: (threshold, estimated precision, estimated coverage); None if none."""
    confidence = np.array([r.confidence(calibration) for r in rows])
    for threshold in _GRID:
        above = confidence >= threshold
        if above.sum() >= MIN_ABOVE and float(confidence[above].mean()) >= aim:
            return float(threshold), float(confidence[above].mean()), float(above.mean())
    return None


def outdone(
    refitted: Calibration,
    in_use: Calibration,
    threshold: float,
    rows: Sequence[Features],
    coverage: float,
    aim: float,
) -> str | None:
    """Why to keep the calibration in use, if it attaches more of the recent matches than the
    refit would while the refit's own model estimates those attaches at the aim: switching would
    lose automation and buy no safety. None: use the refit."""
    attached = np.array([r.confidence(in_use) for r in rows]) >= threshold
    if attached.sum() < MIN_ABOVE or attached.mean() <= coverage:
        return None
    estimated = float(
        np.mean([r.confidence(refitted) for r, a in zip(rows, attached, strict=True) if a])
    )
    if estimated < aim:
        return None
    return (
        f"kept the calibration in use: it attaches {attached.mean():.2f} of recent matches "
        f"against the refit's {coverage:.2f}, at an estimated precision of {estimated:.3f} by "
        "the refit's own model"
    )


def check(
    calibration: Calibration, held_back: Sequence[Decision], threshold: float
) -> tuple[int, int, bool]:
    """How the held-back decisions fare at ``threshold``: (attached, wrong, agrees).

    They disagree when more of the rows the threshold would attach were wrong than the fit
    expects, by over two standard deviations (plus one, so a single surprise is not enough).
    """
    scored = [(d, d.confidence(calibration)) for d in held_back]
    above = [(d, p) for d, p in scored if p >= threshold]
    wrong = sum(1 for d, _ in above if not d.right)
    expected = sum(1 - p for _, p in above)
    spread = math.sqrt(sum(p * (1 - p) for _, p in above))
    return len(above), wrong, wrong <= expected + 2 * spread + 1


def _note(
    threshold: float,
    current: float,
    precision: float | None,
    policy: Policy,
    agrees: bool,
    lowered: bool,
) -> str:
    estimate = f"{precision:.3f}" if precision is not None else "n/a"
    if lowered and not agrees:
        return (
            f"kept {current:.3f}: the held-back decisions disagree with the fit "
            f"(it proposed {threshold:.3f})"
        )
    return f"threshold {threshold:.3f}: estimated precision {estimate} (aim {policy.aim:.3f})"
