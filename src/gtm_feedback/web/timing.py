"""Request timing: every HTTP answer's latency, by route template, for ``/metrics``."""

from __future__ import annotations

import time
from typing import Any

from gtm_feedback import metrics
from gtm_feedback.web.guard import ASGIApp, Message, Receive, Scope, Send


class RequestTiming:
    """Times each HTTP request from arrival to its last byte, labelled by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            metrics.observe_request(scope["method"], route_of(scope), status[0], seconds)


def route_of(scope: Scope) -> str:
    """The template of the route that answered (``/requests/{slug}``), never the raw path:
    raw paths would make one series per request."""
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"
