"""Durable workflows about requests: mark shipped (fanned out per follower and account
owner), sync embeddings."""

from __future__ import annotations

from dbos import DBOS
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.fanout import fan_out
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import DB_RETRY, OUTBOUND_RETRY, retry_unless_permanent
from gtm_feedback.errors import InvalidInputError, PermanentError
from gtm_feedback.feature_request import embeddings, service
from gtm_feedback.feature_request.models import RequestStatus
from gtm_feedback.feature_request.owners import OwnerNote, notify_owner_workflow, owners_of
from gtm_feedback.feedback.agents import COMPOSE, ComposeInput, MessageKind
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder


class MarkShippedInput(BaseModel):
    """Which request shipped (id or slug), and who says so."""

    model_config = ConfigDict(extra="forbid")

    request: str = Field(min_length=1, max_length=200)
    shipped_by: str | None = None


class MarkShippedResult(BaseModel):
    """What happened: "notified N of M followers" (those who own an account that asked are
    told as owners, and counted there), or that it had shipped before."""

    request_id: str
    slug: str
    already_shipped: bool
    followers: int
    notified: int
    failed: list[str] = Field(
        default_factory=list, description="People whose notification failed for good."
    )
    owners: int = Field(default=0, description="Owners of accounts that asked for it")
    owners_notified: int = 0

    def summary(self) -> str:
        """One sentence for a person: who was told."""
        if self.already_shipped:
            return f"“{self.slug}” had already shipped: nobody was notified again."
        told = f"notified {self.notified} of {self.followers} followers"
        if self.owners:
            told += f" and {self.owners_notified} of {self.owners} account owners"
        return f"Shipped “{self.slug}”: {told}."


class _Shipped(BaseModel):
    request_id: str
    slug: str
    title: str
    already_shipped: bool
    follower_ids: list[str]
    owners: list[OwnerNote] = Field(default_factory=list)  # empty in runs from before owners


@DBOS.step(**DB_RETRY)
def ship_step(request: str) -> _Shipped:
    """Set the status (once) and list the followers and the account owners to tell."""
    settings = adapters.current().settings
    with session_scope(settings.app_database_url, write=True) as session:
        found = service.resolve(session=session, id_or_slug=request)
        if found is None:
            raise PermanentError(f"no request with id or slug {request!r}")
        already = found.status is RequestStatus.SHIPPED
        if not already:
            found.status = RequestStatus.SHIPPED
            found.shipped_at = utcnow()
        followers = sorted(user.id for user in found.followers)
        return _Shipped(
            request_id=found.id,
            slug=found.slug,
            title=found.title,
            already_shipped=already,
            follower_ids=followers,
            owners=owners_of(session, found.id, settings),
        )


def tell_follower(
    *, key: str, kind: MessageKind, slug: str, title: str, user_id: str, about: str = ""
) -> None:
    """Compose and send one message about request ``slug``; ``key`` makes a repeat a no-op."""
    found = adapters.current()
    link = f"{found.settings.base_url}/requests/{slug}"
    compose = ComposeInput(kind=kind, request_title=title, request_url=link, pain=about)
    text = found.agents.run(COMPOSE, compose).output.text
    found.messenger.send(key=key, kind=kind.value, text=text, recipient_user_id=user_id)


@DBOS.step(**OUTBOUND_RETRY)
def notify_follower_step(shipped: _Shipped, user_id: str) -> bool:
    """Tell one follower; the message key makes a retried or resumed send a no-op."""
    tell_follower(
        key=f"shipped:{shipped.request_id}:{user_id}",
        kind=MessageKind.SHIPPED,
        slug=shipped.slug,
        title=shipped.title,
        user_id=user_id,
    )
    return True


@DBOS.workflow()
def notify_follower_workflow(shipped: _Shipped, user_id: str) -> bool:
    """One branch of the mark-shipped fan-out: tell one follower."""
    return notify_follower_step(shipped, user_id)


