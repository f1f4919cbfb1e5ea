"""The three outcomes of matching, decided on the best candidate's confidence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    """What to do with a piece of feedback."""

    AUTO = "auto"  # attach to the best request without asking
    APPROVAL = "approval"  # ask a person to confirm the best request
    CREATE = "create"  # nothing fits well enough: write a new request


@dataclass(frozen=True)
class Thresholds:
    """Confidence cut-offs; ``auto`` must not be below ``approval``."""

    auto: float
    approval: float

    def __post_init__(self) -> None:
        if not 0 <= self.approval <= self.auto <= 1:
            raise ValueError(
                f"thresholds must satisfy 0 <= approval ({self.approval}) "
                f"<= auto ({self.auto}) <= 1"
            )

    def decide(self, confidence: float | None, exists: float | None = None) -> Tier:
        """The tier for the best candidate's confidence (``None``: no candidate at all).

        ``exists`` is the probability that *some* request fits, from its own model; when given,
        it (not the best candidate's confidence) decides between asking and creating.
        """
        if confidence is None:
            return Tier.CREATE
        if confidence >= self.auto:
            return Tier.AUTO
        if (confidence if exists is None else exists) < self.approval:
            return Tier.CREATE
        return Tier.APPROVAL
