"""Matching quality figures, exactly as ``gtm-feedback eval-matching --json`` reports them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from gtm_feedback.matching.tiers import Tier


@dataclass(frozen=True)
class Outcome:
    """What matching did with one feedback row whose right answer is known."""

    expected: str | None  # None: no existing request fits, the right outcome is "create new"
    ranked: Sequence[str]  # candidate request ids, best first
    confidence: float | None  # of the best candidate; None when there was no candidate
    tier: Tier
    exists: float | None = None  # P(some request fits), when a novelty model scored it


@dataclass(frozen=True)
class Report:
    """Shares in 0..1; ``None`` where the denominator is empty (e.g. no row was auto-attached)."""

    n: int
    top1: float | None
    recall_at_5: float | None
    mrr: float | None
    auto_precision: float | None
    auto_coverage: float | None
    approval_share: float | None
    new_precision: float | None
    new_recall: float | None
    auroc_new: float | None

    def as_dict(self) -> dict[str, float | int | None]:
        """The JSON object, keys in their documented order."""
        return asdict(self)


def evaluate(outcomes: Sequence[Outcome]) -> Report:
    """Compute every figure of the report from per-row outcomes."""
    known = [o for o in outcomes if o.expected is not None]
    new = [o for o in outcomes if o.expected is None]
    auto = [o for o in outcomes if o.tier is Tier.AUTO]
    created = [o for o in outcomes if o.tier is Tier.CREATE]
    return Report(
        n=len(outcomes),
        top1=_share(known, lambda o: bool(o.ranked) and o.ranked[0] == o.expected),
        recall_at_5=_share(known, lambda o: o.expected in o.ranked[:5]),
        mrr=_mean([_reciprocal_rank(o) for o in known]),
        auto_precision=_share(auto, lambda o: o.expected is not None and o.ranked[0] == o.expected),
        auto_coverage=_share(known, lambda o: o.tier is Tier.AUTO),
        approval_share=_share(outcomes, lambda o: o.tier is Tier.APPROVAL),
        new_precision=_share(created, lambda o: o.expected is None),
        new_recall=_share(new, lambda o: o.tier is Tier.CREATE),
        auroc_new=auroc([_fits(o) for o in known], [_fits(o) for o in new]),
    )


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counting half."""
    if not positives or not negatives:
        return None
    scores = np.concatenate([np.asarray(positives, float), np.asarray(negatives, float)])
    ranks = _average_ranks(scores)
    n_pos, n_neg = len(positives), len(negatives)
    rank_sum = float(ranks[:n_pos].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # scipy.stats.rankdata(method="average"), without SciPy.
    sorter = np.argsort(values, kind="mergesort")
    inverse = np.empty_like(sorter)
    inverse[sorter] = np.arange(len(values))
    ordered = values[sorter]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    dense = first.cumsum()[inverse]
    bounds = np.r_[np.nonzero(first)[0], len(first)]
    ranks: npt.NDArray[np.float64] = 0.5 * (bounds[dense] + bounds[dense - 1] + 1)
    return ranks


def _fits(outcome: Outcome) -> float:
    # What decides "create new": the novelty model's score, else the best confidence.
    return outcome.exists if outcome.exists is not None else (outcome.confidence or 0.0)


def _reciprocal_rank(outcome: Outcome) -> float:
    for position, request_id in enumerate(outcome.ranked, start=1):
        if request_id == outcome.expected:
            return 1.0 / position
    return 0.0


def _share(rows: Sequence[Outcome], hit: Callable[[Outcome], bool]) -> float | None:
    if not rows:
        return None
    return sum(1 for row in rows if hit(row)) / len(rows)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None
