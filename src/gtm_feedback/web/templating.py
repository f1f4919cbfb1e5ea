"""Jinja2 templates shared by every page, with the number formats people read."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from gtm_feedback.text.formats import money

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"


def figure(value: float | int, unit: str) -> str:
    """A metric in its unit: money, a percentage or a count."""
    if unit == "usd":
        return money(value)
    if unit == "percent":
        return f"{value:.0f} %"
    return f"{value:,.0f}"


def when(value: object) -> str:
    """A timestamp to the minute, in UTC."""
    strftime = getattr(value, "strftime", None)
    return strftime("%Y-%m-%d %H:%M UTC") if strftime else ""


def epoch(value: int | None) -> str:
    """A DBOS epoch-milliseconds timestamp to the second, in UTC."""
    if value is None:
        return ""
    return datetime.fromtimestamp(value / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ms(value: float | int) -> str:
    """A duration: 850 ms, 3.2 s, 4 min."""
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    return f"{value / 60_000:.0f} min"


def web_link(value: object) -> str | None:
    """The URL if it is an http(s) one (safe in an href), else None: show it as text.

    Imports refuse other schemes; this covers rows stored before they did.
    """
    text = str(value or "").strip()
    return text if text.lower().startswith(("http://", "https://")) else None


templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.filters.update(
    money=money, figure=figure, when=when, epoch=epoch, ms=ms, web_link=web_link
)
