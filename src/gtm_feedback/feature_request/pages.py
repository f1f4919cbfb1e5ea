"""HTML pages of requests: the ranked list with filters, and one request with its actions."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.errors import NotFoundError
from gtm_feedback.feature_request import merging, priority, service
from gtm_feedback.feature_request.merge_workflows import MergeResult, UnmergeResult
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feature_request.service import RequestQuery, RequestSort
from gtm_feedback.feature_request.workflows import MarkShippedInput, mark_shipped_workflow
from gtm_feedback.feedback.models import Severity
from gtm_feedback.product_area import service as areas
from gtm_feedback.user import audit
from gtm_feedback.user import service as users
from gtm_feedback.user.access import VIEWER, Approver, Member
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.templating import templates

SORT_LABELS = [
    ("arr", "ARR"),
    ("score", "Priority score"),
    ("pipeline", "Open pipeline"),
    ("blocked", "Blocked pipeline"),
    ("feedback", "Feedback count"),
    ("recent", "Recent activity"),
]

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 25


def _request_or_404(session: Session, slug: str) -> FeatureRequest:
    found = service.get_by_slug(session=session, slug=slug)
    if found is None:
        raise NotFoundError(f"no feature request with slug {slug!r}")
    return found


def _blank(value: str | None) -> str | None:
    return value or None


@router.get("/requests", response_class=HTMLResponse, dependencies=[VIEWER])
def requests_page(
    request: Request,
    session: DbSession,
    area: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    severity: Annotated[str | None, Query()] = None,
    enterprise: Annotated[bool, Query()] = False,
    q: Annotated[str, Query(max_length=200)] = "",
    sort: Annotated[str, Query()] = RequestSort.ARR.value,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """Requests ranked by ARR (or score, pipeline, feedback, recency), filtered; the filters
    live in the URL."""
    weights = priority.load(session)
    query = _query(area, status, severity, enterprise, q, sort, page, weights)
    rows, total = service.list_requests(session=session, query=query)
    filters = {
        "area": query.area_slug or "",
        "status": query.status.value if query.status else "",
        "severity": query.severity.value if query.severity else "",
        "enterprise": "true" if enterprise else "",
        "q": q,
        "sort": query.sort.value,
    }
    pages = max(1, math.ceil(total / PAGE_SIZE))
    context = {
        "rows": rows,
        "total": total,
        "filters": filters,
        "areas": areas.list_areas(session=session),
        "statuses": list(RequestStatus),
        "severities": list(Severity),
        "sorts": SORT_LABELS,
        "score": lambda figures: priority.score(figures, weights),
        "page": page,
        "pages": pages,
        "page_url": lambda n: "/requests?" + urlencode({**_kept(filters), "page": n}),
    }
    return templates.TemplateResponse(request, "requests.html", context)


def _query(
    area: str | None,
    status: str | None,
    severity: str | None,
    enterprise: bool,
    q: str,
    sort: str,
    page: int,
    weights: priority.Weights,
) -> RequestQuery:
    # Unknown values in the URL fall back to no filter (the page is a link people edit).
    return RequestQuery(
        area_slug=_blank(area),
        status=RequestStatus(status) if status in set(RequestStatus) else None,
        severity=Severity(severity) if severity in set(Severity) else None,
        enterprise_only=enterprise,
        text=q,
        sort=RequestSort(sort) if sort in set(RequestSort) else RequestSort.ARR,
        weights=weights,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )


def _kept(filters: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in filters.items() if value}


def _run_banner(run_id: str) -> dict[str, Any] | None:
    status = DBOS.get_workflow_status(run_id)
    if status is None:
        return None
    if status.status not in FINISHED:
        doing = "Merging…" if "merge" in status.name else "Marking shipped…"
        return {"id": run_id, "tone": "info", "running": True, "message": doing}
    result = status.output
    if status.status == "SUCCESS" and isinstance(result, MergeResult | UnmergeResult):
        return {"id": run_id, "tone": "ok", "running": False, "message": result.summary()}
    if status.status == "SUCCESS" and result is not None:
        return {"id": run_id, "tone": "ok", "running": False, "message": result.summary()}
    return {"id": run_id, "tone": "error", "running": False, "message": f"{status.status}."}


@router.get("/requests/{slug}", response_class=HTMLResponse, dependencies=[VIEWER])
def request_page(
    request: Request,
    slug: str,
    session: DbSession,
    eid: Annotated[str | None, Query(max_length=60)] = None,
    run: Annotated[str | None, Query(max_length=200)] = None,
    merged_from: Annotated[str | None, Query(max_length=120)] = None,
) -> Response:
    """One request: figures, status, areas, feedback (``?eid=`` highlights one), followers."""
    found = _request_or_404(session, slug)
    if found.merged_into_id is not None:  # a tombstone: on to where it was merged
        live = merging.live(session, found)
        return RedirectResponse(f"/requests/{live.slug}?merged_from={found.slug}", 303)
    banner = _run_banner(run) if run else None
    figures = service.figures(session=session, request_id=found.id)
    context = {
        "item": found,
        "merges": merging.merges_of(session=session, request_id=found.id),
        "merged_from": merged_from,
        "figures": figures,
        "score": priority.breakdown(figures, priority.load(session)),
        "feedback": service.feedback_of(session=session, request_id=found.id),
        "highlight": eid,
        "statuses": list(RequestStatus),
        "all_areas": areas.list_areas(session=session),
        "banner": banner,
        "refresh": bool(banner and banner["running"]),
    }
    return templates.TemplateResponse(request, "request.html", context)


@router.post("/requests/{slug}/status")
def change_status(
    slug: str, session: DbWrite, who: Approver, status: Annotated[RequestStatus, Form()]
) -> RedirectResponse:
    """Set the status; *shipped* runs the mark-shipped workflow, which tells every follower."""
    found = _request_or_404(session, slug)
    audit.record(
        session=session, actor=who.actor, action="request.status", target=slug, detail=status
    )
    if status is RequestStatus.SHIPPED:
        run_id = f"mark-shipped-{uuid.uuid4().hex}"
        with SetWorkflowID(run_id):
            DBOS.start_workflow(mark_shipped_workflow, MarkShippedInput(request=found.id))
        return RedirectResponse(f"/requests/{slug}?run={run_id}", status_code=303)
    found.status = status
    found.shipped_at = None  # reopened or deprioritized: no longer shipped
    return RedirectResponse(f"/requests/{slug}", status_code=303)


@router.post("/requests/{slug}/areas")
def change_areas(
    slug: str, session: DbWrite, who: Approver, area_ids: Annotated[list[str], Form()]
) -> RedirectResponse:
    """Replace the request's areas (at least one)."""
    found = _request_or_404(session, slug)
    service.set_areas(session=session, request=found, area_ids=area_ids)
    detail = ", ".join(area_ids)
    audit.record(
        session=session, actor=who.actor, action="request.areas", target=slug, detail=detail
    )
    return RedirectResponse(f"/requests/{slug}", status_code=303)


@router.post("/requests/{slug}/followers")
def follow(
    slug: str,
    session: DbWrite,
    who: Member,
    action: Annotated[str, Form()] = "follow",
) -> RedirectResponse:
    """Follow (or unfollow) the request as the signed-in person."""
    found = _request_or_404(session, slug)
    user = users.get_or_create(session=session, email=who.email)
    if action == "unfollow":
        found.followers = [f for f in found.followers if f.id != user.id]
    else:
        service.follow(session=session, request_id=found.id, user_id=user.id)
    return RedirectResponse(f"/requests/{slug}", status_code=303)
