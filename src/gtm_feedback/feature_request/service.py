"""Feature requests: look-ups, upserts, and the ARR figures that rank them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVarTuple

from sqlalchemy import Select, Subquery, case, func, select
from sqlalchemy.orm import Session, selectinload

from gtm_feedback.account.models import Account
from gtm_feedback.db.upsert import insert_for
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.feature_request import pipeline, priority
from gtm_feedback.feature_request.models import (
    FeatureRequest,
    RequestStatus,
    request_areas,
    request_followers,
)
from gtm_feedback.feedback.models import Feedback, Severity
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.text.formats import LIKE_ESCAPE, contains_pattern

ZERO = Decimal("0.00")
_Cols = TypeVarTuple("_Cols")
_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}
_RANK_SEVERITY = {rank: severity for severity, rank in _SEVERITY_RANK.items()}


class RequestSort(StrEnum):
    """Orders offered by the requests list."""

    ARR = "arr"
    SCORE = "score"
    PIPELINE = "pipeline"
    BLOCKED = "blocked"
    RECENT = "recent"
    FEEDBACK = "feedback"


@dataclass(frozen=True)
class RequestFigures:
    """The derived figures of one request."""

    arr: Decimal = ZERO
    dealbreaker_arr: Decimal = ZERO
    account_count: int = 0
    feedback_count: int = 0
    highest_severity: Severity | None = None
    last_feedback_at: datetime | None = None
    #: Distinct open deals the feedback names, and those it says it blocks (``pipeline``).
    open_pipeline: Decimal = ZERO
    open_deals: int = 0
    blocked_pipeline: Decimal = ZERO
    blocked_deals: int = 0
    #: Accounts by their highest severity on the request (each account once).
    accounts_low: int = 0
    accounts_medium: int = 0
    accounts_high: int = 0


@dataclass(frozen=True)
class RequestRow:
    """A request with its figures, as lists and APIs show it."""

    request: FeatureRequest
    figures: RequestFigures
    areas: list[ProductArea] = field(default_factory=list)


def _scoped(query: Select[*_Cols], request_id: str | None) -> Select[*_Cols]:
    # One request's figures should not aggregate every request's feedback first.
    return query if request_id is None else query.where(Feedback.request_id == request_id)


def _arr_subquery(*, dealbreakers_only: bool, request_id: str | None) -> Subquery:
    # ARR counts each account once per request, however much feedback it left.
    pairs_q = _scoped(select(Feedback.request_id, Feedback.account_id).distinct(), request_id)
    if dealbreakers_only:
        pairs_q = pairs_q.where(Feedback.severity == Severity.HIGH)
    pairs = pairs_q.subquery()
    query = (
        select(
            pairs.c.request_id,
            func.sum(Account.arr).label("arr"),
            func.count(Account.id).label("accounts"),
        )
        .join(Account, Account.id == pairs.c.account_id)
        .group_by(pairs.c.request_id)
    )
    if dealbreakers_only:
        query = query.where(Account.is_enterprise.is_(True))
    return query.subquery()


def _rank() -> Any:
    # Severity as a number, so the highest is a MAX.
    return case(*((Feedback.severity == sev, n) for sev, n in _SEVERITY_RANK.items()), else_=0)


def _activity_subquery(request_id: str | None) -> Subquery:
    rank = _rank()
    query = select(
        Feedback.request_id,
        func.count(Feedback.id).label("feedback_count"),
        func.max(rank).label("severity_rank"),
        func.max(Feedback.created_at).label("last_feedback_at"),
    )
    return _scoped(query, request_id).group_by(Feedback.request_id).subquery()


def _severity_subquery(request_id: str | None) -> Subquery:
    # Each account once, at its highest severity on the request.
    rank = _rank()
    per_account = _scoped(
        select(Feedback.request_id, func.max(rank).label("rank")).group_by(
            Feedback.request_id, Feedback.account_id
        ),
        request_id,
    ).subquery()
    counts = [
        func.sum(case((per_account.c.rank == n, 1), else_=0)).label(f"accounts_{severity.value}")
        for severity, n in _SEVERITY_RANK.items()
    ]
    return select(per_account.c.request_id, *counts).group_by(per_account.c.request_id).subquery()


def _figures_query(request_id: str | None = None) -> Select[Any]:
    arr, deal, act = (
        _arr_subquery(dealbreakers_only=False, request_id=request_id),
        _arr_subquery(dealbreakers_only=True, request_id=request_id),
        _activity_subquery(request_id),
    )
    named, blocked = (
        pipeline.deals_subquery(blocked_only=False, request_id=request_id),
        pipeline.deals_subquery(blocked_only=True, request_id=request_id),
    )
    sev = _severity_subquery(request_id)
    return (
        select(
            FeatureRequest,
            func.coalesce(arr.c.arr, ZERO).label("arr"),
            func.coalesce(deal.c.arr, ZERO).label("dealbreaker_arr"),
            func.coalesce(arr.c.accounts, 0).label("account_count"),
            func.coalesce(act.c.feedback_count, 0).label("feedback_count"),
            act.c.severity_rank,
            act.c.last_feedback_at,
            func.coalesce(named.c.arr, ZERO).label("open_pipeline"),
            func.coalesce(named.c.deals, 0).label("open_deals"),
            func.coalesce(blocked.c.arr, ZERO).label("blocked_pipeline"),
            func.coalesce(blocked.c.deals, 0).label("blocked_deals"),
            func.coalesce(sev.c.accounts_low, 0).label("accounts_low"),
            func.coalesce(sev.c.accounts_medium, 0).label("accounts_medium"),
            func.coalesce(sev.c.accounts_high, 0).label("accounts_high"),
        )
        .outerjoin(arr, arr.c.request_id == FeatureRequest.id)
        .outerjoin(deal, deal.c.request_id == FeatureRequest.id)
        .outerjoin(act, act.c.request_id == FeatureRequest.id)
        .outerjoin(named, named.c.request_id == FeatureRequest.id)
        .outerjoin(blocked, blocked.c.request_id == FeatureRequest.id)
        .outerjoin(sev, sev.c.request_id == FeatureRequest.id)
    )


def _row_figures(row: Any) -> RequestFigures:
    return RequestFigures(
        arr=row.arr,
        dealbreaker_arr=row.dealbreaker_arr,
        account_count=int(row.account_count),
        feedback_count=int(row.feedback_count),
        highest_severity=_RANK_SEVERITY.get(row.severity_rank or 0),
        last_feedback_at=row.last_feedback_at,
        open_pipeline=Decimal(row.open_pipeline),
        open_deals=int(row.open_deals),
        blocked_pipeline=Decimal(row.blocked_pipeline),
        blocked_deals=int(row.blocked_deals),
        accounts_low=int(row.accounts_low),
        accounts_medium=int(row.accounts_medium),
        accounts_high=int(row.accounts_high),
    )


def figures(*, session: Session, request_id: str) -> RequestFigures:
    """ARR, dealbreaker ARR and feedback counts of one request."""
    stmt = _figures_query(request_id).where(FeatureRequest.id == request_id)
    row = session.execute(stmt).one_or_none()
    return RequestFigures() if row is None else _row_figures(row)


def request_arr(*, session: Session, request_id: str) -> Decimal:
    """Sum of ARR over the distinct accounts that left feedback on the request."""
    return figures(session=session, request_id=request_id).arr


def dealbreaker_arr(*, session: Session, request_id: str) -> Decimal:
    """Sum of ARR over distinct enterprise accounts with high-severity feedback on it."""
    return figures(session=session, request_id=request_id).dealbreaker_arr


@dataclass(frozen=True)
class RequestQuery:
    """Filters, order and page of the requests list."""

    area_slug: str | None = None
    status: RequestStatus | None = None
    severity: Severity | None = None  # has feedback of this severity
    enterprise_only: bool = False  # has feedback from an enterprise account
    text: str = ""  # in the title or description
    sort: RequestSort = RequestSort.ARR
    weights: priority.Weights = field(default_factory=priority.Weights)  # for the score sort
    limit: int = 50
    offset: int = 0


def list_requests(*, session: Session, query: RequestQuery) -> tuple[list[RequestRow], int]:
    """One page of requests with their figures, and the total matching the filters."""
    stmt = _filtered(_figures_query(), query)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    order = _order(stmt, query, session.get_bind().dialect.name)
    stmt = stmt.order_by(*order, FeatureRequest.created_at.desc(), FeatureRequest.id)
    rows = session.execute(stmt.limit(query.limit).offset(query.offset)).all()
    areas = areas_by_request(session=session, request_ids=[row.FeatureRequest.id for row in rows])
    page = [
        RequestRow(row.FeatureRequest, _row_figures(row), areas.get(row.FeatureRequest.id, []))
        for row in rows
    ]
    return page, int(total)


def _filtered(stmt: Select[*_Cols], query: RequestQuery) -> Select[*_Cols]:
    if not query.text.strip():  # merged requests show up only when searched for, as pointers
        stmt = stmt.where(FeatureRequest.merged_into_id.is_(None))
    if query.area_slug is not None:
        stmt = stmt.where(
            FeatureRequest.id.in_(
                select(request_areas.c.request_id)
                .join(ProductArea, ProductArea.id == request_areas.c.area_id)
                .where(ProductArea.slug == query.area_slug)
            )
        )
    if query.status is not None:
        stmt = stmt.where(FeatureRequest.status == query.status)
    return _filter_feedback(stmt, query)


def matching_ids(*, session: Session, query: RequestQuery, among: Iterable[str]) -> set[str]:
    """Which of the ``among`` requests the list would show with ``query``'s filters."""
    ids = set(among)
    if not ids:
        return set()
    stmt = _filtered(select(FeatureRequest.id), query).where(FeatureRequest.id.in_(ids))
    return set(session.scalars(stmt))


