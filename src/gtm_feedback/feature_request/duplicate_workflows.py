"""The duplicate sweep: weekly (and on demand) it compares requests with each other and asks
a person about each likely pair; approve merges them, decline is remembered."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from dbos import DBOS, SetWorkflowID
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.approval import service as approvals
from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import DB_RETRY
from gtm_feedback.errors import PermanentError
from gtm_feedback.feature_request import duplicate_sweep, service
from gtm_feedback.feature_request.merge_workflows import MergeInput, merge_requests_workflow
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder

SCHEDULE_NAME = "duplicate-sweep-weekly"


class SweepInput(BaseModel):
    """Compare every request, or ``only`` these (ids), with the others."""

    model_config = ConfigDict(extra="forbid")

    only: list[str] = Field(default_factory=list, max_length=1000)
    threshold: float | None = Field(default=None, ge=-1, le=1)


class SweepResult(BaseModel):
    """How many requests were compared, and the pairs newly put to a person."""

    compared: int
    suggested: list[str]


class Suggestion(BaseModel):
    """One likely pair, as the approval presents it."""

    pair: str
    source_id: str
    source_title: str
    survivor_id: str
    survivor_title: str
    score: float

    def question(self) -> str:
        """What the approvals inbox asks."""
        return (
            f"“{self.source_title}” looks like the same request as “{self.survivor_title}” "
            f"(similarity {self.score:.2f}). Approve to merge the first into the second."
        )


@DBOS.step(**DB_RETRY)
def sweep_step(data: SweepInput) -> tuple[int, list[Suggestion]]:
    """Find likely pairs and record the new ones (in one transaction: each once)."""
    found = adapters.current()
    threshold = found.settings.duplicate_threshold if data.threshold is None else data.threshold
    embedder = get_embedder(found.settings)
    with session_scope(found.settings.app_database_url, write=True) as session:
        swept = duplicate_sweep.sweep(
            session=session, embedder=embedder, threshold=threshold, only=data.only
        )
        titles = service.by_ids(
            session=session,
            ids=[i for s in swept.suggestions for i in (s.source_id, s.survivor_id)],
        )
        return swept.compared, [
            Suggestion(
                pair=s.pair,
                source_id=s.source_id,
                source_title=titles[s.source_id].title,
                survivor_id=s.survivor_id,
                survivor_title=titles[s.survivor_id].title,
                score=s.score,
            )
            for s in swept.suggestions
        ]


def run_id_for_pair(pair: str) -> str:
    """The id of the run that asks about ``pair`` (one per pair, ever)."""
    return f"merge-suggestion-{hashlib.sha256(pair.encode()).hexdigest()[:24]}"


def sweep_body(data: SweepInput) -> SweepResult:
    """Sweep, then start one waiting run per new suggestion (they wait for people)."""
    compared, found = sweep_step(data)
    for suggestion in found:
        with SetWorkflowID(run_id_for_pair(suggestion.pair)):
            DBOS.start_workflow(merge_suggestion_workflow, suggestion)
    return SweepResult(compared=compared, suggested=[s.pair for s in found])


@DBOS.workflow()
def duplicate_sweep_workflow(data: SweepInput) -> SweepResult:
    """Compare requests with each other; put each new likely pair to a person."""
    return sweep_body(data)


@DBOS.workflow()
def scheduled_duplicate_sweep_workflow(scheduled_at: datetime, context: Any) -> SweepResult:
    """The weekly run of the ``duplicate-sweep-weekly`` schedule."""
    return sweep_body(SweepInput())


@DBOS.step(**DB_RETRY)
def ask_step(suggestion: Suggestion, workflow_id: str) -> str:
    """Record the approval (once per run) and note its token on the suggestion."""
    with session_scope(adapters.current().settings.app_database_url, write=True) as session:
        existing = approvals.for_workflow(session=session, workflow_id=workflow_id)
        if existing is not None:
            return existing.token
        payload = {
            "pain": suggestion.question(),
            "request_id": suggestion.survivor_id,
            "source_id": suggestion.source_id,
            "confidence": max(0.0, min(1.0, suggestion.score)),
        }
        token = approvals.request_approval(
            session=session, workflow_id=workflow_id, kind="merge", payload=payload
        ).token
        duplicate_sweep.settle(session=session, pair=suggestion.pair, status="pending", token=token)
        return token


@DBOS.step(**DB_RETRY)
def decision_step(token: str) -> bool | None:
    """The stored decision (a message lost to a restart still counts)."""
    with session_scope(adapters.current().settings.app_database_url) as session:
        return approvals.decision(session=session, token=token)


@DBOS.step(**DB_RETRY)
def settle_step(pair: str, status: str) -> None:
    """Remember the outcome: a declined pair is never suggested again."""
    with session_scope(adapters.current().settings.app_database_url, write=True) as session:
        duplicate_sweep.settle(session=session, pair=pair, status=status)


@DBOS.workflow()
def merge_suggestion_workflow(suggestion: Suggestion) -> str:
    """Ask, wait durably for the answer; approved: merge, then sweep the survivor again."""
    run_id = DBOS.workflow_id
    assert run_id is not None
    token = ask_step(suggestion, run_id)
    timeout = adapters.current().settings.approval_timeout
    message = DBOS.recv(approvals.topic(token), timeout_seconds=timeout)
    approved = message["approved"] if message else decision_step(token)
    if approved is None:
        return "waiting"
    if not approved:
        settle_step(suggestion.pair, "declined")
        return "declined"
    merge = MergeInput(
        source=suggestion.source_id,
        survivor=suggestion.survivor_id,
        merged_by=str((message or {}).get("decided_by", "")) or "approvals",
    )
    handle = DBOS.start_workflow(merge_requests_workflow, merge)
    try:
        handle.get_result()
    except PermanentError:  # merged or deleted since the sweep: nothing to merge any more
        settle_step(suggestion.pair, "stale")
        return "stale"
    settle_step(suggestion.pair, "merged")
    with SetWorkflowID(f"{run_id}-recheck"):
        DBOS.start_workflow(duplicate_sweep_workflow, SweepInput(only=[suggestion.survivor_id]))
    return "merged"


STARTABLE = Startable(
    "duplicate-sweep",
    SweepInput,
    duplicate_sweep_workflow,
    "Compare requests with each other; each likely duplicate pair goes to the approvals inbox.",
    role="approver",
)
