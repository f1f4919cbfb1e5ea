"""The saved views page: every view with its filters, subscribe or unsubscribe, delete; and
saving the requests page's filters as a view."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from gtm_feedback.errors import ConflictError, InvalidInputError
from gtm_feedback.saved_view import service
from gtm_feedback.saved_view.filters import ViewFilters
from gtm_feedback.saved_view.models import Frequency
from gtm_feedback.saved_view.schemas import SubscriptionIn, ViewIn, ViewOut
from gtm_feedback.user.access import VIEWER, Viewer
from gtm_feedback.user.models import Role
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.templating import templates

router = APIRouter(prefix="/views", include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]


@router.get("", response_class=HTMLResponse, dependencies=[VIEWER])
def views_page(request: Request, session: DbSession, who: Viewer, notice: str = "") -> Response:
    """Every saved view: its filters as a link, its subscribers, your subscription."""
    views = [ViewOut.of(view) for view in session.scalars(service.views_query())]
    context = {
        "views": views,
        "who": who,
        "frequencies": list(Frequency),
        "is_admin": who.may(Role.admin),
        "may_post": who.may(Role.member),
        "notice": notice[:200],
    }
    return templates.TemplateResponse(request, "views.html", context)


def _back(notice: str) -> str:
    return "/views?" + urlencode({"notice": notice})


def _form_error(exc: ValidationError | InvalidInputError | ConflictError) -> str:
    if not isinstance(exc, ValidationError):
        return str(exc)
    first = exc.errors(include_url=False)[0]
    return f"{'.'.join(str(part) for part in first['loc'])}: {first['msg']}"


@router.post("", response_class=HTMLResponse)
def save_view(
    session: DbWrite,
    who: Viewer,
    name: Text,
    area: Text = "",
    status: Text = "",
    severity: Text = "",
    enterprise: Text = "",
    q: Text = "",
    sort: Text = "arr",
) -> Response:
    """Save the requests page's filters (sent by its form) under a name."""
    given = {"area": area, "status": status or None, "severity": severity or None, "q": q}
    try:
        filters = ViewFilters.model_validate(
            {**given, "enterprise": enterprise == "true", "sort": sort}
        )
        body = ViewIn(name=name, filters=filters)
        view = service.create_view(
            session=session,
            owner_id=who.user_id,
            name=body.name,
            filters=body.filters,
            actor=who.actor,
        )
    except (ValidationError, InvalidInputError, ConflictError) as exc:
        return RedirectResponse(_back(f"Not saved: {_form_error(exc)}"), status_code=303)
    return RedirectResponse(_back(f"Saved “{view.name}”"), status_code=303)


@router.post("/{view_id}/subscribe", response_class=HTMLResponse)
def subscribe(
    view_id: str,
    session: DbWrite,
    who: Viewer,
    frequency: Text = "immediate",
    channel: Text = "",
    on_feedback: Text = "",
    on_status: Text = "",
) -> Response:
    """Subscribe (or change your subscription) from the page's form."""
    try:
        body = SubscriptionIn(
            on_feedback=on_feedback == "true",
            on_status=on_status == "true",
            frequency=frequency,
            channel=channel if who.may(Role.member) else "",
        )
        view = service.get_view(session=session, view_id=view_id)
        service.subscribe(session=session, view=view, user_id=who.user_id, **body.model_dump())
    except (ValidationError, InvalidInputError, ConflictError) as exc:
        return RedirectResponse(
            f"/views?notice=Not subscribed: {_form_error(exc)}", status_code=303
        )
    return RedirectResponse(_back(f"Subscribed to “{view.name}”"), status_code=303)


@router.post("/subscriptions/{subscription_id}/delete", response_class=HTMLResponse)
def unsubscribe(subscription_id: str, session: DbWrite, who: Viewer) -> Response:
    """End a subscription from the page."""
    service.unsubscribe(
        session=session,
        subscription_id=subscription_id,
        user_id=who.user_id,
        admin=who.may(Role.admin),
    )
    return RedirectResponse(_back("Unsubscribed"), status_code=303)


@router.post("/{view_id}/delete", response_class=HTMLResponse)
def delete_view(view_id: str, session: DbWrite, who: Viewer) -> Response:
    """Delete a view from the page (its owner or an admin)."""
    view = service.get_view(session=session, view_id=view_id)
    service.delete_view(session=session, view=view, actor=who.actor, admin=who.may(Role.admin))
    return RedirectResponse(_back(f"Deleted “{view.name}”"), status_code=303)
