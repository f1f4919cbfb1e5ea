"""JSON API of merges: preview, merge, undo."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from dbos import DBOS
from fastapi import APIRouter, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.durable.idempotency import check_same_input, run_id_for, scoped
from gtm_feedback.errors import NotFoundError
from gtm_feedback.feature_request import merging, service
from gtm_feedback.feature_request.merge_workflows import MergeInput, start_merge, start_unmerge
from gtm_feedback.feature_request.models import RequestMerge
from gtm_feedback.user.access import VIEWER, Approver
from gtm_feedback.web.deps import DbSession

router = APIRouter(prefix="/api", tags=["requests"])
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such request"},
    409: {"description": "Already merged"},
    422: {"description": "Into itself"},
}


class MergePreview(BaseModel):
    """What merging ``source`` into ``survivor`` would move."""

    source: str
    survivor: str
    feedback: int
    followers: list[str]
    areas: list[str]
    arr_before: Decimal
    arr_after: Decimal


class MergeBody(BaseModel):
    """The request to merge into (id or slug)."""

    model_config = ConfigDict(extra="forbid")

    into: str = Field(min_length=1, max_length=200, examples=["saml-single-sign-on"])


class MergeStarted(BaseModel):
    """The run that merges (its id is the merge's id, for undo) or unmerges."""

    run_id: str
    merge_id: str


@router.get(
    "/requests/{slug}/merge-preview",
    response_model=MergePreview,
    responses=_ERRORS,
    dependencies=[VIEWER],
)
def preview(
    slug: str, session: DbSession, into: Annotated[str, Query(min_length=1, max_length=200)]
) -> MergePreview:
    """What a merge of this request into ``into`` would move, and the survivor's ARR after."""
    plan = merging.plan(session=session, source=slug, survivor=into)
    return MergePreview(
        source=plan.source.slug,
        survivor=plan.survivor.slug,
        feedback=plan.feedback,
        followers=plan.followers,
        areas=plan.areas,
        arr_before=plan.arr_before,
        arr_after=plan.arr_after,
    )


@router.post(
    "/requests/{slug}/merge", status_code=202, response_model=MergeStarted, responses=_ERRORS
)
def merge(
    slug: str,
    body: MergeBody,
    session: DbSession,
    who: Approver,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> MergeStarted:
    """Merge this request into another (approvers); the followers of both are told once."""
    key = scoped(idempotency_key, who.user_id)
    run_id = run_id_for("merge-requests", key)
    if key is not None and DBOS.get_workflow_status(run_id) is not None:
        # A retried POST: its merge may be done already, and then "already merged" is no answer.
        source = service.resolve(session=session, id_or_slug=slug)
        into = service.resolve(session=session, id_or_slug=body.into)
        if source is not None and into is not None:
            asked = MergeInput(source=source.id, survivor=into.id, merged_by=who.actor.label)
            check_same_input(run_id, key, asked)  # 409 when the key came with another body
            return MergeStarted(run_id=run_id, merge_id=run_id)
    plan = merging.plan(session=session, source=slug, survivor=body.into)
    data = MergeInput(source=plan.source.id, survivor=plan.survivor.id, merged_by=who.actor.label)
    start_merge(data, run_id)
    check_same_input(run_id, key, data)
    return MergeStarted(run_id=run_id, merge_id=run_id)


@router.post(
    "/merges/{merge_id}/undo",
    status_code=202,
    response_model=MergeStarted,
    responses={404: {"description": "No such merge"}},
)
def undo(merge_id: str, session: DbSession, who: Approver) -> MergeStarted:
    """Unmerge (approvers): what the merge moved goes back. Once per merge: a repeat returns
    the same run."""
    if session.get(RequestMerge, merge_id) is None:
        raise NotFoundError(f"no merge {merge_id!r}")
    handle = start_unmerge(merge_id, who.actor.label)
    return MergeStarted(run_id=handle.workflow_id, merge_id=merge_id)
