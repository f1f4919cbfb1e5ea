"""Admin pages: product areas (create, edit: name, slug, description, firehose)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from gtm_feedback.product_area import service
from gtm_feedback.user import audit
from gtm_feedback.user.access import ADMIN, Admin
from gtm_feedback.web.deps import DbSession, DbWrite
from gtm_feedback.web.templating import templates

router = APIRouter(prefix="/admin", include_in_schema=False)


def _areas_page(
    request: Request, session: Session, form: dict[str, str], error: str = "", status: int = 200
) -> Response:
    context = {"areas": service.list_areas(session=session), "form": form, "error": error}
    return templates.TemplateResponse(request, "admin_areas.html", context, status_code=status)


@router.get("/areas", response_class=HTMLResponse, dependencies=[ADMIN])
def areas(request: Request, session: DbSession, edit: str = "") -> Response:
    """Every area, and the form to create one (or edit the one in ``?edit=``)."""
    area = service.get(session=session, area_id=edit) if edit else None
    form = {
        "id": area.id if area else "",
        "name": area.name if area else "",
        "slug": area.slug if area else "",
        "description": area.description if area else "",
        "firehose_channel": (area.firehose_channel or "") if area else "",
    }
    return _areas_page(request, session, form)


@router.post("/areas", response_class=HTMLResponse)
def save_area(
    request: Request,
    session: DbWrite,
    who: Admin,
    name: Annotated[str, Form()] = "",
    area_id: Annotated[str, Form(alias="id")] = "",
    slug: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    firehose_channel: Annotated[str, Form()] = "",
) -> Response:
    """Create or update an area; a duplicate name or slug is shown on the form (422)."""
    form = {
        "id": area_id,
        "name": name,
        "slug": slug,
        "description": description,
        "firehose_channel": firehose_channel,
    }
    try:
        service.upsert_area(
            session,
            area_id=area_id or None,
            name=name,
            description=description,
            slug=slug or None,
            firehose_channel=firehose_channel,
        )
    except service.AreaError as exc:
        session.rollback()
        return _areas_page(request, session, form, str(exc), status=422)
    action = "area.update" if area_id else "area.create"
    audit.record(session=session, actor=who.actor, action=action, target=slug or name)
    return RedirectResponse("/admin/areas", status_code=303)
