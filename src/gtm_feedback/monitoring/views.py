"""Workflow triggers and run inspection: ``POST /api/workflows/{name}``, ``GET /api/runs/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from dbos import DBOS, SetWorkflowID
from fastapi import APIRouter, Body, Header
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from gtm_feedback.durable.idempotency import check_same_input, run_id_for
from gtm_feedback.durable.registry import startable
from gtm_feedback.durable.runs import RunOut, run_details
from gtm_feedback.errors import NotFoundError
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
    dependencies=INTAKE,
    responses={404: {"description": "No workflow with this name"}, **INTAKE_RESPONSES},
)
def start(
    name: str,
    body: Annotated[dict[str, Any], Body()],
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Started:
    """Start a workflow with a typed body; returns at once with the run id."""
    found = startable().get(name)
    if found is None:
        known = ", ".join(sorted(startable()))
        raise NotFoundError(f"no workflow {name!r} (known: {known})")
    try:
        data = found.input_type.model_validate(body)
    except ValidationError as exc:
        errors = [
            {**error, "loc": ("body", *error["loc"])}
            for error in exc.errors(include_url=False, include_context=False)
        ]
        raise RequestValidationError(errors) from exc
    if found.start is not None:
        return Started(workflow=name, run_id=found.start(data, idempotency_key))
    if found.check is not None:
        found.check(data)
    # Same key, same run: DBOS runs one workflow per id and returns its result to repeats.
    run_id = run_id_for(name, idempotency_key)
    with SetWorkflowID(run_id):
        DBOS.start_workflow(found.workflow, data)
    check_same_input(run_id, idempotency_key, data)
    return Started(workflow=name, run_id=run_id)


@router.get("/runs/{run_id}", response_model=RunOut, responses={404: {"description": "No run"}})
def get_run(run_id: str) -> RunOut:
    """A run's status, result or error, and its steps with start, end and duration."""
    found = run_details(run_id)
    if found is None:
        raise NotFoundError(f"no run with id {run_id!r}")
    return found
