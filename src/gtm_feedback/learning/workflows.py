"""Durable refits of the matching calibration: nightly, after every N decisions, on demand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dbos import DBOS
from pydantic import BaseModel, ConfigDict, Field

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.idempotency import check_same_input, run_id_for
from gtm_feedback.durable.queues import enqueue
from gtm_feedback.durable.registry import Startable
from gtm_feedback.durable.retry import DB_RETRY
from gtm_feedback.feature_request import search
from gtm_feedback.integrations import adapters
from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import classifier, service

#: The DBOS schedule name of the nightly refit.
REFIT_SCHEDULE = "matching-refit-nightly"


class RefitInput(BaseModel):
    """Why the refit runs (shown in the calibration history)."""

    model_config = ConfigDict(extra="forbid")

    trigger: str = Field(default="manual", min_length=1, max_length=200)


class RefitResult(BaseModel):
    """The saved calibration, or why there was none."""

    calibration_id: int | None
    active: bool
    auto_threshold: float | None
    decisions: int
    note: str
    classifier_id: int | None = None  # the second-opinion classifier trained after the refit


@DBOS.step(**DB_RETRY)
def refit_step(trigger: str, run_id: str) -> RefitResult:
    """Fit on every stored decision, check on the newest, save once per run."""
    settings = adapters.current().settings
    model_id = get_embedder(settings).model_id
    done = service.refit(settings, model_id, trigger=trigger, run_id=run_id)
    row = done.saved
    return RefitResult(
        calibration_id=row.id if row else None,
        active=bool(row and row.status == "active"),
        auto_threshold=row.auto_threshold if row else None,
        decisions=done.decisions,
        note=done.reason,
    )


@DBOS.step(**DB_RETRY)
def train_step(run_id: str) -> int | None:
    """Train the second-opinion classifier on the index items; its id (None: not trained)."""
    settings = adapters.current().settings
    if not settings.match_second_opinion:
        return None
    embedder = get_embedder(settings)
    with session_scope(settings.app_database_url) as session:
        index = search.INDEXES.get(session, embedder.model_id, embedder.dimensions)
    row = classifier.train(settings, embedder.model_id, index, run_id=run_id)
    return row.id if row is not None else None


def _refit_and_train(trigger: str) -> RefitResult:
    # The training comes second: a run recorded before it existed replays its refit unchanged.
    run_id = DBOS.workflow_id or ""
    done = refit_step(trigger, run_id)
    return done.model_copy(update={"classifier_id": train_step(run_id)})


@DBOS.workflow()
def refit_matching_workflow(data: RefitInput) -> RefitResult:
    """Refit the calibration and the auto threshold from people's decisions, then retrain the
    second-opinion classifier."""
    return _refit_and_train(data.trigger)


@DBOS.workflow()
def scheduled_refit_workflow(scheduled_at: datetime, context: Any) -> RefitResult:
    """The nightly refit and training (DBOS schedule ``matching-refit-nightly``)."""
    return _refit_and_train("nightly")


class Noted(BaseModel):
    """A stored decision: the model it labels and the count it made (None: not new)."""

    model_id: str
    count: int | None


@DBOS.step(**DB_RETRY)
def note_step(verdict: service.Verdict, candidates: list[dict[str, Any]]) -> Noted:
    """Store a person's verdict on a match as a label (once per question)."""
    settings = adapters.current().settings
    model_id = get_embedder(settings).model_id
    count = service.note(settings.app_database_url, model_id, verdict, candidates)
    return Noted(model_id=model_id, count=count)


def learn_from(verdict: service.Verdict, candidates: list[dict[str, Any]]) -> None:
    """In a workflow: store the verdict, and queue a refit when it completes a batch."""
    noted = note_step(verdict, candidates)
    refit_if_due(noted.model_id, noted.count)


def refit_if_due(model_id: str, count: int | None) -> str | None:
    """Queue the refit the decision that made ``count`` calls for (once per count); its id."""
    if not service.due(adapters.current().settings, count):
        return None
    run_id = f"refit-{model_id}-after-{count}"
    enqueue(
        "matching", run_id, refit_matching_workflow, RefitInput(trigger=f"after {count} decisions")
    )
    return run_id


def start_refit(data: RefitInput, idempotency_key: str | None) -> str:
    """Queue a refit (once per key) on the matching queue; its run id."""
    run_id = run_id_for("refit-matching", idempotency_key)
    enqueue("matching", run_id, refit_matching_workflow, data)
    check_same_input(run_id, idempotency_key, data)
    return run_id


STARTABLE = Startable(
    "refit-matching",
    RefitInput,
    refit_matching_workflow,
    "Refit the matching calibration and auto threshold from people's decisions.",
    start=start_refit,
)
