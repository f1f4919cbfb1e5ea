"""The matching page for admins: the calibration in use, its history, refit and revert."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gtm_feedback.integrations.embeddings import get_embedder
from gtm_feedback.learning import overview, service
from gtm_feedback.learning.views import RefitNumber
from gtm_feedback.learning.workflows import RefitInput, start_refit
from gtm_feedback.user.access import ADMIN, Admin
from gtm_feedback.web.deps import AppSettings, DbSession, DbWrite
from gtm_feedback.web.templating import templates

router = APIRouter(prefix="/admin/matching", include_in_schema=False)


@router.get("", response_class=HTMLResponse, dependencies=[ADMIN])
def matching_page(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """Threshold and calibration in use, decisions, refit history, the last 30 days' tiers."""
    found = overview.overview(session, settings, get_embedder(settings).model_id)
    return templates.TemplateResponse(request, "admin_matching.html", {"m": found})


@router.post("/refit")
def refit_now(who: Admin) -> RedirectResponse:
    """Queue a refit now and show its run."""
    run_id = start_refit(RefitInput(trigger=f"asked by {who.email}"[:200]), None)
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/calibrations/{calibration_id}/revert")
def revert_now(calibration_id: RefitNumber, session: DbWrite, who: Admin) -> RedirectResponse:
    """Take a refit out of use; back to the page."""
    service.revert(session=session, calibration_id=calibration_id, actor=who.actor)
    return RedirectResponse("/admin/matching", status_code=303)
