"""Change a request through the API: title, description, status, areas, tracker link; and
follow or unfollow it. Each change is audited; a changed text is embedded again at once, so
matching never compares with words the request no longer has."""

from __future__ import annotations

from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID
from sqlalchemy.orm import Session

from gtm_feedback.durable.idempotency import run_id_for
from gtm_feedback.errors import ConflictError, InvalidInputError
from gtm_feedback.feature_request import embeddings, service
from gtm_feedback.feature_request.models import FeatureRequest, RequestStatus
from gtm_feedback.feature_request.schemas import RequestPatch
from gtm_feedback.feature_request.workflows import MarkShippedInput, mark_shipped_workflow
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.product_area import service as areas
from gtm_feedback.user import audit
from gtm_feedback.user import service as users
from gtm_feedback.user.audit import Actor


@dataclass(frozen=True)
class Edited:
    """What changed, and the mark-shipped run a change to *shipped* asks for (started by
    :func:`ship` once the rest is committed)."""

    changed: list[str]
    run_id: str | None


def edit(
    session: Session, request: FeatureRequest, patch: RequestPatch, actor: Actor, key: str | None
) -> Edited:
    """Apply ``patch`` in the caller's transaction; ``key`` makes a shipping run idempotent.

    A change to *shipped* is left to the run (it sets the status once and tells everyone):
    commit, then :func:`ship`, so the run reads the other changes of the same call.
    """
    if request.merged_into_id is not None:
        raise ConflictError(f"{request.slug} was merged: change the request it was merged into")
    given = patch.model_fields_set
    changed = _texts(request, patch, given)
    if "areas" in given and patch.areas is not None:
        changed += _areas(session, request, patch.areas)
    if {"title", "description"} & set(changed) and request.embedding is not None:
        embedder = get_embedder(adapters.current().settings)
        embeddings.embed_requests(session=session, embedder=embedder, ids=[request.id])
    run_id = None  # last: the shipping run starts only once everything else went through
    if "status" in given and patch.status is not None and patch.status != request.status:
        changed.append("status")
        run_id = _status(request, patch.status, key)
    if changed:
        detail = ", ".join(changed) + (f"; run {run_id}" if run_id else "")
        audit.record(
            session=session, actor=actor, action="request.edit", target=request.slug, detail=detail
        )
    return Edited(changed, run_id)


def _texts(request: FeatureRequest, patch: RequestPatch, given: set[str]) -> list[str]:
    if "title" in given and patch.title is None:
        raise InvalidInputError([("title", "a request needs a title")])
    wanted = {
        "title": patch.title,
        "description": patch.description or "",
        "tracker_url": str(patch.tracker_url) if patch.tracker_url is not None else None,
    }
    changed = [name for name in wanted if name in given and getattr(request, name) != wanted[name]]
    for name in changed:
        setattr(request, name, wanted[name])
    return changed


def _areas(session: Session, request: FeatureRequest, slugs: list[str]) -> list[str]:
    found = {slug: areas.get_by_slug(session=session, slug=slug) for slug in slugs}
    unknown = sorted(slug for slug, area in found.items() if area is None)
    if unknown:
        raise InvalidInputError([("areas", f"unknown product areas: {', '.join(unknown)}")])
    ids = {area.id for area in found.values() if area is not None}
    if ids == {area.id for area in request.areas}:
        return []
    service.set_areas(session=session, request=request, area_ids=ids)
    return ["areas"]


def _status(request: FeatureRequest, status: RequestStatus, key: str | None) -> str | None:
    if status is not RequestStatus.SHIPPED:
        request.status, request.shipped_at = status, None  # reopened: no longer shipped
        return None
    return run_id_for("mark-shipped", key)


def ship(request_id: str, run_id: str) -> None:
    """Start the mark-shipped run :func:`edit` asked for (the same id twice: one run)."""
    with SetWorkflowID(run_id):
        DBOS.start_workflow(mark_shipped_workflow, MarkShippedInput(request=request_id))


def set_following(session: Session, request: FeatureRequest, email: str, follow: bool) -> int:
    """Make the person with ``email`` follow (or stop following) ``request``; how many
    follow it now."""
    user = users.get_or_create(session=session, email=email)
    if follow:
        service.follow(session=session, request_id=request.id, user_id=user.id)
    else:
        request.followers = [f for f in request.followers if f.id != user.id]
    session.flush()
    session.expire(request, ["followers"])  # the insert above bypassed the loaded list
    return len(request.followers)
