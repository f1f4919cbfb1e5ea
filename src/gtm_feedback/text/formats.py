"""Formats shared by pages, messages and agents: money as people read it, LIKE patterns."""

from __future__ import annotations

from decimal import Decimal

#: The escape character of :func:`contains_pattern` (pass it as ``ilike(..., escape=LIKE_ESCAPE)``).
LIKE_ESCAPE = "\\"


def money(value: float | int | str | Decimal) -> str:
    """$1.2M, $350k, $900: ARR at a glance."""
    amount = float(value)
    if abs(amount) >= 1_000_000:
        return f"${amount / 1_000_000:.1f}M"
    if abs(amount) >= 1_000:
        return f"${amount / 1_000:.0f}k"
    return f"${amount:.0f}"


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its ``%`` and ``_`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def email_address(value: str) -> str:
    """``value`` as one email address, trimmed and lower-cased; ``ValueError`` if it is not."""
    local, at, domain = value.strip().lower().partition("@")
    if not at or not local or "." not in domain or " " in value.strip():
        raise ValueError("not an email address")
    return f"{local}@{domain}"
