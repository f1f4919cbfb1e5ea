"""Deterministic text clean-up shared by the offline engines."""

from __future__ import annotations

import re

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<![^>]*>")
_EMOJI = re.compile(r":[a-z0-9_+\-]+:")
_SPACES = re.compile(r"[ \t]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_GREETING = re.compile(
    r"^(?:hi|hey|hello|hiya|hallo|hola|bonjour|salut|ciao|hej|moin|morning|"
    r"good (?:morning|afternoon)|yo)\b(?:\s+[^\s,.!:]+){0,3}\s*(?:[,.!:]+\s*|$)",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(?:thanks|thank you|thx|cheers|best|regards|kind regards|many thanks|ty)\b.{0,40}$"
    r"|^--\s*$|^sent from my\b",
    re.IGNORECASE,
)
_ACK = re.compile(r"^(?:\+1|same here|same|agreed|thanks!?|ty|ok|👍|yes)[.!]*$", re.IGNORECASE)


def slack_to_text(text: str) -> str:
    """Slack markup to plain text: mentions dropped, links to their label, emoji codes removed."""
    text = _MENTION.sub("", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL.sub("", text)
    return _EMOJI.sub("", text)


def strip_noise(text: str) -> str:
    """Drop quoted lines, greetings, sign-offs and what follows them (signatures)."""
    kept: list[str] = []
    for raw in slack_to_text(text).splitlines():
        line = _SPACES.sub(" ", raw).strip()
        if line.startswith(">") or line.startswith("&gt;"):
            continue
        if _SIGN_OFF.match(line) and kept:
            break  # everything after "Thanks," is a signature
        line = _GREETING.sub("", line).strip()
        if line and not _ACK.match(line):
            kept.append(line)
    return " ".join(kept).strip()


def sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after . ! ? followed by space)."""
    return [part.strip() for part in _SENTENCE.split(text.strip()) if part.strip()]


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:- ")
    return (cut or text[: limit - 1]) + "…"


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack treats as markup (so user text cannot form links)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
