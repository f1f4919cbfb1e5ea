"""Durable merge and unmerge of requests; the followers of both hear once about a merge."""

from __future__ import annotations

from dbos import DBOS, SetWorkflowID, WorkflowHandle
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.fanout import fan_out
from gtm_feedback.durable.idempotency import run_id_for
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import DB_RETRY, OUTBOUND_RETRY
from gtm_feedback.errors import (
    AppError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermanentError,
)
from gtm_feedback.feature_request import merging, service
from gtm_feedback.feature_request.models import FeatureRequest, RequestMerge
from gtm_feedback.feature_request.workflows import tell_follower
from gtm_feedback.feedback.agents import MessageKind
from gtm_feedback.integrations import adapters
from gtm_feedback.user import audit


class MergeInput(BaseModel):
    """Merge ``source`` into ``survivor`` (ids or slugs); ``merged_by`` names who asked."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=200)
    survivor: str = Field(min_length=1, max_length=200)
    merged_by: str = Field(default="system", min_length=1, max_length=320)


class MergeResult(BaseModel):
    """What moved, and who was told."""

    merge_id: str
    source_slug: str
    survivor_slug: str
    feedback_moved: int
    followers_added: int
    areas_added: int
    notified: int
    failed: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """One line for the page that started it."""
        return (
            f"Merged {self.source_slug} here: {self.feedback_moved} feedback moved, "
            f"{self.notified} followers told."
        )


class UnmergeInput(BaseModel):
    """Undo the merge ``merge_id`` (the id of the run that merged)."""

    model_config = ConfigDict(extra="forbid")

    merge_id: str = Field(min_length=1, max_length=200)
    undone_by: str = Field(default="system", min_length=1, max_length=320)


class UnmergeResult(BaseModel):
    """The two requests apart again, and how much went back."""

    merge_id: str
    source_slug: str
    survivor_slug: str
    feedback_returned: int

    def summary(self) -> str:
        """One line for the page that started it."""
        return f"Unmerged from {self.survivor_slug}: {self.feedback_returned} feedback back here."


class _Merged(BaseModel):
    merge_id: str
    source_slug: str
    source_title: str
    survivor_id: str
    survivor_slug: str
    survivor_title: str
    feedback_moved: int
    followers_added: int
    areas_added: int
    notify_ids: list[str]


def _url() -> str:
    return adapters.current().settings.app_database_url


def _refused(error: AppError) -> PermanentError:
    # Gone, already merged, into itself: retrying cannot fix it; the run fails with the reason.
    return PermanentError(str(error))


@DBOS.step(**DB_RETRY)
def merge_step(merge_id: str, data: MergeInput) -> _Merged:
    """Merge once per run (a retried or recovered step finds its merge done)."""
    with session_scope(_url(), write=True) as session:
        first = session.get(RequestMerge, merge_id) is None
        try:
            record = merging.merge(
                session=session,
                merge_id=merge_id,
                source=data.source,
                survivor=data.survivor,
                merged_by=data.merged_by,
            )
        except (InvalidInputError, ConflictError, NotFoundError) as exc:
            raise _refused(exc) from exc
        source, survivor = _pair(session, record)
        if first:
            actor = audit.Actor(None, data.merged_by, "merge")
            detail = f"into {survivor.slug}: {len(record.feedback_ids)} feedback"
            audit.record(
                session=session,
                actor=actor,
                action="request.merge",
                target=source.slug,
                detail=detail,
            )
        followers = {u.id for u in survivor.followers} | {u.id for u in source.followers}
        return _Merged(
            merge_id=merge_id,
            source_slug=source.slug,
            source_title=source.title,
            survivor_id=survivor.id,
            survivor_slug=survivor.slug,
            survivor_title=survivor.title,
            feedback_moved=len(record.feedback_ids),
            followers_added=len(record.follower_ids),
            areas_added=len(record.area_ids),
            notify_ids=sorted(followers),
        )


def _pair(session: Session, record: RequestMerge) -> tuple[FeatureRequest, FeatureRequest]:
    source = service.get(session=session, request_id=record.source_id)
    survivor = service.get(session=session, request_id=record.survivor_id)
    assert source is not None
    assert survivor is not None
    return source, survivor


@DBOS.step(**OUTBOUND_RETRY)
def notify_merge_step(merged: _Merged, user_id: str) -> bool:
    """Tell one follower where the request now lives; keyed so it is sent once."""
    tell_follower(
        key=f"merged:{merged.merge_id}:{user_id}",
        kind=MessageKind.MERGED,
        slug=merged.survivor_slug,
        title=merged.survivor_title,
        user_id=user_id,
        about=merged.source_title,
    )
    return True


@DBOS.workflow()
def notify_merge_workflow(merged: _Merged, user_id: str) -> bool:
    """One branch of the merge fan-out: tell one follower."""
    return notify_merge_step(merged, user_id)


@DBOS.workflow()
def merge_requests_workflow(data: MergeInput) -> MergeResult:
    """Merge two requests (the run's id is the merge's), then tell every follower of either."""
    merge_id = DBOS.workflow_id
    assert merge_id is not None
    merged = merge_step(merge_id, data)
    calls = [(f"{merge_id}-notify-{uid}", (merged, uid)) for uid in merged.notify_ids]
    branches = fan_out(notify_merge_workflow, calls)
    return MergeResult(
        merge_id=merge_id,
        source_slug=merged.source_slug,
        survivor_slug=merged.survivor_slug,
        feedback_moved=merged.feedback_moved,
        followers_added=merged.followers_added,
        areas_added=merged.areas_added,
        notified=sum(1 for branch in branches if branch.result),
        failed=[uid for uid, b in zip(merged.notify_ids, branches, strict=True) if b.error],
    )


@DBOS.step(**DB_RETRY)
def unmerge_step(data: UnmergeInput) -> UnmergeResult:
    """Undo the merge (once: a second undo changes nothing)."""
    with session_scope(_url(), write=True) as session:
        before = session.get(RequestMerge, data.merge_id)
        first = before is not None and before.undone_at is None
        try:
            record = merging.unmerge(
                session=session, merge_id=data.merge_id, undone_by=data.undone_by
            )
        except (ConflictError, NotFoundError) as exc:
            raise _refused(exc) from exc
        source, survivor = _pair(session, record)
        returned = sum(1 for f in service.feedback_of(session=session, request_id=source.id))
        if first:
            actor = audit.Actor(None, data.undone_by, "merge")
            audit.record(
                session=session,
                actor=actor,
                action="request.unmerge",
                target=source.slug,
                detail=f"from {survivor.slug}",
            )
        return UnmergeResult(
            merge_id=record.id,
            source_slug=source.slug,
            survivor_slug=survivor.slug,
            feedback_returned=returned,
        )


@DBOS.workflow()
def unmerge_requests_workflow(data: UnmergeInput) -> UnmergeResult:
    """Undo a merge: the feedback, followers and areas it moved go back."""
    return unmerge_step(data)


def start_merge(data: MergeInput, run_id: str | None = None) -> WorkflowHandle[MergeResult]:
    """Start the merge under ``run_id`` (default: a new one), which is also the merge's id."""
    with SetWorkflowID(run_id or run_id_for("merge-requests", None)):
        return DBOS.start_workflow(merge_requests_workflow, data)


def start_unmerge(merge_id: str, undone_by: str) -> WorkflowHandle[UnmergeResult]:
    """Start undoing ``merge_id``: one run per merge (``unmerge-<merge id>``), so a repeat
    returns the first."""
    with SetWorkflowID(f"unmerge-{merge_id}"):
        return DBOS.start_workflow(
            unmerge_requests_workflow, UnmergeInput(merge_id=merge_id, undone_by=undone_by)
        )


def _check_merge(data: MergeInput) -> None:
    with session_scope(_url()) as session:
        try:
            merging.plan(session=session, source=data.source, survivor=data.survivor)
        except (ConflictError, NotFoundError) as exc:
            raise InvalidInputError([("source", str(exc))]) from exc


STARTABLE = (
    Startable(
        "merge-requests",
        MergeInput,
        merge_requests_workflow,
        "Merge one request into another (feedback, followers, areas move); tell followers once.",
        check=_check_merge,
        role="approver",
    ),
    Startable(
        "unmerge-requests",
        UnmergeInput,
        unmerge_requests_workflow,
        "Undo a merge: what it moved goes back; the tombstone is a request again.",
        role="approver",
    ),
)
