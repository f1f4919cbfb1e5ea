"""The priority score's weights: read by anyone, set by admins (API and ``/admin/priority``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from gtm_feedback.feature_request import priority
from gtm_feedback.feature_request.priority import Weights
from gtm_feedback.user import audit
from gtm_feedback.user.access import ADMIN, VIEWER, Admin, Principal
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.templating import templates

router = APIRouter(prefix="/api/priority", tags=["requests"])
pages = APIRouter(prefix="/admin/priority", include_in_schema=False)


@router.get("/weights", response_model=Weights, dependencies=[VIEWER])
def get_weights(session: DbSession) -> Weights:
    """The workspace's weights of the priority score (the documented defaults until set)."""
    return priority.load(session)


def _store(session: Session, weights: Weights, who: Principal) -> None:
    priority.save(session, weights, who.email)
    detail = ", ".join(f"{name}={value:g}" for name, value in weights.model_dump().items())
    audit.record(
        session=session,
        actor=who.actor,
        action="priority.weights",
        target="workspace",
        detail=detail,
    )


@router.put("/weights", response_model=Weights)
def set_weights(weights: Weights, session: DbWrite, who: Admin) -> Weights:
    """Set every weight (admins; a weight left out takes its default); audited."""
    _store(session, weights, who)
    return weights


@pages.get("", response_class=HTMLResponse, dependencies=[ADMIN])
def weights_page(request: Request, session: DbSession, saved: bool = False) -> Response:
    """The weights as a form, with the defaults beside them."""
    return _page(request, priority.load(session).model_dump(), {}, saved=saved)


def _page(
    request: Request, values: dict[str, object], errors: dict[str, str], *, saved: bool
) -> Response:
    context = {
        "values": values,
        "errors": errors,
        "labels": Weights.LABELS,
        "defaults": Weights().model_dump(),
        "saved": saved,
    }
    return templates.TemplateResponse(
        request, "admin_priority.html", context, status_code=422 if errors else 200
    )


Number = Annotated[str, Form(max_length=20)]


@pages.post("", response_class=HTMLResponse)
def save_weights(
    request: Request,
    session: DbWrite,
    who: Admin,
    arr: Number = "",
    dealbreaker_arr: Number = "",
    open_pipeline: Number = "",
    blocked_pipeline: Number = "",
    nice_to_have: Number = "",
    significant: Number = "",
    dealbreaker: Number = "",
) -> Response:
    """Save the form: every field a number ≥ 0, else the errors beside the fields."""
    given = locals()
    values: dict[str, object] = {name: str(given[name]).strip() for name in Weights.LABELS}
    try:
        weights = Weights.model_validate(values)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors(include_url=False):
            found.setdefault(str(error["loc"][0]), error["msg"])
        return _page(request, values, found, saved=False)
    _store(session, weights, who)
    return RedirectResponse("/admin/priority?saved=1", status_code=303)
