"""Browser hardening: cross-site requests refused, and security headers on every response.

Cross-site request forgery is refused the way Go's ``http.CrossOriginProtection`` and OWASP's
current cheat sheet do it, from headers every browser of the last years sends: a state-changing
request whose ``Sec-Fetch-Site`` is not ``same-origin`` (or ``none``: typed, bookmarked), or
failing that whose ``Origin`` is not this server, is refused with 403 before any route. No
token to thread through every form and htmx call, nothing for a page to forget. Requests
without either header are not from a browser (a script with a token, Slack's servers) and
carry no ambient cookie authority an attacker could borrow.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from gtm_feedback.web.guard import ASGIApp, Message, Receive, Scope, Send

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: Pages load scripts and styles from this server only; no page may be framed (the Approve
#: and Ship buttons cannot be clickjacked). Inline style attributes stay allowed (chart bar
#: widths); inline script does not.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: https:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def is_cross_site(scope: Scope) -> bool:
    """True for a browser's state-changing request sent from another site."""
    if scope["method"] in _SAFE_METHODS:
        return False
    fetch_site = _header(scope, b"sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != (_header(scope, b"host") or "").lower()


class BrowserGuard:
    """Refuses cross-site state-changing requests (403) and adds the security headers."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = (*SECURITY_HEADERS, _HSTS) if https else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if is_cross_site(scope):
            await self._refuse(send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [h for h in message.get("headers", []) if h[0].lower() != b"server"]
                message["headers"] = [*kept, *self.headers]
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": "cross-site request refused"}).encode()
        headers = [(b"content-type", b"application/json"), *self.headers]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})
