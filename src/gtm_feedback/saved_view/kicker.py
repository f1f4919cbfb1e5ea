"""Start a view-alerts run when there is work for one, within seconds of the change.

A schedule every minute would add a run to the runs page every minute, nearly all with nothing
to do. Instead each server and worker looks every ``GTMFB_VIEW_ALERTS_INTERVAL`` seconds for
changes not routed yet and immediate alerts not sent (two indexed reads), and enqueues a run
only then. The run id names the oldest of each and a ten-minute window, so processes that see
the same work start one run between them, a backlog longer than a run's batch gets the next run
at once (the oldest moved on), and work a failed run left is tried again in the next window.
The runs take turns on their own queue (``ALERTS_QUEUE``, one at a time over every process).
What is owed lives in the database, so a process that dies loses nothing.
"""

from __future__ import annotations

import time

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.periodic import Periodic
from gtm_feedback.durable.queues import enqueue
from gtm_feedback.saved_view import routing
from gtm_feedback.saved_view.workflows import ALERTS_QUEUE, ViewAlertsInput, view_alerts_workflow

#: Seconds in which the same work is one run; a run that failed is retried in the next.
WINDOW = 600


class AlertKicker(Periodic):
    """A daemon thread that enqueues a view-alerts run whenever alerts may be owed."""

    def __init__(self, database_url: str, every: float) -> None:
        super().__init__("view_alerts", every)
        self._url = database_url

    def check(self) -> str | None:
        """Enqueue a run if alerts may be owed; its id, or None when there is nothing to do."""
        with session_scope(self._url) as session:
            mark = routing.work_mark(session)
        if mark is None:
            return None
        run_id = f"view-alerts-{mark[0]}-{mark[1]}-{int(time.time() // WINDOW)}"
        enqueue(ALERTS_QUEUE, run_id, view_alerts_workflow, ViewAlertsInput())
        return run_id
