"""A small OpenID provider on loopback for the sign-in tests: a real HTTP server, real RS256
ID tokens (signed with joserfc, Authlib's JOSE library), discovery and JWKS like Google's.

The authorization endpoint signs in whoever the test chose (``provider.next_identity``) and
sends the browser straight back with a one-time code, as an identity provider does once the
person has signed in there.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.servers import free_port

CLIENT_ID = "gtm-feedback-tests"
CLIENT_SECRET = "a-client-secret-for-the-tests"


@dataclass
class Provider:
    """The provider's state: its issuer URL, key, pending codes and who signs in next."""

    issuer: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    next_identity: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)

    def discovery(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    def jwks(self, _request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request: Request) -> Response:
        asked = request.query_params
        if asked.get("client_id") != CLIENT_ID or asked.get("response_type") != "code":
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": asked.get("nonce"), "identity": dict(self.next_identity)}
        back = {"code": code, "state": asked.get("state", "")}
        return RedirectResponse(f"{asked['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        grant = self.codes.pop(str(form.get("code")), None)
        if grant is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": grant["nonce"],
            **grant["identity"],
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.key)
        body = {"access_token": "at", "token_type": "Bearer", "expires_in": 300}
        return JSONResponse(body | {"id_token": id_token})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )


@contextmanager
def running_provider() -> Iterator[Provider]:
    """A provider served on a free loopback port for the duration of the block."""
    port = free_port()
    provider = Provider(issuer=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
