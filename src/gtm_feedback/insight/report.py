"""Build an area's report from its figures and the agent's words (pure: no I/O).

The rules of PRODUCT.md live here: at most four sections, a section only when it has data,
dealbreakers critical only above $500k, execution a warning under a 30 % ship rate, sections
ordered by importance, and every linked slug a real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from gtm_feedback.feedback.models import Severity
from gtm_feedback.insight.agents import (
    Figures,
    InsightsBrief,
    InsightsText,
    SectionFigures,
    ThemeDraft,
)
from gtm_feedback.insight.figures import AreaFigures, RequestFigure, SegmentFigure
from gtm_feedback.insight.schemas import (
    Bar,
    Breakdown,
    Bucket,
    Distribution,
    Importance,
    Item,
    ItemList,
    Metric,
    Report,
    Section,
    SectionKind,
    Visual,
    section_rank,
)
from gtm_feedback.text.formats import money

CRITICAL_DEALBREAKER_ARR = Decimal("500000")
WARNING_SHIP_RATE = 30
TOP_ITEMS = 5
TITLES: dict[SectionKind, str] = {
    "dealbreakers": "Dealbreakers",
    "segments": "Who is asking",
    "themes": "Themes",
    "execution": "Execution",
}


@dataclass(frozen=True)
class Theme:
    """A group of related open requests, highest ARR first."""

    group: int
    requests: list[RequestFigure]


def _usd(value: Decimal) -> float:
    return float(round(value, 2))


def _dealbreakers(f: AreaFigures) -> tuple[Figures, list[Visual]] | None:
    ranked = sorted(
        (r for r in f.requests if r.dealbreaker_accounts > 0),
        key=lambda r: (-r.dealbreaker_arr, -r.dealbreaker_accounts),
    )
    if not ranked:
        return None
    top = [
        Item(
            slug=r.slug,
            title=r.title,
            value=_usd(r.dealbreaker_arr),
            detail=f"{r.dealbreaker_accounts} enterprise accounts",
        )
        for r in ranked[:TOP_ITEMS]
    ]
    figures: Figures = {
        "count": len(ranked),
        "arr": _usd(f.dealbreaker_arr),
        "accounts": f.dealbreaker_accounts,
        "top_title": ranked[0].title,
        "top_arr": _usd(ranked[0].dealbreaker_arr),
    }
    visuals: list[Visual] = [
        Metric(label="Dealbreaker ARR", value=_usd(f.dealbreaker_arr), unit="usd"),
        Metric(label="Enterprise accounts blocked", value=f.dealbreaker_accounts, unit="count"),
        ItemList(title="Top dealbreakers by enterprise ARR", unit="usd", items=top),
    ]
    return figures, visuals


def _bars(segments: list[SegmentFigure]) -> list[Bar]:
    return [
        Bar(
            label=s.label,
            value=_usd(s.arr),
            detail=f"{s.accounts} accounts · {s.high_severity} dealbreaker items",
        )
        for s in segments
    ]


def _segments(f: AreaFigures) -> tuple[Figures, list[Visual]] | None:
    if f.asking_accounts == 0:
        return None
    figures: Figures = {
        "accounts": f.asking_accounts,
        "arr": _usd(f.asking_arr),
        "top_segment": f.segments[0].label,
        "top_segment_arr": _usd(f.segments[0].arr),
        "top_region": f.regions[0].label,
        "high_severity": f.severity.get(Severity.HIGH.value, 0),
        "feedback": sum(f.severity.values()),
    }
    buckets = [Bucket(label=s.label, count=f.severity.get(s.value, 0)) for s in Severity]
    visuals: list[Visual] = [
        Breakdown(title="ARR by segment", unit="usd", bars=_bars(f.segments)),
        Breakdown(title="ARR by region", unit="usd", bars=_bars(f.regions)),
        Distribution(title="Feedback by severity", buckets=buckets),
    ]
    return figures, visuals


def _theme_figures(f: AreaFigures, themes: list[Theme]) -> Figures | None:
    if not themes:
        return None
    return {
        "count": len(themes),
        "grouped": sum(len(t.requests) for t in themes),
        "open": f.open,
        "largest": max(len(t.requests) for t in themes),
    }


def _theme_visuals(themes: list[Theme], text: InsightsText) -> tuple[list[Visual], list[str]]:
    names = {named.group: named.name for named in text.themes}
    bars = []
    visuals: list[Visual] = []
    dropped: list[str] = []
    for theme in themes:
        name = names.get(theme.group, theme.requests[0].title[:60])
        arr = sum((r.arr for r in theme.requests), Decimal(0))
        bars.append(Bar(label=name, value=len(theme.requests), detail=f"{money(_usd(arr))} ARR"))
        examples, invented = _examples(theme, text)
        dropped += invented
        items = [Item(slug=r.slug, title=r.title, value=_usd(r.arr)) for r in examples]
        visuals.append(ItemList(title=name, unit="usd", items=items))
    chart = Breakdown(title="Requests per theme", unit="count", bars=bars)
    return [chart, *visuals], dropped


def _examples(theme: Theme, text: InsightsText) -> tuple[list[RequestFigure], list[str]]:
    """The agent's examples that belong to the group; slugs it made up are returned apart."""
    by_slug = {r.slug: r for r in theme.requests}
    chosen = next((named.examples for named in text.themes if named.group == theme.group), [])
    invented = [slug for slug in chosen if slug not in by_slug]
    kept = [by_slug[slug] for slug in dict.fromkeys(chosen) if slug in by_slug]
    return (kept or theme.requests[:3]), invented


