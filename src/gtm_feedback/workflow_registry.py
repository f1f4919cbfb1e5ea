"""Workflows that can be started by name (``POST /api/workflows/{name}``): input type and id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from gtm_feedback.feature_request.workflows import (
    MarkShippedInput,
    SyncEmbeddingsInput,
    mark_shipped_workflow,
    sync_embeddings_workflow,
)
from gtm_feedback.importing.schemas import ImportInput
from gtm_feedback.importing.workflows import import_workflow


@dataclass(frozen=True)
class Startable:
    """A workflow, the model its body must validate against, and its run-id prefix."""

    name: str
    input_type: type[BaseModel]
    workflow: Callable[[Any], Any]
    summary: str


WORKFLOWS: dict[str, Startable] = {
    item.name: item
    for item in (
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
    )
}
