"""JSON API of feature requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from gtm_feedback.durable.idempotency import scoped
from gtm_feedback.errors import NotFoundError
from gtm_feedback.feature_request import editing, merging, priority, service
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feature_request.schemas import (
    AreaRef,
    FeedbackWithAccount,
    Following,
    RequestDetail,
    RequestEdited,
    RequestPatch,
    RequestSummary,
)
from gtm_feedback.feature_request.service import RequestFigures, RequestQuery, RequestSort
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.feedback.schemas import FeedbackOut
from gtm_feedback.product_area.models import ProductArea
from gtm_feedback.user.access import VIEWER, Approver, Member, Principal
from gtm_feedback.web.deps import AppSettings, DbSession, DbWrite
from gtm_feedback.web.pagination import Page, PageParams, page_of

router = APIRouter(prefix="/api/requests", tags=["requests"])


def _summary(
    request: FeatureRequest,
    figures: RequestFigures,
    areas: list[ProductArea],
    base_url: str,
    weights: priority.Weights,
) -> dict[str, object]:
    return {
        "id": request.id,
        "slug": request.slug,
        "title": request.title,
        "status": request.status,
        "areas": [AreaRef(slug=area.slug, name=area.name) for area in areas],
        "arr": figures.arr,
        "dealbreaker_arr": figures.dealbreaker_arr,
        "account_count": figures.account_count,
        "feedback_count": figures.feedback_count,
        "highest_severity": figures.highest_severity,
        "open_pipeline": figures.open_pipeline,
        "open_deals": figures.open_deals,
        "blocked_pipeline": figures.blocked_pipeline,
        "blocked_deals": figures.blocked_deals,
        "score": priority.score(figures, weights),
        "last_activity_at": max(
            filter(None, [figures.last_feedback_at, request.created_at, request.shipped_at])
        ),
        "url": f"{base_url}/requests/{request.slug}",
        "merged_into": request.merged_into.slug if request.merged_into else None,
    }


@router.get("", response_model=Page[RequestSummary], dependencies=[VIEWER])
def list_requests(
    session: DbSession,
    settings: AppSettings,
    paging: PageParams,
    area: Annotated[str | None, Query(description="Product area slug")] = None,
    status: RequestStatus | None = None,
    sort: RequestSort = RequestSort.ARR,
    q: Annotated[
        str,
        Query(
            max_length=200,
            description="Words in the title or description; also finds merged requests, "
            "each with `merged_into`",
        ),
    ] = "",
) -> Page[RequestSummary]:
    """Requests ranked by ARR (default), priority score, open or blocked pipeline, feedback
    count or recent activity."""
    weights = priority.load(session)
    query = RequestQuery(
        area_slug=area,
        status=status,
        text=q,
        sort=sort,
        weights=weights,
        limit=paging.limit,
        offset=paging.offset,
    )
    rows, total = service.list_requests(session=session, query=query)
    items = [
        RequestSummary.model_validate(
            _summary(r.request, r.figures, r.areas, settings.base_url, weights)
        )
        for r in rows
    ]
    return page_of(items, total, paging)


def _feedback_out(item: Feedback) -> FeedbackWithAccount:
    return FeedbackWithAccount(
        **FeedbackOut.model_validate(item).model_dump(),
        account_name=item.account.name,
        account_arr=item.account.arr,
        account_is_enterprise=item.account.is_enterprise,
    )


@router.get(
    "/{slug}",
    response_model=RequestDetail,
    responses={
        404: {"description": "No such request"},
        308: {"description": "Merged into another request: its URL in Location"},
    },
    dependencies=[VIEWER],
)
def get_request(
    slug: str, session: DbSession, settings: AppSettings
) -> RequestDetail | RedirectResponse:
    """One request with its figures, followers and feedback; a merged one redirects (308) to
    the request it was merged into."""
    request = _found(session, slug)
    if request.merged_into_id is not None:
        live = merging.live(session, request)
        return RedirectResponse(f"/api/requests/{live.slug}", status_code=308)
    return request_detail(session, request, settings.base_url)


def request_detail(session: Session, request: FeatureRequest, base_url: str) -> RequestDetail:
    """One request as the API shows it: figures, areas, followers, feedback."""
    figures = service.figures(session=session, request_id=request.id)
    weights = priority.load(session)
    related = request.related_request
    return RequestDetail.model_validate(
        _summary(request, figures, request.areas, base_url, weights)
        | {
            "score_breakdown": [
                vars(t) | {"points": t.points} for t in priority.breakdown(figures, weights)
            ],
            "description": request.description,
            "tracker_url": request.tracker_url,
            "related_request_slug": related.slug if related else None,
            "followers": sorted(user.email for user in request.followers),
            "feedback": [
                _feedback_out(item)
                for item in service.feedback_of(session=session, request_id=request.id)
            ],
            "created_at": request.created_at,
        }
    )


def _found(session: Session, slug: str) -> FeatureRequest:
    request = service.get_by_slug(session=session, slug=slug)
    if request is None:
        raise NotFoundError(f"no feature request with slug {slug!r}")
    return request


@router.patch(
    "/{slug}",
    response_model=RequestEdited,
    responses={
        404: {"description": "No such request"},
        409: {"description": "The request was merged into another"},
    },
)
def edit_request(
    slug: str,
    patch: RequestPatch,
    session: DbWrite,
    settings: AppSettings,
    who: Approver,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestEdited:
    """Change title, description, status, areas (slugs) or tracker link (approvers); fields
    left out stay. ``status: shipped`` starts the mark-shipped run (``run_id``), which tells
    every follower once; the slug stays, so links keep working."""
    request = _found(session, slug)
    edited = editing.edit(session, request, patch, who.actor, scoped(idempotency_key, who.user_id))
    session.commit()  # the shipping run reads what this call changed: committed first
    if edited.run_id is not None:
        editing.ship(request.id, edited.run_id)
    detail = request_detail(session, request, settings.base_url)
    return RequestEdited(**detail.model_dump(), changed=edited.changed, run_id=edited.run_id)


def _follow(session: Session, slug: str, who: Principal, follow: bool) -> Following:
    request = _found(session, slug)
    if request.merged_into_id is not None:
        request = merging.live(session, request)  # follow what it became
    count = editing.set_following(session, request, who.email, follow)
    return Following(request=request.slug, following=follow, followers=count)


@router.put(
    "/{slug}/follow", response_model=Following, responses={404: {"description": "No such request"}}
)
def follow(slug: str, session: DbWrite, who: Member) -> Following:
    """Follow the request as the caller: told when it ships (following twice is once)."""
    return _follow(session, slug, who, follow=True)


@router.delete(
    "/{slug}/follow", response_model=Following, responses={404: {"description": "No such request"}}
)
def unfollow(slug: str, session: DbWrite, who: Member) -> Following:
    """Stop following the request (not following it is not an error)."""
    return _follow(session, slug, who, follow=False)
