"""HTML pages of merges: pick the request to merge into, see what moves, confirm; undo."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.errors import AppError, NotFoundError
from gtm_feedback.feature_request import merging, service
from gtm_feedback.feature_request.merge_workflows import MergeInput, start_merge, start_unmerge
from gtm_feedback.feature_request.models import RequestMerge
from gtm_feedback.user.access import Approver
from gtm_feedback.web.deps import DbSession
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/requests/{slug}/merge", response_class=HTMLResponse)
def merge_page(
    request: Request,
    slug: str,
    session: DbSession,
    _who: Approver,
    into: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Choose the request to merge into; with ``?into=``, what the merge would move."""
    found = service.get_by_slug(session=session, slug=slug)
    if found is None:
        raise NotFoundError(f"no feature request with slug {slug!r}")
    plan, problem = None, None
    if into:
        try:
            plan = merging.plan(session=session, source=slug, survivor=into.strip())
        except AppError as exc:  # shown beside the form, to choose again
            problem = str(exc)
    context = {"item": found, "into": into or "", "plan": plan, "problem": problem}
    return templates.TemplateResponse(request, "merge.html", context)


@router.post("/requests/{slug}/merge")
def merge(
    slug: str, session: DbSession, who: Approver, into: Annotated[str, Form(max_length=200)]
) -> RedirectResponse:
    """Start the merge; the survivor's page shows how it went."""
    plan = merging.plan(session=session, source=slug, survivor=into.strip())
    data = MergeInput(source=plan.source.id, survivor=plan.survivor.id, merged_by=who.actor.label)
    run_id = start_merge(data).workflow_id
    return RedirectResponse(f"/requests/{plan.survivor.slug}?run={run_id}", status_code=303)


@router.post("/merges/{merge_id}/undo")
def undo(merge_id: str, session: DbSession, who: Approver) -> RedirectResponse:
    """Start the unmerge; the restored request's page shows how it went."""
    record = session.get(RequestMerge, merge_id)
    if record is None:
        raise NotFoundError(f"no merge {merge_id!r}")
    source = service.get(session=session, request_id=record.source_id)
    assert source is not None  # a merge goes with its requests
    run_id = start_unmerge(merge_id, who.actor.label).workflow_id
    return RedirectResponse(f"/requests/{source.slug}?run={run_id}", status_code=303)
