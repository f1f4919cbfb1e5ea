"""The MCP server (the official SDK's ``MCPServer``): six tools an assistant can call, over
stdio (``gtm-feedback mcp``) or streamable HTTP (``/mcp`` on the app).

Both authenticate with an API token (``gtm-feedback tokens create``): over HTTP each request
carries it (``Authorization: Bearer``, checked by the SDK's bearer middleware against our
tokens); over stdio the command is given one and acts as its user for the whole session.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import anyio.to_thread
from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field, HttpUrl, ValidationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from gtm_feedback import __version__
from gtm_feedback.approval.schemas import ApprovalOut
from gtm_feedback.config import Settings
from gtm_feedback.db.base import utcnow
from gtm_feedback.db.session import session_scope
from gtm_feedback.errors import AppError, UnauthenticatedError
from gtm_feedback.feature_request.lookup import Found
from gtm_feedback.feature_request.schemas import RequestDetail
from gtm_feedback.feedback.models import Severity
from gtm_feedback.insight.schemas import InsightReportOut
from gtm_feedback.logging import get_logger
from gtm_feedback.mcp_server import tools
from gtm_feedback.user import tokens
from gtm_feedback.user.access import Principal
from gtm_feedback.user.models import Role
from gtm_feedback.web.ratelimit import RateLimit, client_key

log = get_logger(__name__)
T = TypeVar("T")

INSTRUCTIONS = (
    "GTM Feedback turns what customers tell sales and success teams into ranked, ARR-weighted "
    "feature requests. Search before you submit: search_requests shows what a pain would "
    "match; submit_feedback files it (matching then attaches it, asks a person, or writes a "
    "new request)."
)


class ApiTokens:
    """The SDK's token verifier, backed by the app's API tokens."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def verify_token(self, token: str) -> AccessToken | None:
        """The token's user and role, or None for an unknown, expired or revoked token."""
        return await anyio.to_thread.run_sync(self.verify, token)

    def verify(self, presented: str) -> AccessToken | None:
        """:meth:`verify_token`, blocking."""
        with session_scope(self.url) as session:
            found = tokens.verify(session=session, presented=presented)
            if found is None:
                return None
            row, user = found
            due, token_id = tokens.due_for_last_used(row, utcnow()), row.id
            claims = {"email": user.email, "name": user.name, "token_name": row.name}
            access = AccessToken(
                token=presented, client_id=user.id, scopes=[user.role], claims=claims
            )
        if due:
            with session_scope(self.url, write=True) as session:
                tokens.touch(session=session, token_id=token_id)
        return access


def principal_of(access: AccessToken) -> Principal:
    """The caller an access token stands for, as the REST API's routes see theirs."""
    claims = access.claims or {}
    return Principal(
        user_id=access.client_id,
        email=str(claims.get("email", "")),
        name=str(claims.get("name", "")),
        role=Role(access.scopes[0]),
        token_name=str(claims.get("token_name", "")),
        address="mcp",
    )


def _call(work: Callable[[], T]) -> T:
    # The tool's answer says what was wrong with the call; an unexpected failure is logged
    # here and the assistant is told only where to look.
    try:
        return work()
    except AppError as exc:
        raise ToolError(str(exc)) from exc
    except ValidationError as exc:  # an argument the intake refuses (e.g. only spaces)
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ToolError(f"invalid input: {fields}") from exc
    except Exception as exc:
        log.exception("mcp.tool_failed")
        raise ToolError("internal error; see the server log") from exc


def build_server(
    settings: Settings, as_user: Principal | None = None, intake_limit: RateLimit | None = None
) -> MCPServer:
    """The server with its tools; ``as_user`` fixes the caller (stdio), else each HTTP
    request's token names it. ``intake_limit``: the app's limit on submissions, which
    ``submit_feedback`` counts against too (one rate per user, however they submit)."""
    verifier = None if as_user is not None else ApiTokens(settings.app_database_url)
    auth = None
    if as_user is None:
        auth = AuthSettings(issuer_url=settings.base_url, resource_server_url=None)
    server = MCPServer(
        "gtm-feedback",
        title="GTM Feedback",
        instructions=INSTRUCTIONS,
        version=__version__,
        website_url=settings.base_url,
        token_verifier=verifier,
        auth=auth,
    )

    def caller() -> Principal:
        if as_user is not None:
            return as_user
        access = get_access_token()
        if access is None:  # the bearer middleware lets no request through without one
            raise UnauthenticatedError("an API token is needed")
        return principal_of(access)

    _register_reading(server, caller)
    _register_acting(server, caller, intake_limit or RateLimit(settings.intake_rate_limit))
    return server