def _order(stmt: Select[Any], query: RequestQuery, dialect: str) -> list[Any]:
    cols = stmt.selected_columns
    return {
        RequestSort.ARR: [cols.arr.desc()],
        RequestSort.SCORE: [
            priority.order_by(cols, query.weights, dialect).desc(),
            cols.arr.desc(),
        ],
        RequestSort.PIPELINE: [
            cols.open_pipeline.desc(),
            cols.blocked_pipeline.desc(),
            cols.arr.desc(),
        ],
        RequestSort.BLOCKED: [
            cols.blocked_pipeline.desc(),
            cols.open_pipeline.desc(),
            cols.arr.desc(),
        ],
        # Ties in feedback count go to the request worth more.
        RequestSort.FEEDBACK: [
            cols.feedback_count.desc(),
            cols.arr.desc(),
        ],
        RequestSort.RECENT: [
            func.coalesce(cols.last_feedback_at, FeatureRequest.created_at).desc()
        ],
    }[query.sort]


def _filter_feedback(stmt: Select[*_Cols], query: RequestQuery) -> Select[*_Cols]:
    if query.severity is not None:
        having = select(Feedback.request_id).where(Feedback.severity == query.severity)
        stmt = stmt.where(FeatureRequest.id.in_(having))
    if query.enterprise_only:
        enterprise = (
            select(Feedback.request_id)
            .join(Account, Account.id == Feedback.account_id)
            .where(Account.is_enterprise.is_(True))
        )
        stmt = stmt.where(FeatureRequest.id.in_(enterprise))
    text = query.text.strip()
    if text:
        like = contains_pattern(text)
        stmt = stmt.where(
            FeatureRequest.title.ilike(like, escape=LIKE_ESCAPE)
            | FeatureRequest.description.ilike(like, escape=LIKE_ESCAPE)
        )
    return stmt


