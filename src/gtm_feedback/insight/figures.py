"""An area's figures for its insight report: one query, then the exact ARR rules in Python.

ARR counts each account once (per request, and again once per area total); dealbreaker ARR
counts only enterprise accounts with high-severity feedback; pipeline counts each open deal
once, and blocked pipeline the open deals some feedback blocks (``feature_request.pipeline``
computes the same in SQL). Only *open* requests are ranked; the execution counts cover every
status.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account, Opportunity, is_open_stage
from gtm_feedback.db.vectors import from_bytes
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus, request_areas
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.integrations.embeddings import Embedder
from gtm_feedback.matching.matcher import request_text
from gtm_feedback.product_area import service as areas
from gtm_feedback.product_area.models import ProductArea

ZERO = Decimal("0.00")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestFigure(_Model):
    """One open request of the area with its ARR figures."""

    id: str
    slug: str
    title: str
    arr: Decimal = ZERO
    accounts: int = 0
    dealbreaker_arr: Decimal = ZERO
    dealbreaker_accounts: int = 0
    feedback: int = 0
    open_pipeline: Decimal = ZERO
    blocked_pipeline: Decimal = ZERO


class SegmentFigure(_Model):
    """Accounts of one segment or region asking for the area's open requests."""

    label: str
    arr: Decimal
    accounts: int
    high_severity: int


class AreaFigures(_Model):
    """Everything the report of one area is built from."""

    area_id: str
    area_slug: str
    area_name: str
    open: int
    shipped: int
    deprioritized: int
    ship_rate: int
    requests: list[RequestFigure]
    asking_arr: Decimal
    asking_accounts: int
    dealbreaker_arr: Decimal
    dealbreaker_accounts: int
    segments: list[SegmentFigure]
    regions: list[SegmentFigure]
    severity: dict[str, int]
    # Defaults: reports stored before pipeline existed still load.
    open_pipeline: Decimal = ZERO
    open_deals: int = 0
    blocked_pipeline: Decimal = ZERO
    blocked_deals: int = 0


@dataclass(frozen=True)
class FeedbackRow:
    """One feedback item on an open request, with its account's figures."""

    request_id: str
    account_id: str
    severity: Severity
    arr: Decimal
    is_enterprise: bool
    region: str | None
    #: The open deal the feedback names (None: no deal, or a closed one), and if it blocks it.
    deal_id: str | None = None
    deal_arr: Decimal = ZERO
    blocks_deal: bool = False


@dataclass
class _Deals:
    named: dict[str, Decimal] = field(default_factory=dict)
    blocked: dict[str, Decimal] = field(default_factory=dict)

    def add(self, row: FeedbackRow) -> None:
        if row.deal_id is None:
            return
        self.named[row.deal_id] = row.deal_arr
        if row.blocks_deal:
            self.blocked[row.deal_id] = row.deal_arr

    def totals(self) -> dict[str, object]:
        return {
            "open_pipeline": sum(self.named.values(), ZERO),
            "open_deals": len(self.named),
            "blocked_pipeline": sum(self.blocked.values(), ZERO),
            "blocked_deals": len(self.blocked),
        }


@dataclass
class _Tally:
    accounts: dict[str, Decimal] = field(default_factory=dict)
    high: int = 0

    def add(self, row: FeedbackRow) -> None:
        self.accounts[row.account_id] = row.arr
        self.high += row.severity is Severity.HIGH

    def figure(self, label: str) -> SegmentFigure:
        arr = sum(self.accounts.values(), ZERO)
        return SegmentFigure(
            label=label, arr=arr, accounts=len(self.accounts), high_severity=self.high
        )


def segment_of(row: FeedbackRow) -> str:
    """Enterprise or commercial: the split sales teams plan by."""
    return "Enterprise" if row.is_enterprise else "Commercial"


def area_figures(session: Session, area: ProductArea) -> AreaFigures:
    """Compute the figures of one area (read only)."""
    counts = areas.status_counts(session=session, area_id=area.id)
    open_requests = session.execute(
        select(FeatureRequest.id, FeatureRequest.slug, FeatureRequest.title)
        .join(request_areas, request_areas.c.request_id == FeatureRequest.id)
        .where(
            request_areas.c.area_id == area.id,
            FeatureRequest.status == RequestStatus.OPEN,
            FeatureRequest.merged_into_id.is_(None),
        )
        .order_by(FeatureRequest.created_at, FeatureRequest.id)
    ).all()
    rows = feedback_rows(session, area.id)
    return AreaFigures(
        area_id=area.id,
        area_slug=area.slug,
        area_name=area.name,
        open=counts.open,
        shipped=counts.shipped,
        deprioritized=counts.deprioritized,
        ship_rate=counts.ship_rate,
        requests=rank_requests([(r.id, r.slug, r.title) for r in open_requests], rows),
        **_totals(rows),
    )


