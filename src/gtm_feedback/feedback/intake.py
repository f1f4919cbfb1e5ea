"""Starting feedback processing: the one path every front door uses (API, form, Slack, demo).

The run is enqueued on the ``feedback`` queue under an id derived from the submission, so a
retried submission with the same idempotency key maps to the same run and is processed once.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID

from gtm_feedback.feedback.schemas import FeedbackSubmission, ProcessFeedbackInput
from gtm_feedback.feedback.workflows import process_feedback_workflow


@dataclass(frozen=True)
class Started:
    """The submission's id and the run processing it."""

    submission_id: str
    run_id: str


def submission_id_for(idempotency_key: str | None) -> str:
    """A new id, or one derived from the key so a retried submission maps to the same run."""
    if idempotency_key is None:
        return f"sub_{uuid.uuid4().hex[:20]}"
    return f"sub_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"


def run_id_for(submission_id: str) -> str:
    """The id of the process-feedback run of a submission."""
    return f"feedback-{submission_id}"


def start_processing(submission: FeedbackSubmission, idempotency_key: str | None) -> Started:
    """Enqueue the process-feedback run (once per key) and return at once."""
    submission_id = submission_id_for(idempotency_key)
    run_id = run_id_for(submission_id)
    queue = DBOS.retrieve_queue("feedback")
    assert queue is not None, "the feedback queue is registered at launch"
    with SetWorkflowID(run_id):  # same id twice: DBOS keeps the first run
        queue.enqueue(
            process_feedback_workflow,
            ProcessFeedbackInput(submission_id=submission_id, submission=submission),
        )
    return Started(submission_id=submission_id, run_id=run_id)