def areas_by_request(
    *, session: Session, request_ids: Sequence[str]
) -> dict[str, list[ProductArea]]:
    """The areas of each given request, in one query."""
    result: dict[str, list[ProductArea]] = {rid: [] for rid in request_ids}
    if not request_ids:
        return result
    rows = session.execute(
        select(request_areas.c.request_id, ProductArea)
        .join(ProductArea, ProductArea.id == request_areas.c.area_id)
        .where(request_areas.c.request_id.in_(request_ids))
        .order_by(ProductArea.name)
    ).all()
    for request_id, area in rows:
        result[request_id].append(area)
    return result


def get_by_slug(*, session: Session, slug: str) -> FeatureRequest | None:
    """The request with this slug, its areas and followers loaded."""
    return session.scalar(
        select(FeatureRequest)
        .where(FeatureRequest.slug == slug)
        .options(selectinload(FeatureRequest.areas), selectinload(FeatureRequest.followers))
    )


def feedback_of(*, session: Session, request_id: str) -> list[Feedback]:
    """The request's feedback, newest first, with accounts loaded."""
    return list(
        session.scalars(
            select(Feedback)
            .where(Feedback.request_id == request_id)
            .options(
                selectinload(Feedback.account),
                selectinload(Feedback.creator),
                selectinload(Feedback.opportunity),
            )
            .order_by(Feedback.created_at.desc(), Feedback.id)
        )
    )


def set_areas(*, session: Session, request: FeatureRequest, area_ids: Iterable[str]) -> None:
    """Replace the request's areas; every id must exist."""
    ids = list(dict.fromkeys(area_ids))
    found = list(session.scalars(select(ProductArea).where(ProductArea.id.in_(ids))))
    missing = set(ids) - {area.id for area in found}
    if missing:
        raise InvalidInputError(f"unknown product area ids: {', '.join(sorted(missing))}")
    if not found:
        raise InvalidInputError("a request needs at least one product area")
    request.areas = sorted(found, key=lambda area: area.name)


def follow(*, session: Session, request_id: str, user_id: str) -> bool:
    """Make the user a follower of the request; False if they already were.

    One statement, ``ON CONFLICT DO NOTHING``: two runs making the same person follow at once
    (a burst of their submissions) both succeed, and only one of them says True.
    """
    statement = (
        insert_for(session, request_followers)
        .values(request_id=request_id, user_id=user_id)
        .on_conflict_do_nothing()
        .returning(request_followers.c.user_id)
    )
    return session.execute(statement).first() is not None


def resolve(*, session: Session, id_or_slug: str) -> FeatureRequest | None:
    """The request with this id, or else with this slug."""
    found = session.get(FeatureRequest, id_or_slug)
    return found or session.scalar(select(FeatureRequest).where(FeatureRequest.slug == id_or_slug))


def get(*, session: Session, request_id: str) -> FeatureRequest | None:
    """The request with this id, if any."""
    return session.get(FeatureRequest, request_id)


def by_ids(*, session: Session, ids: Iterable[str]) -> dict[str, FeatureRequest]:
    """The requests with these ids, by id (unknown ids are left out)."""
    found = session.scalars(select(FeatureRequest).where(FeatureRequest.id.in_(set(ids))))
    return {row.id: row for row in found}
