"""Log the changes alerts are about in the transaction that makes them: new feedback on a
request, and a request's status changing. Every path that writes them (the intake workflows,
approvals, imports, the pages, the API, Slack) flushes through here, so none is missed; and a
change rolled back leaves no row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from gtm_feedback.feature_request.models import FeatureRequest
from gtm_feedback.feedback.models import Feedback
from gtm_feedback.saved_view.models import ChangeKind, RequestChange


def _rows(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for obj in session.new:
        if isinstance(obj, Feedback):
            rows.append(
                {"request_id": obj.request_id, "kind": ChangeKind.FEEDBACK, "feedback_id": obj.id}
            )
    for obj in session.dirty:
        if isinstance(obj, FeatureRequest):
            history = inspect(obj).attrs["status"].history
            old = history.deleted[0] if history.deleted else None
            if history.added and old is not None and old != obj.status:
                rows.append(
                    {
                        "request_id": obj.id,
                        "kind": ChangeKind.STATUS,
                        "old_status": str(old),
                        "new_status": str(obj.status),
                    }
                )
    return rows


@event.listens_for(Session, "after_flush")
def _log_changes(session: Session, _context: Any) -> None:
    # After the flush the new rows have their ids, and new / dirty still list what it wrote.
    rows = _rows(session)
    if rows:
        session.connection().execute(insert(RequestChange), rows)
