"""Slugs for areas and requests: lowercase ASCII words joined by hyphens."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 80) -> str:
    """``"API & Developer Tools"`` → ``"api-developer-tools"``; accents folded, cut at a word."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_WORD.sub("-", folded.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug


def unique_slug(text: str, taken: Callable[[str], bool], fallback: str = "item") -> str:
    """The slug of ``text``, with ``-2``, ``-3``… appended until ``taken`` says it is free."""
    base = slugify(text) or fallback
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
