"""Error answers: JSON for the API and Slack, a page for people."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from gtm_feedback.monitoring.logging import get_logger
from gtm_feedback.web.templating import templates

log = get_logger(__name__)
_MACHINE_PREFIXES = ("/api/", "/slack/", "/healthz", "/readyz", "/metrics", "/static/")


def wants_page(request: Request) -> bool:
    """True for a browser asking for one of the pages (not the API, Slack or a probe)."""
    if request.url.path.startswith(_MACHINE_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _page(request: Request, status: int, detail: str) -> Response:
    context = {"status": status, "detail": detail}
    return templates.TemplateResponse(request, "error.html", context, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    """An HTTPException as a page for browsers, else FastAPI's JSON."""
    assert isinstance(exc, HTTPException)
    if wants_page(request):
        return _page(request, exc.status_code, str(exc.detail))
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def unhandled(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged with its context; the answer says where to look."""
    log.exception("request.failed", path=request.url.path, method=request.method)
    if wants_page(request):
        return _page(request, 500, "The error was logged on the server.")
    return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)
