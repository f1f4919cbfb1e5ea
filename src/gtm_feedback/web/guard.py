"""The boundary guard: every request's size and NUL bytes checked once, before any route.

An ASGI middleware rather than per-route checks, so no route can forget: a body over the limit
is refused with 413 while it streams in (never read whole), and a NUL byte anywhere in the
path, the query or a text body (raw, ``%00`` in a form, ``\\u0000`` in JSON) is refused with
422. PostgreSQL cannot store NUL in text, so letting one through fails later, after a 202.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_NUL_ENCODED = re.compile(rb"%00|(?<!\\)\\u0000", re.IGNORECASE)


def has_nul(data: bytes) -> bool:
    """True when ``data`` holds a NUL byte, raw or percent- or JSON-escaped."""
    return b"\x00" in data or _NUL_ENCODED.search(data) is not None


class BoundaryGuard:
    """Refuses oversized bodies (413) and NUL bytes (422) before the app sees the request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = bytes(scope.get("raw_path") or scope["path"].encode()) + scope["query_string"]
        if has_nul(where):
            await _refuse(send, 422, _field_error("url", "NUL bytes are not allowed in the URL"))
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await _refuse(send, 413, self._too_large())
            return
        body = await self._read(receive)
        if body is None:
            await _refuse(send, 413, self._too_large())
            return
        if has_nul(body):
            message = "NUL bytes are not allowed in the request body"
            await _refuse(send, 422, _field_error("body", message))
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self) -> str:
        return f"the request body is over the limit of {self.max_body_bytes} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # the disconnect, when the client goes away

    return replay


def _field_error(where: str, message: str) -> list[dict[str, Any]]:
    # Shaped like FastAPI's own 422s, so clients read one format.
    return [{"type": "value_error", "loc": [where], "msg": message}]


async def _refuse(send: Send, status: int, detail: str | list[dict[str, Any]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
