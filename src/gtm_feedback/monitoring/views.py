"""Workflow triggers and run inspection: ``POST /api/workflows/{name}``, ``GET /api/runs/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Body, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from gtm_feedback.db.session import session_scope
from gtm_feedback.durable.idempotency import check_same_input, run_id_for, scoped
from gtm_feedback.durable.registry import Startable, startable
from gtm_feedback.durable.runs import RunOut, run_details
from gtm_feedback.errors import ForbiddenError, NotFoundError
from gtm_feedback.user import audit
from gtm_feedback.user.access import MEMBER, VIEWER, Member
from gtm_feedback.user.models import Role
from gtm_feedback.web.admission import INTAKE, INTAKE_RESPONSES

router = APIRouter(prefix="/api", tags=["workflows"])


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
    body: Annotated[dict[str, Any], Body()],
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