def feedback_rows(session: Session, area_id: str) -> list[FeedbackRow]:
    """Every feedback item on the area's open requests, with its account."""
    result = session.execute(
        select(
            Feedback.request_id,
            Feedback.account_id,
            Feedback.severity,
            Account.arr,
            Account.is_enterprise,
            Account.region,
            Feedback.opportunity_id,
            Opportunity.arr,
            Opportunity.stage,
            Feedback.blocks_deal,
        )
        .join(Account, Account.id == Feedback.account_id)
        .join(FeatureRequest, FeatureRequest.id == Feedback.request_id)
        .join(request_areas, request_areas.c.request_id == Feedback.request_id)
        .outerjoin(Opportunity, Opportunity.id == Feedback.opportunity_id)
        .where(request_areas.c.area_id == area_id, FeatureRequest.status == RequestStatus.OPEN)
    ).all()
    rows = []
    for request_id, account_id, severity, arr, enterprise, region, *deal in result:
        deal_id, deal_arr, stage, blocks = deal
        deal_open = deal_id is not None and is_open_stage(stage)
        rows.append(
            FeedbackRow(
                request_id,
                account_id,
                severity,
                arr,
                enterprise,
                region,
                deal_id=deal_id if deal_open else None,
                deal_arr=deal_arr if deal_open else ZERO,
                blocks_deal=deal_open and blocks,
            )
        )
    return rows


def rank_requests(
    requests: list[tuple[str, str, str]], rows: list[FeedbackRow]
) -> list[RequestFigure]:
    """Per-request ARR (distinct accounts) and dealbreaker ARR, highest ARR first."""
    asking: dict[str, dict[str, Decimal]] = defaultdict(dict)
    dealbreaking: dict[str, dict[str, Decimal]] = defaultdict(dict)
    feedback: dict[str, int] = defaultdict(int)
    deals: dict[str, _Deals] = defaultdict(_Deals)
    for row in rows:
        asking[row.request_id][row.account_id] = row.arr
        feedback[row.request_id] += 1
        deals[row.request_id].add(row)
        if row.severity is Severity.HIGH and row.is_enterprise:
            dealbreaking[row.request_id][row.account_id] = row.arr
    figures = [
        RequestFigure(
            id=rid,
            slug=slug,
            title=title,
            arr=sum(asking[rid].values(), ZERO),
            accounts=len(asking[rid]),
            dealbreaker_arr=sum(dealbreaking[rid].values(), ZERO),
            dealbreaker_accounts=len(dealbreaking[rid]),
            feedback=feedback[rid],
            open_pipeline=sum(deals[rid].named.values(), ZERO),
            blocked_pipeline=sum(deals[rid].blocked.values(), ZERO),
        )
        for rid, slug, title in requests
    ]
    # Stable: equal ARR keeps the order requests were created in.
    return sorted(figures, key=lambda figure: (-figure.arr, -figure.feedback))


def _totals(rows: list[FeedbackRow]) -> dict[str, object]:
    everyone, dealbreakers = _Tally(), _Tally()
    segments: dict[str, _Tally] = defaultdict(_Tally)
    regions: dict[str, _Tally] = defaultdict(_Tally)
    severity = {level.value: 0 for level in Severity}
    deals = _Deals()
    for row in rows:
        everyone.add(row)
        deals.add(row)
        segments[segment_of(row)].add(row)
        regions[row.region or "Unknown"].add(row)
        severity[row.severity.value] += 1
        if row.severity is Severity.HIGH and row.is_enterprise:
            dealbreakers.add(row)
    total, deal = everyone.figure("all"), dealbreakers.figure("dealbreakers")
    return {
        "asking_arr": total.arr,
        "asking_accounts": total.accounts,
        "dealbreaker_arr": deal.arr,
        "dealbreaker_accounts": deal.accounts,
        "segments": _by_arr(segments),
        "regions": _by_arr(regions),
        "severity": severity,
        **deals.totals(),
    }


def _by_arr(tallies: dict[str, _Tally]) -> list[SegmentFigure]:
    figures = [tally.figure(label) for label, tally in tallies.items()]
    return sorted(figures, key=lambda figure: (-figure.arr, figure.label))


def request_vectors(
    session: Session, embedder: Embedder, requests: list[RequestFigure]
) -> npt.NDArray[np.float32]:
    """The requests' stored vectors, in order; a missing or stale one is embedded now."""
    ids = [request.id for request in requests]
    if not ids:
        return np.zeros((0, embedder.dimensions), dtype=np.float32)
    rows = {
        row.id: row
        for row in session.execute(
            select(
                FeatureRequest.id,
                FeatureRequest.title,
                FeatureRequest.description,
                FeatureRequest.embedding,
                FeatureRequest.embedding_model,
            ).where(FeatureRequest.id.in_(ids))
        )
    }
    matrix = np.zeros((len(ids), embedder.dimensions), dtype=np.float32)
    missing = []
    for index, request_id in enumerate(ids):
        row = rows[request_id]
        if row.embedding is not None and row.embedding_model == embedder.model_id:
            matrix[index] = from_bytes(row.embedding)
        else:
            missing.append(index)
    if missing:
        texts = [request_text(rows[ids[i]].title, rows[ids[i]].description) for i in missing]
        matrix[missing] = embedder.embed(texts)
    return matrix
