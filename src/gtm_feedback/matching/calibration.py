"""Turn raw similarity into a confidence: the estimated probability the candidate is right."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Calibration:
    """Logistic model ``p = sigmoid(bias + w_score * score + w_margin * margin)``.

    ``margin`` is how far the candidate's score is above the best other candidate (negative for
    every candidate but the first), so a lone close match is trusted more than a close match
    with a near tie. Fitted per embedding model: raw cosines of different models are on
    different scales.
    """

    model_id: str
    bias: float
    w_score: float
    w_margin: float

    def confidence(self, score: float, margin: float) -> float:
        """Probability in 0..1 that this candidate is the right request."""
        z = self.bias + self.w_score * score + self.w_margin * margin
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


#: Fitted by ``python -m bench.matching --fit`` on Banking77's train split (5 linked exemplars
#: and 1-exemplar requests, 20 % of labels held out as "no request fits"); see docs/matching.md.
DEFAULT_CALIBRATIONS = {
    "all-MiniLM-L6-v2-onnx-int8": Calibration(
        "all-MiniLM-L6-v2-onnx-int8", -5.0423, 7.2517, 12.4559
    ),
}


def calibration_for(model_id: str) -> Calibration:
    """The fitted calibration of ``model_id``, or a neutral one centred on cosine 0.75."""
    known = DEFAULT_CALIBRATIONS.get(model_id)
    if known is not None:
        return known
    # Unknown models (e.g. an OpenAI endpoint): a gentle curve; tune with `eval-matching`.
    return Calibration(model_id, bias=-7.5, w_score=10.0, w_margin=10.0)


def fit_calibration(
    model_id: str, scores: Sequence[float], margins: Sequence[float], correct: Sequence[bool]
) -> Calibration:
    """Fit the logistic model by Newton's method with a light L2 penalty (no SciPy)."""
    x = np.column_stack([np.ones(len(scores)), scores, margins]).astype(np.float64)
    y = np.asarray(correct, dtype=np.float64)
    w = np.zeros(3)
    ridge = 1e-3 * np.eye(3)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -60, 60)))
        gradient = x.T @ (p - y) + ridge @ w
        hessian = (x * (p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Calibration(model_id, float(w[0]), float(w[1]), float(w[2]))


def margins(scores: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Each score minus the best *other* score in the same list (sorted or not)."""
    values = np.asarray(scores, dtype=np.float64)
    if values.size < 2:
        return values.copy()  # a lone candidate: its margin over "nothing" is its score
    order = np.argsort(-values)
    best, second = values[order[0]], values[order[1]]
    out: npt.NDArray[np.float64] = values - best
    out[order[0]] = best - second
    return out
