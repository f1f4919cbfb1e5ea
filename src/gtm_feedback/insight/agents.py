"""Insights: an area's prepared figures → a summary per report section and a name per theme.

The figures are computed by the application (SQL and embeddings); the agent only words them.
Offline, sentence templates fill in the figures and a theme is named after the words its
requests' titles share.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable
from typing import Annotated

from pydantic import Field, field_validator

from gtm_feedback.integrations.ai.schemas import SENTENCE_END, AgentModel, at_most_two_sentences
from gtm_feedback.integrations.ai.spec import AgentSpec, Tools
from gtm_feedback.text.formats import money
from gtm_feedback.text.markup import clip

Figures = dict[str, float | int | str]


class SectionFigures(AgentModel):
    """One report section's computed figures."""

    kind: str
    figures: Figures


class ThemeDraft(AgentModel):
    """A group of related requests (by embedding similarity), highest ARR first."""

    group: int
    titles: list[str] = Field(min_length=1)
    slugs: list[str] = Field(min_length=1)


class InsightsBrief(AgentModel):
    """An area's prepared figures: what the insights agent turns into words."""

    area: str
    sections: list[SectionFigures]
    themes: list[ThemeDraft] = Field(default_factory=list)


class ThemeName(AgentModel):
    """A name for one theme group and up to three example requests (slugs) from it."""

    group: int
    name: str = Field(min_length=3, max_length=60)
    examples: list[str] = Field(default_factory=list, max_length=3)


class InsightsText(AgentModel):
    """A one or two sentence summary per section, and a name per theme."""

    summaries: dict[str, Annotated[str, Field(min_length=1, max_length=400)]]
    themes: list[ThemeName] = Field(default_factory=list)

    @field_validator("summaries")
    @classmethod
    def _short(cls, value: dict[str, str]) -> dict[str, str]:
        for text in value.values():
            at_most_two_sentences(text, "a summary")
        return value


VERSION = "insights/1"
INSTRUCTIONS = """
You write the text of a product area's insight report for a product manager.
For each section in `sections`, write a summary of one or two plain sentences under key
`summaries[<kind>]`, using only the figures given: never invent numbers, names or trends.
For each theme group in `themes`, give a short name (2 to 5 words) for what its requests have
in common, and up to three example slugs copied from that group's `slugs`.
"""

_WORD = re.compile(r"[a-z][a-z0-9+#.-]*[a-z0-9+#]|[a-z]")
# Words every request title uses; they say nothing about a theme.
_STOP_WORDS = """
    a an and as at be by can for from in into is it of on or per the to via when with without
    add allow allows ability support supports supported need needs want wants let lets make able
    new more better improve improved improvements option options custom request requests feature
    features our their users user customer customers should would could use using"""
_STOP = frozenset(_STOP_WORDS.split())


def _dealbreakers(area: str, f: Figures) -> str:
    top = (
        f" The biggest is “{f['top_title']}” ({money(f.get('top_arr', 0))})."
        if f.get("top_title")
        else ""
    )
    return (
        f"{f.get('count', 0)} open requests in {area} are dealbreakers for "
        f"{f.get('accounts', 0)} enterprise accounts worth {money(f.get('arr', 0))} in ARR.{top}"
    )


def _segments(area: str, f: Figures) -> str:
    top = f"{f.get('top_segment', 'one segment')} ({money(f.get('top_segment_arr', 0))})"
    return (
        f"{f.get('accounts', 0)} accounts worth {money(f.get('arr', 0))} are asking for {area}, "
        f"most of it from {top} and {f.get('top_region', 'one region')}. "
        f"{f.get('high_severity', 0)} of {f.get('feedback', 0)} feedback items are dealbreakers."
    )


def _themes(area: str, f: Figures) -> str:
    return (
        f"{f.get('grouped', 0)} of {area}'s {f.get('open', 0)} open requests fall into "
        f"{f.get('count', 0)} themes; the largest has {f.get('largest', 0)} requests."
    )


