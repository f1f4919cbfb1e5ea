"""Workflow triggers and runs: ``POST /api/workflows/{name}``, ``GET /api/runs`` (filtered),
``GET /api/runs/{id}``, and ``POST /api/runs/{id}/cancel|resume|retry``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable import control
from gtm_feedback.durable.idempotency import check_same_input, run_id_for, scoped
from gtm_feedback.durable.registry import Startable, startable
from gtm_feedback.durable.runs import RunOut, RunSummary, run_details, run_summary
from gtm_feedback.errors import ConflictError, ForbiddenError, NotFoundError
from gtm_feedback.user import audit
from gtm_feedback.user.access import MEMBER, VIEWER, Admin, Member
from gtm_feedback.user.models import Role
from gtm_feedback.web.admission import INTAKE, INTAKE_RESPONSES
from gtm_feedback.web.deps import Instant
from gtm_feedback.web.pagination import Page, PageParams, page_of

router = APIRouter(prefix="/api", tags=["workflows"])


#: A body for some of the workflows (each workflow's own is in docs/workflows.md).
START_EXAMPLES: dict[str, Any] = {
    "mark-shipped": {"summary": "Ship a request", "value": {"request": "saml-single-sign-on"}},
    "sync-embeddings": {"summary": "Embed what is missing", "value": {"batch_size": 256}},
    "duplicate-sweep": {"summary": "Look for duplicate requests", "value": {}},
}


class Started(BaseModel):
    """A run that was started (or, for a repeated idempotency key, the earlier run)."""

    workflow: str
    run_id: str


@router.post(
    "/workflows/{name}",
    status_code=202,
    response_model=Started,
    dependencies=[MEMBER, *INTAKE],
    responses={404: {"description": "No workflow with this name"}, **INTAKE_RESPONSES},
)
def start(
    name: str,
    body: Annotated[dict[str, Any], Body(openapi_examples=START_EXAMPLES)],
    who: Member,
    request: Request,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Started:
    """Start a workflow with a typed body; returns at once with the run id."""
    found = startable().get(name)
    if found is None:
        known = ", ".join(sorted(startable()))
        raise NotFoundError(f"no workflow {name!r} (known: {known})")
    if not who.may(Role(found.role)):
        raise ForbiddenError(f"starting {name} needs the {found.role} role; you are {who.role}")
    data = _validated(found, body)
    run_id = _launch(found, data, scoped(idempotency_key, who.user_id))  # keys are per client
    if found.role != Role.member.value:  # shipping, imports, digests: who started them
        url = request.app.state.settings.app_database_url
        with session_scope(url, write=True) as session:
            audit.record(
                session=session,
                actor=who.actor,
                action="workflow.start",
                target=name,
                detail=run_id,
            )
    return Started(workflow=name, run_id=run_id)


def _validated(found: Startable, body: dict[str, Any]) -> BaseModel:
    try:
        return found.input_type.model_validate(body)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from exc


def _launch(found: Startable, data: BaseModel, key: str | None) -> str:
    if found.start is not None:
        return found.start(data, key)
    if found.check is not None:
        found.check(data)
    # Same key, same run: DBOS runs one workflow per id and returns its result to repeats.
    run_id = run_id_for(found.name, key)
    with SetWorkflowID(run_id):
        DBOS.start_workflow(found.workflow, data)
    check_same_input(run_id, key, data)
    return run_id


@router.get("/runs", response_model=Page[RunSummary], dependencies=[VIEWER])
def list_runs(
    paging: PageParams,
    workflow: Annotated[
        str | None, Query(max_length=200, description="e.g. process-feedback")
    ] = None,
    status: control.RunStatus | None = None,
    since: Annotated[Instant | None, Query(description="Started at or after")] = None,
    until: Annotated[Instant | None, Query(description="Started before")] = None,
) -> Page[RunSummary]:
    """Runs, newest first, by workflow, status and start time; ``total`` is null (not
    counted): follow ``next_offset``."""
    found = DBOS.list_workflows(
        name=control.workflow_names([workflow]) if workflow else None,
        status=status,
        start_time=since.isoformat() if since else None,
        end_time=until.isoformat() if until else None,
        sort_desc=True,
        limit=paging.limit + 1,
        offset=paging.offset,
        load_input=False,
        load_output=False,
    )
    items = [run_summary(run) for run in found[: paging.limit]]
    return page_of(items, None, paging, more=len(found) > paging.limit)


class RunAction(BaseModel):
    """What an action did: ``target_run_id`` is the run to follow (a retry starts a new one)."""

    run_id: str
    action: str
    target_run_id: str
    notice: str


@router.post(
    "/runs/{run_id}/{action}",
    response_model=RunAction,
    responses={
        404: {"description": "No run"},
        409: {"description": "The run's status does not allow the action"},
    },
)
def act_on_run(
    run_id: str, action: Literal["cancel", "resume", "retry"], who: Admin, request: Request
) -> RunAction:
    """Cancel a waiting or running run, resume a cancelled or failed one, or retry a finished
    one as a new run (admins)."""
    done = control.act(DBOS, run_id, action)
    if not done.known:
        raise NotFoundError(f"no run with id {run_id!r}")
    if not done.acted:
        raise ConflictError(done.notice)
    url = request.app.state.settings.app_database_url
    with session_scope(url, write=True) as session:
        audit.record(
            session=session,
            actor=who.actor,
            action=f"run.{action}",
            target=run_id,
            detail=done.notice,
        )
    return RunAction(run_id=run_id, action=action, target_run_id=done.target, notice=done.notice)


@router.get(
    "/runs/{run_id}",
    response_model=RunOut,
    responses={404: {"description": "No run"}},
    dependencies=[VIEWER],
)
def get_run(run_id: str) -> RunOut:
    """A run's status, result or error, and its steps with start, end and duration."""
    found = run_details(run_id)
    if found is None:
        raise NotFoundError(f"no run with id {run_id!r}")
    return found
