"""Starting area insights on demand (API, area page button): checked, queued, at once."""

from __future__ import annotations

import uuid

from dbos import DBOS, SetWorkflowID
from sqlalchemy.orm import Session

from gtm_feedback import adapters
from gtm_feedback.db.session import session_scope
from gtm_feedback.insight.schemas import AreaInsightsInput
from gtm_feedback.insight.workflows import area_insights_workflow
from gtm_feedback.product_area import service as areas
from gtm_feedback.workflow_support import InvalidInputError

WORKFLOW_NAME = "area-insights"


def check_areas(session: Session, slugs: list[str]) -> None:
    """Refuse unknown area slugs before any run starts."""
    known = {area.slug for area in areas.list_areas(session)}
    unknown = [slug for slug in dict.fromkeys(slugs) if slug not in known]
    if unknown:
        raise InvalidInputError([("areas", f"no product area with slug {', '.join(unknown)}")])


def start_insights(data: AreaInsightsInput, idempotency_key: str | None) -> str:
    """Queue an area-insights run (once per key) on the insights queue; returns its run id."""
    with session_scope(adapters.current().settings.app_database_url) as session:
        check_areas(session, data.areas)
    run_id = f"{WORKFLOW_NAME}-{idempotency_key or uuid.uuid4().hex}"
    queue = DBOS.retrieve_queue("insights")
    assert queue is not None, "the insights queue is registered at launch"
    with SetWorkflowID(run_id):  # same id twice: DBOS keeps the first run
        queue.enqueue(area_insights_workflow, data)
    return run_id