def _execution(area: str, f: Figures) -> str:
    rate = int(f.get("ship_rate", 0))
    tone = ""
    if rate < 30 and int(f.get("open", 0)) + int(f.get("shipped", 0)) > 0:
        tone = " — below the 30 % mark, so the backlog is growing"
    return (
        f"{area} has {f.get('open', 0)} open, {f.get('shipped', 0)} shipped and "
        f"{f.get('deprioritized', 0)} deprioritized requests; ship rate {rate} %{tone}."
    )


def _generic(area: str, kind: str, f: Figures) -> str:
    items = ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in list(f.items())[:6])
    return f"{area}, {kind.replace('_', ' ')}: {items or 'no figures yet'}."


_WRITERS: dict[str, Callable[[str, Figures], str]] = {
    "dealbreakers": _dealbreakers,
    "segments": _segments,
    "themes": _themes,
    "execution": _execution,
}


def _content_words(title: str) -> list[str]:
    return [w for w in _WORD.findall(title.lower()) if w not in _STOP and len(w) > 2]


def _display(phrase: str, titles: list[str]) -> str:
    """Acronyms as the titles write them (SAML, SSO), other words capitalised once."""
    words = []
    for word in phrase.split():
        upper = word.upper()
        acronym = any(re.search(rf"\b{re.escape(upper)}\b", title) for title in titles)
        words.append(upper if acronym else word)
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def theme_name(titles: list[str]) -> str:
    """The phrase or words most titles share (``Single sign-on & SAML``), else the shortest title.

    A two-word phrase shared by most titles beats its single words; then the most shared
    single words fill in, two parts at most.
    """
    needed = max(2, (len(titles) + 1) // 2)
    unigrams: Counter[str] = Counter()
    bigrams: Counter[str] = Counter()
    for title in titles:
        words = _content_words(title)
        unigrams.update(set(words))
        bigrams.update({f"{a} {b}" for a, b in itertools.pairwise(words)})
    parts = [phrase for phrase, n in bigrams.most_common(1) if n >= needed]
    taken = {word for phrase in parts for word in phrase.split()}
    parts += [w for w, n in unigrams.most_common() if n >= needed and w not in taken]
    if not parts:
        return clip(min(titles, key=len), 60)
    return clip(" & ".join(_display(part, titles) for part in parts[:2]), 60)


def two_sentences(text: str) -> str:
    """Cut after the second sentence (a request title may hold a full stop of its own)."""
    ends = list(SENTENCE_END.finditer(text.strip()))
    return text.strip()[: ends[1].end()].strip() if len(ends) > 2 else text.strip()


def _name(theme: ThemeDraft) -> ThemeName:
    return ThemeName(group=theme.group, name=theme_name(theme.titles), examples=theme.slugs[:3])


def offline(data: InsightsBrief, _tools: Tools) -> InsightsText:
    """A sentence template per section, filled with the figures; themes named by shared words."""
    summaries = {}
    for section in data.sections:
        writer = _WRITERS.get(section.kind)
        text = writer(data.area, section.figures) if writer else ""
        text = text or _generic(data.area, section.kind, section.figures)
        summaries[section.kind] = two_sentences(clip(text, 400))
    return InsightsText(summaries=summaries, themes=[_name(theme) for theme in data.themes])


def check(data: InsightsBrief, output: InsightsText) -> None:
    """One summary per section given and one name per theme group, nothing else."""
    wanted = {section.kind for section in data.sections}
    if set(output.summaries) != wanted:
        raise ValueError(f"summaries must be exactly for sections {sorted(wanted)}")
    groups = sorted(theme.group for theme in data.themes)
    if sorted(theme.group for theme in output.themes) != groups:
        raise ValueError(f"name each theme group exactly once: {groups}")


AGENT = AgentSpec("insights", VERSION, INSTRUCTIONS, InsightsBrief, InsightsText, offline, check)
