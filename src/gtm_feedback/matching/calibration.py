"""Turn raw similarity into a confidence: the estimated probability the candidate is right."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Opinion:
    """What the second-opinion classifier (``matching/second.py``) thinks of one candidate.

    ``belief`` is its log-probability among the candidates it knows plus the log of their
    number (0: no preference over a uniform guess); ``lead`` is that log-probability minus the
    best other candidate's (negative when it prefers another). Both are clipped to ±``CAP``.
    """

    belief: float
    lead: float

    CAP = 10.0

    @classmethod
    def clipped(cls, belief: float, lead: float) -> Opinion:
        """The opinion with both figures inside ±``CAP``."""
        return cls(max(-cls.CAP, min(cls.CAP, belief)), max(-cls.CAP, min(cls.CAP, lead)))


@dataclass(frozen=True)
class Calibration:
    """Logistic model ``p = sigmoid(bias + w_score·score + w_margin·margin + w_linked·ln(1+n)
    + w_llm·llm [+ w_opinion + w_belief·belief + w_lead·lead])``.

    ``margin`` is how far the candidate's score is above the best other candidate (negative for
    every candidate but the first), so a lone close match is trusted more than a close match
    with a near tie; ``n`` is how much feedback is already linked to the candidate (trust grows
    with evidence); ``llm`` is an LLM's opinion of the candidate when one was asked (its
    confidence, negative when it chose otherwise; 0 when none was asked), whose weight only
    decisions can give it (the shipped one is 0). The bracket is there only when the
    second-opinion classifier knows the candidate (``Opinion``; requests created since it was
    trained have none), ``w_opinion`` being the shift that having one brings. Fitted per
    embedding model: raw cosines of
    different models are on different scales. The same form, fitted on another label, is the
    "does any request fit" model that decides when to create a new request.
    """

    model_id: str
    bias: float
    w_score: float
    w_margin: float
    w_linked: float = 0.0
    w_llm: float = 0.0
    w_opinion: float = 0.0
    w_belief: float = 0.0
    w_lead: float = 0.0

    def confidence(
        self,
        score: float,
        margin: float,
        linked: int = 0,
        llm: float = 0.0,
        opinion: Opinion | None = None,
    ) -> float:
        """Probability in 0..1 that this candidate is the right request."""
        z = self.logit(score, margin, linked, llm, opinion)
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def logit(
        self,
        score: float,
        margin: float,
        linked: int = 0,
        llm: float = 0.0,
        opinion: Opinion | None = None,
    ) -> float:
        """The model's log-odds before the sigmoid."""
        z = (
            self.bias
            + self.w_score * score
            + self.w_margin * margin
            + self.w_linked * math.log1p(linked)
            + self.w_llm * llm
        )
        if opinion is not None:
            z += self.w_opinion + self.w_belief * opinion.belief + self.w_lead * opinion.lead
        return z

    @property
    def coefficients(self) -> tuple[float, ...]:
        """(bias, w_score, w_margin, w_linked, w_llm, w_opinion, w_belief, w_lead), as stored
        and as ``GTMFB_MATCH_CALIBRATION``."""
        return (
            self.bias,
            self.w_score,
            self.w_margin,
            self.w_linked,
            self.w_llm,
            self.w_opinion,
            self.w_belief,
            self.w_lead,
        )


#: Fitted by ``python -m bench.matching --fit`` on Banking77's train split (one exemplar, five
#: and twenty linked; 20 % of intents held out as "no request fits"): the plain coefficients
#: first, then the second opinion's on top of them; see docs/matching.md.
DEFAULT_CALIBRATIONS = {
    "all-MiniLM-L6-v2-onnx-int8": Calibration(
        "all-MiniLM-L6-v2-onnx-int8",
        -5.5090,
        7.7637,
        13.1076,
        0.1144,
        0.0,
        -1.2021,
        0.6449,
        0.0900,
    ),
}


def calibration_for(model_id: str) -> Calibration:
    """The fitted calibration of ``model_id``, or a neutral one centred on cosine 0.75."""
    known = DEFAULT_CALIBRATIONS.get(model_id)
    if known is not None:
        return known
    # Unknown models (e.g. an OpenAI endpoint): a gentle curve; tune with `eval-matching`.
    return Calibration(model_id, bias=-7.5, w_score=10.0, w_margin=10.0)


#: "Does any request fit" (decides "create new"), same form and fitting run as the calibration.
DEFAULT_NOVELTY: dict[str, Calibration] = {}


def novelty_for(model_id: str) -> Calibration | None:
    """The shipped "does any request fit" model of ``model_id``; None: confidence decides."""
    return DEFAULT_NOVELTY.get(model_id)


def fit_calibration(
    model_id: str,
    scores: Sequence[float],
    margins: Sequence[float],
    correct: Sequence[bool],
    *,
    linked: Sequence[int] | None = None,
    llm: Sequence[float] | None = None,
    opinions: Sequence[Opinion | None] | None = None,
    prior: Calibration | None = None,
    prior_weight: float = 0.0,
    held: Sequence[int] = (),
) -> Calibration:
    """Fit the logistic model by Newton's method (no SciPy).

    With a ``prior``, the fit is pulled towards its coefficients by a Gaussian penalty of
    ``prior_weight`` (a MAP estimate): with few labels the answer stays near the prior, and
    the labels take over as they accumulate. Without one, a light ridge keeps it finite.
    A feature with no evidence (no counts given, no LLM or classifier opinion on any row) keeps
    its weight; so do the coefficients at the ``held`` positions (``coefficients`` order).
    """
    x = _design(scores, margins, linked, llm, opinions)
    y = np.asarray(correct, dtype=np.float64)
    centre = np.array(prior.coefficients if prior is not None else (0.0,) * 8)
    penalty = (prior_weight if prior is not None else 1e-3) * np.eye(8)
    if linked is None:
        penalty[3, 3] = 1e9
    if not x[:, 4].any():
        penalty[4, 4] = 1e9
    if not x[:, 5].any():
        penalty[5:, 5:] = 1e9 * np.eye(3)
    for position in held:
        penalty[position, position] = 1e9
    w = centre.copy()
    for _ in range(60):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -60, 60)))
        gradient = x.T @ (p - y) + penalty @ (w - centre)
        hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Calibration(model_id, *(float(v) for v in w))


def _design(
    scores: Sequence[float],
    margins: Sequence[float],
    linked: Sequence[int] | None,
    llm: Sequence[float] | None,
    opinions: Sequence[Opinion | None] | None,
) -> npt.NDArray[np.float64]:
    """One row per label: 1, score, margin, ln(1+linked), llm, has opinion, belief, lead."""
    n = len(scores)
    counts = np.log1p(np.asarray(linked if linked is not None else [0] * n, float))
    said = np.asarray(llm if llm is not None else [0.0] * n, float)
    seen = list(opinions) if opinions is not None else [None] * n
    second = np.array(
        [(1.0, o.belief, o.lead) if o is not None else (0.0, 0.0, 0.0) for o in seen], float
    ).reshape(n, 3)
    return np.column_stack([np.ones(n), scores, margins, counts, said, second])


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
