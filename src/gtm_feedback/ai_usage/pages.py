"""``/admin/ai``: what the agents cost this month, the budget left, and why any fell back."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gtm_feedback.ai_usage import service
from gtm_feedback.ai_usage.ledger import month_start
from gtm_feedback.user.access import ADMIN
from gtm_feedback.web.deps import AppSettings, DbSession
from gtm_feedback.web.templating import templates

router = APIRouter(prefix="/admin/ai", include_in_schema=False)


@router.get("", response_class=HTMLResponse, dependencies=[ADMIN])
def usage_page(request: Request, session: DbSession, settings: AppSettings) -> Response:
    """This month's calls, tokens and cost by agent; the budget; the latest fallbacks."""
    since = month_start()
    rows = service.totals(session=session, since=since)
    spent = sum(row.cost_usd for row in rows)
    budget = settings.llm_monthly_budget
    context = {
        "month": f"{since:%B %Y}",
        "rows": rows,
        "spent": spent,
        "budget": budget,
        "over": budget is not None and spent >= budget,
        "llm": settings.llm_base_url is not None,
        "model": settings.llm_model,
        "fallbacks": service.fallbacks(session=session),
    }
    return templates.TemplateResponse(request, "admin_ai.html", context)
