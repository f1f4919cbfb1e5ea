"""The runs pages: every workflow run with filters, and one run's steps with its actions."""

from __future__ import annotations

import json
from typing import Annotated

from dbos import DBOS
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.runs import FINISHED, jsonable, run_details
from gtm_feedback.errors import NotFoundError
from gtm_feedback.user import audit
from gtm_feedback.user.access import VIEWER, Admin, Principal
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)
STATUSES = ("PENDING", "ENQUEUED", "SUCCESS", "ERROR", "CANCELLED")


def _audit(request: Request, who: Principal, action: str, target: str, detail: str) -> None:
    url = request.app.state.settings.app_database_url
    with session_scope(url, write=True) as session:
        audit.record(session=session, actor=who.actor, action=action, target=target, detail=detail)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@router.get("/runs", response_class=HTMLResponse, dependencies=[VIEWER])
def runs_page(
    request: Request,
    workflow: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """The newest runs first, top-level or not, filtered by workflow and status."""
    found = DBOS.list_workflows(
        name=workflow or None,
        status=status if status in STATUSES else None,
        sort_desc=True,
        limit=51,
        offset=(page - 1) * 50,
        load_input=False,
        load_output=False,
    )
    rows = [
        {
            "id": run.workflow_id,
            "workflow": _short(run.name),
            "status": run.status,
            "created_at": run.created_at,
            "duration_ms": (run.updated_at or 0) - (run.created_at or 0)
            if run.status in FINISHED
            else None,
            "parent": run.parent_workflow_id,
        }
        for run in found[:50]
    ]
    names = sorted(_workflow_names())
    context = {
        "rows": rows,
        "filters": {"workflow": workflow, "status": status},
        "names": names,
        "statuses": STATUSES,
        "page": page,
        "has_next": len(found) > 50,
    }
    return templates.TemplateResponse(request, "runs.html", context)


def _workflow_names() -> set[str]:
    """The workflows of the latest 500 runs (what the filter offers)."""
    recent = DBOS.list_workflows(limit=500, sort_desc=True, load_input=False, load_output=False)
    return {run.name for run in recent}


@router.get("/runs/{run_id}", response_class=HTMLResponse, dependencies=[VIEWER])
def run_page(request: Request, run_id: str, notice: str = "") -> Response:
    """A run: status, result or error, and its steps as a timeline with durations."""
    run = run_details(run_id)
    if run is None:
        raise NotFoundError(f"no run with id {run_id!r}")
    longest = max((s.duration_ms or 0 for s in run.steps), default=0)
    status = DBOS.get_workflow_status(run_id)
    inputs = status.input if status is not None else None
    context = {
        "run": run,
        "longest": longest,
        "pretty": lambda value: json.dumps(value, indent=2, default=str, ensure_ascii=False),
        "notice": notice[:300],
        "finished": run.status in FINISHED,
        "inputs": jsonable(list(inputs["args"])) if inputs else None,
    }
    return templates.TemplateResponse(request, "run.html", context)


@router.post("/runs/{run_id}/{action}")
def run_action(run_id: str, action: str, who: Admin, request: Request) -> RedirectResponse:
    """Cancel a running run, resume a cancelled or failed one, or retry it as a new run."""
    status = DBOS.get_workflow_status(run_id)
    if status is None:
        raise NotFoundError(f"no run with id {run_id!r}")
    target, notice = run_id, ""
    if action == "cancel" and status.status not in FINISHED:
        DBOS.cancel_workflow(run_id)
        notice = "Cancelled."
    elif action == "resume" and status.status in {"CANCELLED", "ERROR"}:
        DBOS.resume_workflow(run_id)
        notice = "Resumed."
    elif action == "retry" and status.status in FINISHED:
        target = DBOS.fork_workflow(run_id, 1).workflow_id
        notice = f"Retried as a new run (from {run_id})."
    else:
        notice = f"Cannot {action} a run that is {status.status}."
    _audit(request, who, f"run.{action}", run_id, notice)
    return RedirectResponse(f"/runs/{target}?notice={notice}", status_code=303)
