"""Fit a calibration to labelled matches and tabulate what each auto threshold would do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gtm_feedback.matching.calibration import Calibration, Opinion, fit_calibration
from gtm_feedback.matching.matcher import MatchResult

#: The precision the suggested auto threshold reaches on the fitting data: a margin over the
#: 0.97 users are promised, because precision measured on the fitting data flatters.
TARGET_PRECISION = 0.98
#: Fewer auto-attached rows than this and a precision figure means little.
MIN_AUTO_ROWS = 20


@dataclass(frozen=True)
class Observation:
    """The best candidate of one labelled row: its fused score, margin, and whether it was right."""

    score: float
    margin: float
    right: bool
    has_request: bool  # False when no existing request fits (the right outcome is "create new")
    linked: int = 0  # feedback already linked to the best candidate
    opinion: Opinion | None = None  # the second-opinion classifier's, when there was one


@dataclass(frozen=True)
class ThresholdRow:
    """What one auto threshold does on the observations."""

    threshold: float
    precision: float | None  # of rows at or above the threshold, share right
    coverage: float  # of rows with a request, share at or above
    new_recall: float | None  # of rows without a request, share below (created new)
    wrongly_new: float  # of rows with a request, share below


def observe(result: MatchResult, expected: str | None) -> Observation | None:
    """The observation for one match (``None`` when there was no candidate at all)."""
    if not result.candidates:
        return None
    first = result.candidates[0]
    return Observation(
        first.score,
        first.margin,
        first.request_id == expected,
        expected is not None,
        first.linked,
        first.opinion,
    )


def fit(
    model_id: str,
    observations: Sequence[Observation],
    prior: Calibration | None = None,
    prior_weight: float = 0.0,
) -> Calibration:
    """Logistic calibration of "the best candidate is right" on score, margin and linked; then,
    holding those, the weights of the second opinion on the rows that have one (so a candidate
    without an opinion is judged exactly as before the classifier existed)."""
    labels = (
        model_id,
        [o.score for o in observations],
        [o.margin for o in observations],
        [o.right for o in observations],
    )
    linked = [o.linked for o in observations]
    plain = fit_calibration(*labels, linked=linked, prior=prior, prior_weight=prior_weight)
    opinions = [o.opinion for o in observations]
    if not any(opinions):
        return plain
    return fit_calibration(
        *labels, linked=linked, opinions=opinions, prior=plain, prior_weight=1e-3, held=range(5)
    )


def fit_novelty(model_id: str, observations: Sequence[Observation]) -> Calibration:
    """Logistic model of "some request fits" on the same features (decides "create new")."""
    return fit_calibration(
        model_id,
        [o.score for o in observations],
        [o.margin for o in observations],
        [o.has_request for o in observations],
        linked=[o.linked for o in observations],
        opinions=[o.opinion for o in observations],
    )


def confidences(calibration: Calibration, observations: Sequence[Observation]) -> np.ndarray:
    """The calibrated confidence of each observation's best candidate."""
    return np.array(
        [calibration.confidence(o.score, o.margin, o.linked, 0.0, o.opinion) for o in observations]
    )


def threshold_table(
    calibration: Calibration, observations: Sequence[Observation], thresholds: Sequence[float]
) -> list[ThresholdRow]:
    """For each threshold: precision and coverage above it, and what falls below it."""
    confidence = confidences(calibration, observations)
    right = np.array([o.right for o in observations], dtype=bool)
    known = np.array([o.has_request for o in observations], dtype=bool)
    rows = []
    for threshold in thresholds:
        above = confidence >= threshold
        rows.append(
            ThresholdRow(
                threshold=float(threshold),
                precision=float(right[above].mean()) if above.any() else None,
                coverage=float((above & known).sum() / max(1, known.sum())),
                new_recall=float((~above & ~known).sum() / (~known).sum())
                if (~known).any()
                else None,
                wrongly_new=float((~above & known).sum() / max(1, known.sum())),
            )
        )
    return rows


def suggest_auto_threshold(
    calibration: Calibration, observations: Sequence[Observation]
) -> float | None:
    """The lowest threshold whose precision reaches ``TARGET_PRECISION`` on enough rows."""
    confidence = confidences(calibration, observations)
    right = np.array([o.right for o in observations], dtype=bool)
    for threshold in np.arange(0.5, 1.0, 0.005):
        above = confidence >= threshold
        if above.sum() >= MIN_AUTO_ROWS and right[above].mean() >= TARGET_PRECISION:
            return round(float(threshold), 3)
    return None
