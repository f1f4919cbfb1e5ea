"""The runs pages: every workflow run with filters, and one run's steps with its actions."""

from __future__ import annotations

import json
from typing import Annotated, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from dbos import DBOS
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable import control
from gtm_feedback.durable.runs import FINISHED, jsonable, run_details
from gtm_feedback.errors import NotFoundError
from gtm_feedback.user import audit
from gtm_feedback.user.access import VIEWER, Admin, Principal, Viewer
from gtm_feedback.user.models import Role
from gtm_feedback.web.templating import templates

router = APIRouter(include_in_schema=False)
#: Runs one bulk action takes at most (a page shows 50).
BULK_LIMIT = 50
STATUSES = ("PENDING", "ENQUEUED", "SUCCESS", "ERROR", "CANCELLED")  # the filter's order


def _audit(request: Request, who: Principal, action: str, target: str, detail: str) -> None:
    url = request.app.state.settings.app_database_url
    with session_scope(url, write=True) as session:
        audit.record(session=session, actor=who.actor, action=action, target=target, detail=detail)


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@router.get("/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    who: Viewer,
    workflow: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    notice: Annotated[str, Query(max_length=300)] = "",
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
        "notice": notice,
        "can_act": who.role.allows(Role.admin),
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


@router.post("/runs/bulk")
def runs_bulk(
    who: Admin,
    request: Request,
    action: Annotated[Literal["cancel", "resume"], Form()],
    run_id: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006 - read, not changed
) -> RedirectResponse:
    """Cancel or resume the runs ticked on the runs page; back to it with what happened."""
    chosen = run_id[:BULK_LIMIT]
    done = [control.act(DBOS, one, action) for one in chosen]
    for item in done:
        if item.acted:
            _audit(request, who, f"run.{action}", item.run_id, item.notice)
    acted = sum(item.acted for item in done)
    notice = f"{action.capitalize()}: {acted} of {len(chosen)} selected run(s)."
    if acted < len(chosen):
        notice += " The others were not in a state that allows it."
    back = request.headers.get("referer", "/runs")
    query = urlsplit(back).query if urlsplit(back).path == "/runs" else ""
    params = [(k, v) for k, v in parse_qsl(query) if k in ("workflow", "status", "page")]
    return RedirectResponse(f"/runs?{urlencode([*params, ('notice', notice)])}", 303)


@router.post("/runs/{run_id}/{action}")
def run_action(run_id: str, action: str, who: Admin, request: Request) -> RedirectResponse:
    """Cancel a running run, resume a cancelled or failed one, or retry it as a new run."""
    if action not in control.ACTIONS:
        raise NotFoundError(f"no action {action!r} on runs")
    done = control.act(DBOS, run_id, action)
    if not done.known:
        raise NotFoundError(f"no run with id {run_id!r}")
    _audit(request, who, f"run.{action}", run_id, done.notice)
    return RedirectResponse(f"/runs/{done.target}?notice={done.notice}", status_code=303)