def _execution(f: AreaFigures) -> tuple[Figures, list[Visual]] | None:
    if f.open + f.shipped + f.deprioritized == 0:
        return None
    figures: Figures = {
        "open": f.open,
        "shipped": f.shipped,
        "deprioritized": f.deprioritized,
        "ship_rate": f.ship_rate,
    }
    buckets = [
        Bucket(label="Open", count=f.open),
        Bucket(label="Shipped", count=f.shipped),
        Bucket(label="Deprioritized", count=f.deprioritized),
    ]
    visuals: list[Visual] = [
        Metric(label="Ship rate", value=f.ship_rate, unit="percent"),
        Distribution(title="Requests by status", buckets=buckets),
    ]
    return figures, visuals


def importance(kind: SectionKind, f: AreaFigures) -> Importance:
    """critical / warning / info for a section, by the rules of PRODUCT.md."""
    if kind == "dealbreakers":
        return "critical" if f.dealbreaker_arr > CRITICAL_DEALBREAKER_ARR else "warning"
    if kind == "execution":
        # All deprioritized (nothing open or shipped) is not a slow team: no warning.
        has_work = f.open + f.shipped > 0
        return "warning" if has_work and f.ship_rate < WARNING_SHIP_RATE else "info"
    return "info"


def _sections(f: AreaFigures) -> dict[SectionKind, tuple[Figures, list[Visual]]]:
    found: dict[SectionKind, tuple[Figures, list[Visual]] | None] = {
        "dealbreakers": _dealbreakers(f),
        "segments": _segments(f),
        "execution": _execution(f),
    }
    return {kind: part for kind, part in found.items() if part is not None}


def brief(f: AreaFigures, themes: list[Theme]) -> InsightsBrief:
    """What the insights agent is given: each section's figures and the theme groups."""
    sections = [SectionFigures(kind=kind, figures=part[0]) for kind, part in _sections(f).items()]
    theme_figures = _theme_figures(f, themes)
    if theme_figures is not None:
        sections.append(SectionFigures(kind="themes", figures=theme_figures))
    drafts = [
        ThemeDraft(
            group=t.group,
            titles=[r.title for r in t.requests[:10]],
            slugs=[r.slug for r in t.requests[:10]],
        )
        for t in themes
    ]
    return InsightsBrief(area=f.area_name, sections=sections, themes=drafts)


def build(f: AreaFigures, themes: list[Theme], text: InsightsText) -> tuple[Report, list[str]]:
    """The report, and the example slugs the agent named that are not in their theme."""
    parts = _sections(f)
    dropped: list[str] = []
    if themes:
        visuals, dropped = _theme_visuals(themes, text)
        parts["themes"] = ({}, visuals)
    sections = [
        Section(
            kind=kind,
            title=TITLES[kind],
            summary=text.summaries[kind],
            importance=importance(kind, f),
            visuals=visuals,
        )
        for kind, (_figures, visuals) in parts.items()
    ]
    report = Report(
        area_slug=f.area_slug,
        area_name=f.area_name,
        headline=headline(f),
        top_requests=top_requests(f),
        sections=sorted(sections, key=section_rank),
    )
    return report, dropped


def headline(f: AreaFigures) -> list[Metric]:
    """The tiles at the top of the area page."""
    return [
        Metric(label="Open requests", value=f.open, unit="count"),
        Metric(label="ARR asking", value=_usd(f.asking_arr), unit="usd"),
        Metric(label="Accounts asking", value=f.asking_accounts, unit="count"),
        Metric(label="Dealbreaker ARR", value=_usd(f.dealbreaker_arr), unit="usd"),
        Metric(label="Open pipeline", value=_usd(f.open_pipeline), unit="usd"),
        Metric(label="Blocked pipeline", value=_usd(f.blocked_pipeline), unit="usd"),
        Metric(label="Ship rate", value=f.ship_rate, unit="percent"),
    ]


def top_requests(f: AreaFigures) -> ItemList:
    """The area's open requests worth the most ARR."""
    items = [
        Item(
            slug=r.slug,
            title=r.title,
            value=_usd(r.arr),
            detail=f"{r.accounts} accounts · {r.feedback} feedback",
        )
        for r in f.requests[:TOP_ITEMS]
        if r.feedback > 0
    ]
    return ItemList(title="Top requests by ARR", unit="usd", items=items)


def drop_unknown(report: Report, known: set[str]) -> tuple[Report, list[str]]:
    """The report without list items whose slug is not a real request, and those slugs."""
    dropped = sorted(report.slugs() - known)
    if not dropped:
        return report, []

    def keep(visual: ItemList) -> ItemList:
        return visual.model_copy(update={"items": [i for i in visual.items if i.slug in known]})

    sections = [
        section.model_copy(
            update={"visuals": [keep(v) if isinstance(v, ItemList) else v for v in section.visuals]}
        )
        for section in report.sections
    ]
    clean = report.model_copy(
        update={"top_requests": keep(report.top_requests), "sections": sections}
    )
    return clean, dropped
