"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

_CENT = Decimal("0.01")


def money_units_per_dollar(dialect_name: str) -> int:
    """What one dollar is as ``Money`` stores it: 100 (cents) on SQLite, else 1."""
    return 100 if dialect_name == "sqlite" else 1


class Money(TypeDecorator[Decimal]):
    """An amount in dollars: NUMERIC(14,2) on PostgreSQL, exact integer cents on SQLite.

    SQLite has no decimal type; storing cents keeps sums exact there, and ``SUM`` keeps
    this type so results come back as ``Decimal`` on both databases.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Integer cents on SQLite, NUMERIC(14,2) elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Quantise to cents; SQLite gets an integer count of cents."""
        if value is None:
            return None
        # Half-up, as PostgreSQL's NUMERIC rounds, so both databases store the same cents.
        amount = Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP)
        return int(amount * 100) if money_units_per_dollar(dialect.name) == 100 else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a ``Decimal`` with two places."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(_CENT)
        return Decimal(value).quantize(_CENT)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp always stored and returned as timezone-aware UTC (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Refuse naive datetimes: their zone is a guess."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware, got {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Attach UTC where the database returned a naive value."""
        if value is None:
            return None
        stamp: datetime = value
        return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