@DBOS.workflow()
def mark_shipped_workflow(data: MarkShippedInput) -> MarkShippedResult:
    """Mark a request shipped, then fan out one child run per person to tell: each account
    owner hears which of their accounts asked (a follower who owns one hears that alone),
    each other follower that it shipped."""
    shipped = ship_step(data.request)
    owner_ids = {note.user_id for note in shipped.owners}
    followers = [uid for uid in shipped.follower_ids if uid not in owner_ids]
    owners = [] if shipped.already_shipped else shipped.owners
    to_tell = [] if shipped.already_shipped else followers
    calls = [(f"{DBOS.workflow_id}-notify-{uid}", (shipped, uid)) for uid in to_tell]
    branches = fan_out(notify_follower_workflow, calls)
    about = (shipped.request_id, shipped.slug, shipped.title)
    owner_calls = [(f"{DBOS.workflow_id}-owner-{o.user_id}", (*about, o)) for o in owners]
    told_owners = fan_out(notify_owner_workflow, owner_calls)
    failed = [uid for uid, branch in zip(to_tell, branches, strict=True) if branch.error]
    failed += [o.user_id for o, branch in zip(owners, told_owners, strict=True) if branch.error]
    return MarkShippedResult(
        request_id=shipped.request_id,
        slug=shipped.slug,
        already_shipped=shipped.already_shipped,
        followers=len(followers),
        notified=sum(1 for branch in branches if branch.result),
        failed=failed,
        owners=len(shipped.owners),
        owners_notified=sum(1 for branch in told_owners if branch.result),
    )


class SyncEmbeddingsInput(BaseModel):
    """How many rows each durable step embeds and commits."""

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=256, ge=1, le=5000)


class SyncEmbeddingsResult(BaseModel):
    """How many rows were (re-)embedded, in how many batches."""

    requests: int
    feedback: int
    batches: int


class _Pending(BaseModel):
    requests: list[str]
    feedback: list[str]


@DBOS.step(**DB_RETRY)
def pending_embeddings_step() -> _Pending:
    """Rows whose vector is missing, stale, or of another model."""
    settings = adapters.current().settings
    model_id = get_embedder(settings).model_id
    with session_scope(settings.app_database_url) as session:
        todo = embeddings.pending(session=session, model_id=model_id)
    return _Pending(requests=todo.requests, feedback=todo.feedback)


@DBOS.step(retries_allowed=True, max_attempts=3, should_retry=retry_unless_permanent)
def embed_batch_step(kind: str, ids: list[str]) -> int:
    """Embed one batch and commit it (a resumed run skips finished batches)."""
    settings = adapters.current().settings
    return embeddings.embed_batch(settings.app_database_url, get_embedder(settings), kind, ids)


@DBOS.workflow()
def sync_embeddings_workflow(data: SyncEmbeddingsInput) -> SyncEmbeddingsResult:
    """Back-fill or refresh vectors in batches; progress is published as the event "progress".

    Vectors live on their rows, so a deleted request or feedback item takes its vector with it
    (and bumps the index version); there is nothing separate to remove. Batches run one after
    another on purpose: the embedding model already uses every core, so fanning them out would
    only add contention (and SQLite takes one writer at a time).
    """
    todo = pending_embeddings_step()
    total, done, batches = len(todo.requests) + len(todo.feedback), 0, 0
    DBOS.set_event("progress", {"done": 0, "total": total})
    for kind, ids in (("requests", todo.requests), ("feedback", todo.feedback)):
        for start in range(0, len(ids), data.batch_size):
            done += embed_batch_step(kind, ids[start : start + data.batch_size])
            batches += 1
            DBOS.set_event("progress", {"done": done, "total": total})
    return SyncEmbeddingsResult(
        requests=len(todo.requests), feedback=len(todo.feedback), batches=batches
    )


def _check_request(data: MarkShippedInput) -> None:
    with session_scope(adapters.current().settings.app_database_url) as session:
        if service.resolve(session=session, id_or_slug=data.request) is None:
            raise InvalidInputError([("request", f"no feature request {data.request!r}")])


STARTABLE = (
    Startable(
        "mark-shipped",
        MarkShippedInput,
        mark_shipped_workflow,
        "Mark a request shipped and notify every follower once.",
        check=_check_request,
        role="approver",
    ),
    Startable(
        "sync-embeddings",
        SyncEmbeddingsInput,
        sync_embeddings_workflow,
        "Embed requests and feedback whose vector is missing or stale, in batches.",
    ),
)
