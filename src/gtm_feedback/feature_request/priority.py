"""The weighted priority score: revenue, pipeline and severity in one number, with its terms.

score = Σ weight × term, where the money terms count per $1,000:
  distinct-account ARR, dealbreaker ARR, open pipeline, blocked pipeline,
and the severity terms count accounts, each once at its highest severity on the request
(nice to have, significant pain, dealbreaker). The workspace's admins set the weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, ColumnElement, Float, String, literal, type_coerce
from sqlalchemy.orm import Mapped, Session, mapped_column

from gtm_feedback.db.base import Base, utcnow
from gtm_feedback.db.types import UTCDateTime, money_units_per_dollar
from gtm_feedback.db.upsert import insert_for

WORKSPACE = "workspace"


class Weights(BaseModel):
    """How much each term adds to the score (money terms per $1,000, severity per account)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"open_pipeline": 1.0}]}
    )

    arr: float = Field(1.0, ge=0, le=1_000_000, description="Per $1k of distinct-account ARR")
    dealbreaker_arr: float = Field(1.0, ge=0, le=1_000_000, description="Per $1k dealbreaker ARR")
    open_pipeline: float = Field(0.5, ge=0, le=1_000_000, description="Per $1k open pipeline")
    blocked_pipeline: float = Field(1.0, ge=0, le=1_000_000, description="Per $1k blocked")
    nice_to_have: float = Field(10.0, ge=0, le=1_000_000, description="Per account at most this")
    significant: float = Field(20.0, ge=0, le=1_000_000, description="Per account at most this")
    dealbreaker: float = Field(30.0, ge=0, le=1_000_000, description="Per account with it")

    LABELS: ClassVar[dict[str, str]] = {
        "arr": "ARR (distinct accounts), per $1k",
        "dealbreaker_arr": "Dealbreaker ARR, per $1k",
        "open_pipeline": "Open pipeline, per $1k",
        "blocked_pipeline": "Blocked pipeline, per $1k",
        "nice_to_have": "Accounts at most “nice to have”",
        "significant": "Accounts at most “significant pain”",
        "dealbreaker": "Accounts with a dealbreaker",
    }


class PriorityWeights(Base):
    """The workspace's weights (one row); the defaults of ``Weights`` until an admin saves."""

    __tablename__ = "priority_weights"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    weights: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def load(session: Session) -> Weights:
    """The workspace's weights (defaults for any not saved)."""
    # Fresh, not the session's copy: ``save`` writes with a statement, past the identity map.
    row = session.get(PriorityWeights, WORKSPACE, populate_existing=True)
    return Weights() if row is None else Weights.model_validate(row.weights)


def save(session: Session, weights: Weights, by: str) -> None:
    """Store the workspace's weights (an upsert: two first saves at once do not clash)."""
    values = {"weights": weights.model_dump(), "updated_by": by, "updated_at": utcnow()}
    insert = insert_for(session, PriorityWeights).values(id=WORKSPACE, **values)
    session.execute(insert.on_conflict_do_update(index_elements=["id"], set_=values))


@dataclass(frozen=True)
class Term:
    """One term of a score: its amount, its weight and the points it adds."""

    name: str
    label: str
    amount: float
    weight: float

    @property
    def points(self) -> float:
        """What the term adds to the score."""
        return self.amount * self.weight


class Figures(Protocol):
    """What a score reads of a request (``service.RequestFigures`` has it)."""

    @property
    def arr(self) -> Decimal: ...
    @property
    def dealbreaker_arr(self) -> Decimal: ...
    @property
    def open_pipeline(self) -> Decimal: ...
    @property
    def blocked_pipeline(self) -> Decimal: ...
    @property
    def accounts_low(self) -> int: ...
    @property
    def accounts_medium(self) -> int: ...
    @property
    def accounts_high(self) -> int: ...


#: Each term: the figure it reads, and whether that is money (counted per $1,000).
SOURCES: dict[str, tuple[str, bool]] = {
    "arr": ("arr", True),
    "dealbreaker_arr": ("dealbreaker_arr", True),
    "open_pipeline": ("open_pipeline", True),
    "blocked_pipeline": ("blocked_pipeline", True),
    "nice_to_have": ("accounts_low", False),
    "significant": ("accounts_medium", False),
    "dealbreaker": ("accounts_high", False),
}


def amounts(figures: Figures) -> dict[str, float]:
    """The score's terms of a request's figures: money in thousands, accounts counted."""
    found: dict[str, float] = {}
    for name, (source, money) in SOURCES.items():
        value = Decimal(getattr(figures, source))
        found[name] = float(value / 1000 if money else value)
    return found


def breakdown(figures: Figures, weights: Weights) -> list[Term]:
    """Every term of the request's score, in the order of ``Weights``."""
    given = weights.model_dump()
    return [
        Term(name, Weights.LABELS[name], amount, given[name])
        for name, amount in amounts(figures).items()
    ]


def score(figures: Figures, weights: Weights) -> float:
    """The request's priority score, rounded to a tenth."""
    return round(sum(term.points for term in breakdown(figures, weights)), 1)


def order_by(columns: Any, weights: Weights, dialect_name: str) -> ColumnElement[Any]:
    """SQL: the score of a figures row (``service._figures_query``'s columns), to sort by."""
    given = weights.model_dump()
    per_thousand = 1000.0 * money_units_per_dollar(dialect_name)
    total: ColumnElement[Any] = literal(0.0, Float)
    for name, (source, money) in SOURCES.items():
        # As plain numbers: a Money column would bind the weight as an amount of money.
        column = type_coerce(getattr(columns, source), Float)
        total = total + column * literal(given[name] / (per_thousand if money else 1.0), Float)
    return total
