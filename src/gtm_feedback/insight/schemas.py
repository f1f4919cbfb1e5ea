"""The insight report (typed, validated) and the area-insights workflow's input and result."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Importance = Literal["info", "warning", "critical"]
SectionKind = Literal["dealbreakers", "segments", "themes", "execution"]
Unit = Literal["usd", "count", "percent"]

#: Sections of equal importance keep this order (the order PRODUCT.md lists them in).
SECTION_ORDER: tuple[SectionKind, ...] = ("dealbreakers", "segments", "themes", "execution")
IMPORTANCE_RANK: dict[Importance, int] = {"critical": 0, "warning": 1, "info": 2}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Metric(_Model):
    """One figure drawn as a tile."""

    kind: Literal["metric"] = "metric"
    label: str
    value: float
    unit: Unit


class Bar(_Model):
    """One bar of a breakdown; ``detail`` is the caption beside it."""

    label: str
    value: float
    detail: str = ""


class Breakdown(_Model):
    """A quantity split by category, drawn as horizontal bars."""

    kind: Literal["breakdown"] = "breakdown"
    title: str
    unit: Unit
    bars: list[Bar]


class Item(_Model):
    """A request in a list, linked to its page by slug."""

    slug: str
    title: str
    value: float
    detail: str = ""


class ItemList(_Model):
    """Requests ranked by a value (ARR), drawn as a linked list with bars."""

    kind: Literal["list"] = "list"
    title: str
    unit: Unit
    items: list[Item]


class Bucket(_Model):
    """One share of a distribution."""

    label: str
    count: int = Field(ge=0)


class Distribution(_Model):
    """Counts that add up to a whole, drawn as a stacked bar."""

    kind: Literal["distribution"] = "distribution"
    title: str
    buckets: list[Bucket]


Visual = Annotated[Metric | Breakdown | ItemList | Distribution, Field(discriminator="kind")]


class Section(_Model):
    """One section: a one or two sentence summary, its importance and its visuals."""

    kind: SectionKind
    title: str
    summary: str = Field(min_length=1, max_length=400)
    importance: Importance
    visuals: list[Visual] = Field(min_length=1)


class Report(_Model):
    """An area's report: headline tiles, top requests, and at most four sections."""

    area_slug: str
    area_name: str
    headline: list[Metric]
    top_requests: ItemList
    sections: list[Section] = Field(max_length=4)

    @model_validator(mode="after")
    def _one_each_most_important_first(self) -> Report:
        kinds = [section.kind for section in self.sections]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"each section kind may appear once, got {kinds}")
        if self.sections != sorted(self.sections, key=section_rank):
            raise ValueError("sections must be ordered by importance, then by kind")
        return self

    def slugs(self) -> set[str]:
        """Every request slug the report links to."""
        lists = [self.top_requests] + [
            visual
            for section in self.sections
            for visual in section.visuals
            if isinstance(visual, ItemList)
        ]
        return {item.slug for visual in lists for item in visual.items}


def section_rank(section: Section) -> tuple[int, int]:
    """Sort key: critical before warning before info; ties in the canonical order."""
    return IMPORTANCE_RANK[section.importance], SECTION_ORDER.index(section.kind)


class AreaInsightsInput(_Model):
    """Which areas to report on (every area when empty), and how many at once."""

    areas: list[str] = Field(default_factory=list, description="area slugs; empty = all")
    concurrency: int | None = Field(
        default=None, ge=1, le=32, description="areas in flight at once (default: settings)"
    )


class AreaReportInput(_Model):
    """One child run: the area to report on, on behalf of the system user."""

    area_id: str
    area_slug: str
    user_id: str


class AreaOutcome(_Model):
    """What happened to one area: its report, or the error that stopped it."""

    area_slug: str
    run_id: str
    status: Literal["ok", "error"]
    report_id: str | None = None
    sections: list[SectionKind] = Field(default_factory=list)
    engine: Literal["llm", "offline"] | None = None
    dropped_slugs: list[str] = Field(default_factory=list)
    duration_ms: float = 0.0
    error: str | None = None


class AreaInsightsResult(_Model):
    """Per-area outcomes, in area order, and the totals."""

    areas: list[AreaOutcome]
    succeeded: int
    failed: int


class InsightReportOut(_Model):
    """A stored report, as the API returns it."""

    id: str
    area_slug: str
    generated_at: datetime
    run_id: str | None
    generated_by: str | None
    engine: str | None
    report: Report


class InsightHistoryItem(_Model):
    """One past report in an area's history (without its body)."""

    id: str
    generated_at: datetime
    run_id: str | None
    sections: list[SectionKind]
