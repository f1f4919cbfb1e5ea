"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from gtm_feedback.db.session import get_engine
from gtm_feedback.durable.runs import dbos_ready
from gtm_feedback.migrations import current_revision, head_revision
from gtm_feedback.user.access import PUBLIC
from gtm_feedback.web.deps import AppSettings

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[PUBLIC])
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def _check_database(url: str) -> dict[str, Any]:
    with get_engine(url).connect() as connection:
        connection.execute(text("SELECT 1"))
    revision, head = current_revision(url), head_revision()
    if revision != head:
        return {"ok": False, "error": f"schema at {revision}, expected {head}: run db upgrade"}
    return {"ok": True, "revision": revision}


def _probe(check: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = check()
    except Exception as exc:  # a probe reports every failure instead of raising
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return result


@router.get(
    "/readyz",
    responses={503: {"description": "A dependency is not ready"}},
    dependencies=[PUBLIC],
)
def readyz(settings: AppSettings) -> JSONResponse:
    """The database (at the current schema) and DBOS both answer."""
    checks = {
        "database": _probe(lambda: _check_database(settings.app_database_url)),
        "dbos": _probe(lambda: {"ok": dbos_ready()}),
    }
    ready = all(check["ok"] for check in checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)
