"""The submit-feedback page (a validated form, then the run's progress live, by HTMX polling),
and the page of what matching attached automatically."""

from __future__ import annotations

from typing import Annotated, Any

from dbos import DBOS
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.account import service as accounts
from gtm_feedback.durable.runs import FINISHED
from gtm_feedback.feature_request import service as requests
from gtm_feedback.feedback import intake
from gtm_feedback.feedback import service as feedback_service
from gtm_feedback.feedback import workflows as feedback_workflows
from gtm_feedback.feedback.models import FeedbackSource, Severity
from gtm_feedback.feedback.undo_workflows import start_undo
from gtm_feedback.feedback.views import auto_attach_out, move_and_learn
from gtm_feedback.user.access import VIEWER, Approver, Member
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)
FIELDS = (
    "severity",
    "account_id",
    "opportunity_id",
    "blocks_deal",
    "pain",
    "links",
    "submitter_email",
)


def _form(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    context = {"values": values, "errors": errors, "severities": list(Severity)}
    return templates.TemplateResponse(request, "feedback_form.html", context, status_code=status)


@router.get("/feedback/new", response_class=HTMLResponse)
def new_feedback(request: Request, who: Member) -> Response:
    """The empty form, the signed-in person as the submitter."""
    return _form(request, dict.fromkeys(FIELDS, "") | {"submitter_email": who.email}, {})


@router.post("/feedback/new", response_class=HTMLResponse)
def submit_feedback(
    request: Request,
    session: DbSession,
    who: Member,
    severity: Annotated[str, Form()] = "",
    account_id: Annotated[str, Form()] = "",
    opportunity_id: Annotated[str, Form()] = "",
    blocks_deal: Annotated[str, Form(max_length=10)] = "",
    pain: Annotated[str, Form()] = "",
    links: Annotated[str, Form()] = "",
    submitter_email: Annotated[str, Form()] = "",
) -> Response:
    """Validate; errors are shown next to their fields (nothing started), else follow the run."""
    values = {
        "severity": severity,
        "account_id": account_id.strip(),
        "opportunity_id": opportunity_id.strip(),
        "blocks_deal": "on" if blocks_deal else "",
        "pain": pain,
        "links": links,
        "submitter_email": submitter_email.strip() or who.email,
    }
    submission, errors = intake.from_form(session, values, source=FeedbackSource.UI)
    if submission is None:
        return _form(request, values, errors, status=422)
    started = feedback_workflows.start_processing(submission, None)
    return RedirectResponse(f"/feedback/runs/{started.run_id}", status_code=303)


def _progress(session: Any, run_id: str) -> dict[str, Any]:
    status = DBOS.get_workflow_status(run_id)
    if status is None:
        return {"state": "unknown", "run_id": run_id}
    if status.status not in FINISHED:
        steps = DBOS.list_workflow_steps(run_id) or []
        return {
            "state": "running",
            "run_id": run_id,
            "steps": [s["function_name"].rsplit(".", 1)[-1] for s in steps],
        }
    if status.status != "SUCCESS":
        return {"state": "failed", "run_id": run_id, "error": str(status.error or status.status)}
    result = status.output
    request_id = getattr(result, "request_id", None)
    request = requests.get(session=session, request_id=request_id) if request_id else None
    return {"state": "done", "run_id": run_id, "result": result, "request": request}


@router.get("/feedback/runs/{run_id}", response_class=HTMLResponse, dependencies=[VIEWER])
def run_page(request: Request, run_id: str, session: DbSession) -> Response:
    """The submission's run: progress while it works, then the outcome with its request."""
    context = {"progress": _progress(session, run_id)}
    return templates.TemplateResponse(request, "feedback_run.html", context)


@router.get("/feedback/runs/{run_id}/progress", response_class=HTMLResponse, dependencies=[VIEWER])
def run_progress(request: Request, run_id: str, session: DbSession) -> Response:
    """The progress fragment HTMX polls every second until the run is done."""
    context = {"progress": _progress(session, run_id)}
    return templates.TemplateResponse(request, "_feedback_progress.html", context)


@router.get("/accounts/search", response_class=HTMLResponse, dependencies=[VIEWER])
def account_options(
    request: Request, session: DbSession, account_id: Annotated[str, Query(max_length=100)] = ""
) -> Response:
    """Datalist options for the account field (search as you type)."""
    found = accounts.search(session=session, text=account_id)
    return templates.TemplateResponse(request, "_account_options.html", {"accounts": found})


#: Rows per page of the automatic attaches.
AUTO_PAGE_SIZE = 50


@router.get("/matching/automatic", response_class=HTMLResponse, dependencies=[VIEWER])
def automatic_page(
    request: Request, session: DbSession, page: Annotated[int, Query(ge=1, le=10_000)] = 1
) -> Response:
    """What matching attached on its own, newest first: confidence, reason, where it went."""
    offset = (page - 1) * AUTO_PAGE_SIZE
    rows = feedback_service.automatic(session=session, limit=AUTO_PAGE_SIZE + 1, offset=offset)
    context = {
        "rows": [auto_attach_out(row) for row in rows[:AUTO_PAGE_SIZE]],
        "page": page,
        "has_next": len(rows) > AUTO_PAGE_SIZE,
    }
    return templates.TemplateResponse(request, "automatic.html", context)


@router.post("/matching/automatic/{feedback_id}/undo")
def undo_page(feedback_id: str, who: Approver) -> RedirectResponse:
    """The Undo button: start the undo and follow its run."""
    run_id = start_undo(feedback_id, who.actor)
    return RedirectResponse(f"/feedback/runs/{run_id}", status_code=303)


@router.post("/feedback/{feedback_id}/move")
def move_page(
    feedback_id: str,
    session: DbWrite,
    who: Approver,
    to: Annotated[str, Form(min_length=1, max_length=200)],
) -> RedirectResponse:
    """The request page's Move: put the feedback where it belongs and show it there."""
    moved = move_and_learn(session, feedback_id, to.strip(), who)
    return RedirectResponse(f"/requests/{moved.to_slug}?eid={feedback_id}", status_code=303)
