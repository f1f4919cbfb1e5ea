"""Workflows that can be started by name (``POST /api/workflows/{name}``): input type and id."""

from __future__ import annotations

import importlib

from gtm_feedback import adapters
from gtm_feedback.db.session import session_scope
from gtm_feedback.feature_request.digest_workflows import (
    WeeklyDigestInput,
    weekly_digest_workflow,
)
from gtm_feedback.feature_request.workflows import (
    MarkShippedInput,
    SyncEmbeddingsInput,
    mark_shipped_workflow,
    sync_embeddings_workflow,
)
from gtm_feedback.feedback import intake
from gtm_feedback.feedback.schemas import CreateRequestInput, FeedbackSubmission
from gtm_feedback.feedback.workflows import create_request_workflow, process_feedback_workflow
from gtm_feedback.importing.schemas import ImportInput
from gtm_feedback.importing.workflows import import_workflow
from gtm_feedback.insight.schemas import AreaInsightsInput
from gtm_feedback.insight.triggers import WORKFLOW_NAME as INSIGHTS
from gtm_feedback.insight.triggers import start_insights
from gtm_feedback.insight.workflows import area_insights_workflow
from gtm_feedback.workflow_support import Startable, discover_workflow_modules


def _start_feedback(submission: FeedbackSubmission, idempotency_key: str | None) -> str:
    # Through the intake, like POST /api/feedback: same checks, queue and idempotency.
    with session_scope(adapters.current().settings.app_database_url) as session:
        intake.check_references(session, submission)
    return intake.start_processing(submission, idempotency_key).run_id


_BUILT_IN: tuple[Startable, ...] = (
    Startable(
        "process-feedback",
        FeedbackSubmission,
        process_feedback_workflow,
        "Match a customer pain; attach it, ask a person, or write a new request.",
        start=_start_feedback,
    ),
    Startable(
        "create-request",
        CreateRequestInput,
        create_request_workflow,
        "Write a new request from a customer pain (AI writer), then follow up after a delay.",
    ),
    Startable(
        "mark-shipped",
        MarkShippedInput,
        mark_shipped_workflow,
        "Mark a request shipped and notify every follower once.",
    ),
    Startable(
        "sync-embeddings",
        SyncEmbeddingsInput,
        sync_embeddings_workflow,
        "Embed requests and feedback whose vector is missing or stale, in batches.",
    ),
    Startable(
        "import",
        ImportInput,
        import_workflow,
        "Import a CSV file's rows in batches (exactly once each), then embed them.",
    ),
    Startable(
        INSIGHTS,
        AreaInsightsInput,
        area_insights_workflow,
        "Insight reports for the named areas (all when none), one child run per area.",
        start=start_insights,
    ),
    Startable(
        "weekly-digest",
        WeeklyDigestInput,
        weekly_digest_workflow,
        "Last week's digest to every area firehose channel and every follower, once a week.",
    ),
)


def _discovered() -> list[Startable]:
    """``STARTABLE`` of every workflow module (a scaffolded workflow needs no registration)."""
    found = []
    for name in discover_workflow_modules():
        startable = getattr(importlib.import_module(name), "STARTABLE", None)
        if isinstance(startable, Startable):
            found.append(startable)
    return found


WORKFLOWS: dict[str, Startable] = {item.name: item for item in (*_BUILT_IN, *_discovered())}
