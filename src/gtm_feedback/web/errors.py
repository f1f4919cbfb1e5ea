"""Error answers, mapped once: JSON for the API and Slack, a page for people.

The application raises :mod:`gtm_feedback.errors` kinds; this maps them to HTTP statuses
(401 / 403 / 404 / 409 / 422 / 429 / 503).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException

from gtm_feedback.db.session import is_transient
from gtm_feedback.errors import (
    AppError,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    UnauthenticatedError,
    UnavailableError,
)
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


#: Seconds a 503 asks the client to wait: there was no room for the request just now (a full
#: intake line, a pool timeout, SQLite busy) and nothing was written.
BUSY_RETRY_AFTER_S = 1

#: The HTTP status of each kind of application error; any other kind is a 500.
STATUS_OF: tuple[tuple[type[AppError], int], ...] = (
    (UnauthenticatedError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (InvalidInputError, 422),
    (UnavailableError, 503),
    (RateLimitedError, 429),
)


async def app_error(request: Request, exc: Exception) -> Response:
    """An :class:`AppError` as its status: field errors shaped like FastAPI's own 422."""
    assert isinstance(exc, AppError)
    status = next((code for kind, code in STATUS_OF if isinstance(exc, kind)), None)
    if status is None:
        return await unhandled(request, exc)
    if isinstance(exc, InvalidInputError) and exc.errors and not wants_page(request):
        return await validation_error(request, field_errors(exc.errors))
    if isinstance(exc, UnauthenticatedError):
        return _sign_in_first(request, exc)
    headers = _retry_after(exc)
    if wants_page(request):
        page = _page(request, status, str(exc))
        page.headers.update(headers or {})
        return page
    return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)


def _sign_in_first(request: Request, exc: UnauthenticatedError) -> Response:
    # People are sent to the sign-in page and back; programs get 401 and how to authenticate.
    if wants_page(request) and request.method in ("GET", "HEAD"):
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?{urlencode({'next': back})}", status_code=303)
    if wants_page(request):
        return RedirectResponse("/signin", status_code=303)
    headers = {"WWW-Authenticate": 'Bearer realm="gtm-feedback"'}
    if request.headers.get("hx-request"):
        headers["HX-Redirect"] = "/signin"  # htmx follows this to the sign-in page
    return JSONResponse({"detail": str(exc)}, status_code=401, headers=headers)


def _retry_after(exc: AppError) -> dict[str, str] | None:
    if isinstance(exc, RateLimitedError):
        return {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, UnavailableError):
        return {"Retry-After": str(BUSY_RETRY_AFTER_S)}
    return None


async def validation_error(request: Request, exc: Exception) -> Response:
    """A 422 naming each bad field; the input is never echoed (it may not even be encodable:
    NaN, a lone surrogate, a 100-digit number), only where and why it was refused."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": safe_errors(exc.errors())}, status_code=422)


def safe_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Validation errors reduced to what is always safe to send: type, location, message."""
    return [
        {
            "type": str(error.get("type", "value_error")),
            "loc": [
                part if isinstance(part, int) else _text(part) for part in error.get("loc", ())
            ],
            "msg": _text(error.get("msg", "")),
        }
        for error in errors
    ]


def _text(value: object) -> str:
    # A message can quote the input (a lone surrogate cannot be encoded as UTF-8).
    return str(value).encode("utf-8", "replace").decode("utf-8")[:300]


async def database_busy(request: Request, exc: Exception) -> Response:
    """A transient database failure as 503 with ``Retry-After``, not a 500."""
    if isinstance(exc, OperationalError) and not is_transient(exc):
        return await unhandled(request, exc)
    log.warning("request.database_busy", path=request.url.path, error=str(exc)[:200])
    busy = UnavailableError("the server is busy; nothing was saved, try again in a moment")
    return await app_error(request, busy)


async def unhandled(request: Request, exc: Exception) -> Response:
    """Anything unexpected: logged with its context; the answer says where to look."""
    log.exception("request.failed", path=request.url.path, method=request.method)
    if wants_page(request):
        return _page(request, 500, "The error was logged on the server.")
    return JSONResponse({"detail": "internal error; see the server log"}, status_code=500)
