"""Feedback intake: what every front door (API, form, Slack, demo) checks before a run starts.

A submission's id derives from its idempotency key, so a retried submission maps to the same
run (``workflows.start_processing``) and is processed once.
"""

from __future__ import annotations

import hashlib
import uuid

from pydantic import ValidationError
from sqlalchemy.orm import Session

from gtm_feedback.account.models import Account, Opportunity
from gtm_feedback.errors import InvalidInputError
from gtm_feedback.feedback.models import FeedbackSource
from gtm_feedback.feedback.schemas import FeedbackSubmission


def submission_id_for(idempotency_key: str | None) -> str:
    """A new id, or one derived from the key so a retried submission maps to the same run."""
    if idempotency_key is None:
        return f"sub_{uuid.uuid4().hex[:20]}"
    return f"sub_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"


def run_id_for(submission_id: str) -> str:
    """The id of the process-feedback run of a submission."""
    return f"feedback-{submission_id}"


def check_references(session: Session, submission: FeedbackSubmission) -> None:
    """Refuse an unknown account, an opportunity that is not the account's, or a closed deal
    flagged as blocked."""
    errors = []
    if session.get(Account, submission.account_id) is None:
        errors.append(("account_id", f"unknown account {submission.account_id!r}"))
    wanted = submission.opportunity_id
    opportunity = session.get(Opportunity, wanted) if wanted else None
    if wanted and (opportunity is None or opportunity.account_id != submission.account_id):
        errors.append(("opportunity_id", "unknown opportunity for this account"))
    elif opportunity is not None and submission.blocks_deal and not opportunity.is_open:
        errors.append(
            ("blocks_deal", f"the deal is closed ({opportunity.stage}): nothing to block")
        )
    if errors:
        raise InvalidInputError(errors)


def from_form(
    session: Session, values: dict[str, str], *, source: FeedbackSource
) -> tuple[FeedbackSubmission | None, dict[str, str]]:
    """A submission from form fields (links one per line), or the first error of each field.

    The web form and the Slack modal both show these next to their fields; nothing starts.
    """
    links = [line.strip() for line in values.get("links", "").split() if line.strip()]
    data = {
        **values,
        "links": links,
        "opportunity_id": values.get("opportunity_id") or None,
        "blocks_deal": bool(values.get("blocks_deal")),  # a ticked box sends "on"
    }
    try:
        submission = FeedbackSubmission.model_validate({**data, "source": source})
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            found.setdefault(str(error["loc"][0]), error["msg"])
        return None, found
    try:
        check_references(session, submission)
    except InvalidInputError as exc:
        return None, dict(exc.errors)
    return submission, {}