def _register_reading(server: MCPServer, caller: Callable[[], Principal]) -> None:
    """The tools that read: search, one request, an area's insights."""

    @server.tool()
    def search_requests(
        query: Annotated[str, Field(min_length=1, max_length=2000)],
        limit: Annotated[int, Field(ge=1, le=20)] = 5,
    ) -> list[Found]:
        """Feature requests a customer pain or a topic would match, best first, each with its
        match confidence (0-1), the reason, ARR, status and link. Reads only."""
        return _call(lambda: tools.search_requests(caller(), query, limit))

    @server.tool()
    def get_request(slug: Annotated[str, Field(min_length=1, max_length=200)]) -> RequestDetail:
        """One feature request by slug: status, areas, ARR, accounts, followers and its
        feedback. A merged request answers as the request it was merged into."""
        return _call(lambda: tools.get_request(caller(), slug))

    @server.tool()
    def area_insights(
        area: Annotated[str, Field(min_length=1, max_length=100)],
    ) -> InsightReportOut:
        """The latest insight report of a product area (by slug): top requests by ARR,
        themes, and what changed."""
        return _call(lambda: tools.area_insights(caller(), area))


def _register_acting(
    server: MCPServer, caller: Callable[[], Principal], intake_limit: RateLimit
) -> None:
    """The tools that act: file feedback, read and decide approvals."""

    @server.tool()
    def submit_feedback(
        pain: Annotated[str, Field(min_length=1, max_length=10_000)],
        severity: Severity,
        account_id: Annotated[str, Field(min_length=1, max_length=64)],
        opportunity_id: Annotated[str | None, Field(max_length=64)] = None,
        blocks_deal: bool = False,
        links: Annotated[list[HttpUrl], Field(max_length=20)] = [],  # noqa: B006 - read only
        idempotency_key: Annotated[str | None, Field(max_length=200)] = None,
    ) -> tools.Submitted:
        """File a customer's pain (member role). Matching then attaches it to a request,
        asks a person, or writes a new request; the run id tracks it. severity: low (nice to
        have), medium (significant pain) or high (dealbreaker). blocks_deal flags that the
        named open opportunity will not close without it. The same idempotency_key twice
        files it once."""

        def work() -> tools.Submitted:
            who = caller()
            intake_limit.check(client_key(who.user_id))
            body = tools.feedback_body(
                who, pain, severity, account_id, opportunity_id, links, blocks_deal
            )
            return tools.submit_feedback(who, body, idempotency_key)

        return _call(work)

    @server.tool()
    def list_approvals() -> list[ApprovalOut]:
        """The approvals inbox (approver role): questions waiting for a person, oldest first,
        each with its token, kind and what it proposes."""
        return _call(lambda: tools.list_approvals(caller()))

    @server.tool()
    def decide_approval(
        token: Annotated[str, Field(min_length=1, max_length=100)], approved: bool
    ) -> ApprovalOut:
        """Approve or decline one waiting approval (approver role); its workflow resumes."""
        return _call(lambda: tools.decide_approval(caller(), token, approved))


class HttpEndpoint:
    """The ``/mcp`` route: the SDK's streamable-HTTP app, made anew each time the app starts
    (its session manager runs once per instance; tests start one app several times)."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self.app: Starlette | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve while the block runs (the app's lifespan)."""
        self.app = _http_app(self.server)
        try:
            async with self.server.session_manager.run():
                yield
        finally:
            self.app = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            unavailable = JSONResponse({"detail": "the MCP endpoint is not running"}, 503)
            await unavailable(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _http_app(server: MCPServer) -> Starlette:
    # Stateless JSON answers: any of the app's processes can serve any request (no session
    # to pin to one process).
    return server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        # Every request carries a bearer token, which a rebinding page cannot read: the Host
        # check would only refuse the deployed hostname.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
