"""Error answers, mapped once: JSON for the API and Slack, a page for people.

The application raises :mod:`gtm_feedback.errors` kinds; this maps them to 404 / 409 / 422.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from gtm_feedback.errors import AppError, ConflictError, InvalidInputError, NotFoundError
from gtm_feedback.logging import get_logger
from gtm_feedback.web.deps import field_errors
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


#: The HTTP status of each kind of application error; any other kind is a 500.
STATUS_OF: tuple[tuple[type[AppError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
)


async def app_error(request: Request, exc: Exception) -> Response:
    """An :class:`AppError` as its status: field errors shaped like FastAPI's own 422."""
    assert isinstance(exc, AppError)
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), None)
    if status is None:
        return await unhandled(request, exc)
    if isinstance(exc, InvalidInputError) and exc.errors and not wants_page(request):
        return await request_validation_exception_handler(request, field_errors(exc.errors))
    if wants_page(request):
        return _page(request, status, str(exc))
    return JSONResponse({"detail": str(exc)}, status_code=status)


async def unhandled(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged with its context; the answer says where to look."""
    log.exception("request.failed", path=request.url.path, method=request.method)
    if wants_page(request):
        return _page(request, 500, "The error was logged on the server.")
    return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)
