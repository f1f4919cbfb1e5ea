"""The FastAPI application: routers, error handlers, and DBOS in the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Route

from gtm_feedback import __version__, runtime
from gtm_feedback.account.pages import router as account_pages
from gtm_feedback.account.views import opportunities_router
from gtm_feedback.account.views import router as accounts_router
from gtm_feedback.ai_usage.pages import router as ai_usage_pages
from gtm_feedback.approval.pages import router as approval_pages
from gtm_feedback.approval.views import router as approvals_router
from gtm_feedback.config import Settings, get_settings
from gtm_feedback.db.session import dispose_engines
from gtm_feedback.errors import AppError
from gtm_feedback.feature_request.merge_pages import router as merge_pages
from gtm_feedback.feature_request.merge_views import router as merges_router
from gtm_feedback.feature_request.pages import router as request_pages
from gtm_feedback.feature_request.priority_views import pages as priority_pages
from gtm_feedback.feature_request.priority_views import router as priority_router
from gtm_feedback.feature_request.views import router as requests_router
from gtm_feedback.feedback.pages import router as feedback_pages
from gtm_feedback.feedback.views import router as feedback_router
from gtm_feedback.insight.pages import router as insight_pages
from gtm_feedback.insight.views import router as insights_router
from gtm_feedback.learning.pages import router as matching_pages
from gtm_feedback.learning.views import router as matching_router
from gtm_feedback.logging import get_logger
from gtm_feedback.mcp_server.server import HttpEndpoint, build_server
from gtm_feedback.monitoring.health import router as health_router
from gtm_feedback.monitoring.metrics import DatabaseMetrics
from gtm_feedback.monitoring.metrics import router as metrics_router
from gtm_feedback.monitoring.pages import router as run_pages
from gtm_feedback.monitoring.views import router as workflows_router
from gtm_feedback.outbox.pages import router as outbox_pages
from gtm_feedback.outbox.views import router as outbox_router
from gtm_feedback.product_area.pages import router as admin_pages
from gtm_feedback.product_area.views import router as areas_router
from gtm_feedback.saved_view.pages import router as views_pages
from gtm_feedback.saved_view.views import router as views_router
from gtm_feedback.slack_app import build_bolt
from gtm_feedback.slack_app import router as slack_router
from gtm_feedback.user.access import PUBLIC, VIEWER
from gtm_feedback.user.oidc import build_client
from gtm_feedback.user.oidc import router as oidc_router
from gtm_feedback.user.pages import router as user_pages
from gtm_feedback.user.signin import router as signin_router
from gtm_feedback.user.views import router as users_router
from gtm_feedback.web import errors, openapi
from gtm_feedback.web.admission import Admission
from gtm_feedback.web.browser import BrowserGuard
from gtm_feedback.web.guard import BoundaryGuard
from gtm_feedback.web.ratelimit import RateLimit
from gtm_feedback.web.templating import STATIC_DIR
from gtm_feedback.web.timing import RequestTiming

log = get_logger(__name__)

DESCRIPTION = (
    "Customer feedback turned into ranked, ARR-weighted feature requests. Authenticate with "
    "`Authorization: Bearer <token>` (`gtm-feedback tokens create`)."
)


#: Every router, API first, then the pages and Slack's URLs.
ROUTERS = (
    health_router,
    metrics_router,
    areas_router,
    insights_router,
    accounts_router,
    opportunities_router,
    users_router,
    requests_router,
    priority_router,
    views_router,
    merges_router,
    approvals_router,
    outbox_router,
    workflows_router,
    feedback_router,
    insight_pages,
    priority_pages,
    views_pages,
    request_pages,
    merge_pages,
    feedback_pages,
    approval_pages,
    account_pages,
    outbox_pages,
    run_pages,
    admin_pages,
    user_pages,
    matching_pages,
    ai_usage_pages,
    matching_router,
    signin_router,
    oidc_router,
    slack_router,
)


def create_app(
    settings: Settings | None = None, *, launch_dbos: bool = True, role: runtime.Role = "server"
) -> FastAPI:
    """Build the app; DBOS is launched when the app starts (``role``: with the workers or,
    ``web``, without) and destroyed when it stops."""
    settings = settings or get_settings()
    intake_limit = RateLimit(settings.intake_rate_limit)  # the API's and the MCP tool's
    mcp = HttpEndpoint(build_server(settings, intake_limit=intake_limit))
    app = FastAPI(
        title="GTM Feedback",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, role if launch_dbos else None, mcp.running),
        # The interactive docs load their script from a CDN and inline it: neither is allowed
        # (no network, no inline script); the schema is served below, to signed-in people.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    _state(app, settings, intake_limit)
    for router in ROUTERS:
        app.include_router(router)
    # The MCP endpoint is the SDK's own app (with its bearer middleware), routed at /mcp.
    app.router.routes.append(Route("/mcp", endpoint=mcp))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _middleware(app, settings)
    _map_errors(app)
    openapi.install(app)

    @app.get("/", include_in_schema=False, dependencies=[PUBLIC])
    def home() -> RedirectResponse:
        return RedirectResponse("/requests")

    @app.get("/openapi.json", include_in_schema=False, dependencies=[VIEWER])
    def openapi_document() -> JSONResponse:
        return JSONResponse(app.openapi())

    return app


def _state(app: FastAPI, settings: Settings, intake_limit: RateLimit) -> None:
    # What the routes share: the settings, the limits on intake and sign-in, the clients.
    app.state.settings = settings
    app.state.rate_limit = intake_limit
    app.state.signin_limit = RateLimit(settings.signin_rate_limit)
    app.state.oidc = build_client(settings)
    app.state.admission = Admission(
        settings.intake_concurrency, settings.intake_waiting, settings.intake_wait
    )
    app.state.bolt = build_bolt(settings)
    app.state.database_metrics = DatabaseMetrics(settings)


def _middleware(app: FastAPI, settings: Settings) -> None:
    # Added last runs first: the boundary guard sees every request before anything else.
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_session_secret(),
        session_cookie="gtmfb_session",
        max_age=int(settings.session_max_age),
        same_site="lax",
        https_only=settings.https,
    )
    app.add_middleware(BrowserGuard, https=settings.https)
    app.add_middleware(BoundaryGuard, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTiming)  # outermost: times everything, refusals included


def _lifespan(
    settings: Settings,
    role: runtime.Role | None,
    mcp_sessions: Callable[[], AbstractAsyncContextManager[None]],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if role is not None:
            # DBOS's launch and queue registration are synchronous calls that refuse to run
            # on an event loop; a worker thread keeps the server's loop free.
            await asyncio.to_thread(runtime.launch, settings, role)
        log.info("app.started", url=settings.base_url, version=settings.app_version)
        try:
            async with mcp_sessions():  # the MCP endpoint's task group
                yield
        finally:
            if role is not None:
                await asyncio.to_thread(runtime.shutdown)
            dispose_engines()

    return lifespan


def _map_errors(app: FastAPI) -> None:
    # Each kind of failure is answered in one place (web/errors.py).
    app.add_exception_handler(HTTPException, errors.http_error)
    app.add_exception_handler(AppError, errors.app_error)
    app.add_exception_handler(RequestValidationError, errors.validation_error)
    app.add_exception_handler(OperationalError, errors.database_busy)
    app.add_exception_handler(PoolTimeoutError, errors.database_busy)
    app.add_exception_handler(Exception, errors.unhandled)
