"""A fake Slack: the Web API methods the app calls, as a real HTTP server on loopback.

It records every call (method and parameters, whether sent as JSON, a form or a query), keeps
a few users, channels and threads, can answer a method with scripted failures (429 with
``Retry-After``, 500, ``ok: false``), and receives slash-command ``response_url`` posts.
Requests to the app are signed here exactly as Slack signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

Answer = tuple[int, dict[str, str], dict[str, Any]]
_JSON_FIELDS = ("blocks", "view", "unfurls", "attachments")


@dataclass
class Call:
    """One Web API call as the fake received it."""

    method: str
    params: dict[str, Any]
    at: float


@dataclass
class FakeSlack:
    """State and scripted answers; ``base_url`` is set once it serves."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by "channel:ts"
    external_channels: set[str] = field(default_factory=set)
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[Answer]] = field(default_factory=dict)
    base_url: str = ""
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_url(self) -> str:
        """What ``GTMFB_SLACK_API_URL`` should be."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        """A slash command's response URL served by this fake."""
        return f"{self.base_url}/respond/{name}"

    def fail(self, method: str, *answers: Answer) -> None:
        """Answer the next calls of ``method`` with these, in order, then normally."""
        self.failures.setdefault(method, []).extend(answers)

    def of(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method`` so far."""
        return [call.params for call in list(self.calls) if call.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30) -> list[dict[str, Any]]:
        """The calls of ``method`` once there are at least ``count`` of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{method} called {len(self.of(method))} times, wanted {count}")

    def wait_until(
        self, method: str, wanted: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> list[dict[str, Any]]:
        """The calls of ``method`` that are ``wanted``, once there is at least one.

        Other tests of a module share the fake: a test waits for its own call, not for any.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [call for call in self.of(method) if wanted(call)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no wanted {method} call within {timeout} s")

    def answer(self, method: str, params: dict[str, Any]) -> Answer:
        """Record the call; the scripted failure if any, else the method's normal answer."""
        with self._lock:
            self.calls.append(Call(method, params, time.monotonic()))
            scripted = self.failures.get(method)
            if scripted:
                return scripted.pop(0)
            return 200, {}, self._normal(method, params)

    def _normal(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        channel = str(p.get("channel", ""))
        if method == "chat.postMessage":
            target = "D" + channel[1:] if channel.startswith("U") else channel
            return {"ok": True, "channel": target, "ts": ts, "message": {"text": p.get("text")}}
        if method == "users.info":
            user = self.users.get(str(p.get("user")))
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "conversations.replies":
            return {"ok": True, "messages": self._thread(channel, str(p.get("ts")))}
        if method == "conversations.history":
            return {"ok": True, "messages": self._thread(channel, str(p.get("latest")))[:1]}
        if method == "conversations.info":
            shared = channel in self.external_channels
            return {"ok": True, "channel": {"id": channel, "is_ext_shared": shared}}
        if method == "views.open":
            return {"ok": True, "view": {"id": f"V{next(self._ts)}"}}
        return {"ok": True, "channel": channel, "ts": p.get("ts", ts), "message_ts": ts}

    def _thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        root = self.threads.get(f"{channel}:{ts}")
        if root is not None:
            return root
        for messages in self.threads.values():
            for message in messages:
                if message.get("ts") == ts and message.get("thread_ts") != ts:
                    return [message]
        return []


def _params(handler: BaseHTTPRequestHandler) -> dict[str, Any]:
    url = urlparse(handler.path)
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(url.query).items()}
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length).decode() if length else ""
    if "json" in (handler.headers.get("Content-Type") or ""):
        params.update(json.loads(raw or "{}"))
    elif raw:
        params.update({k: v[0] for k, v in parse_qs(raw).items()})
    for name in _JSON_FIELDS:
        if isinstance(params.get(name), str):
            params[name] = json.loads(params[name])
    return params


@contextmanager
def serve_slack(fake: FakeSlack) -> Iterator[FakeSlack]:
    """Serve ``fake`` on an ephemeral loopback port for the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def _handle(self) -> None:
            path = urlparse(self.path).path
            params = _params(self)
            if path.startswith("/respond/"):
                fake.responses.append({"name": path.rsplit("/", 1)[1], **params})
                status, headers, body = 200, dict[str, str](), {"ok": True}
            else:
                status, headers, body = fake.answer(path.removeprefix("/api/"), params)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def signed_headers(secret: str, body: str, *, timestamp: float | None = None) -> dict[str, str]:
    """The headers Slack sends: a timestamp and ``v0=HMAC-SHA256(secret, v0:ts:body)``."""
    stamp = str(int(time.time() if timestamp is None else timestamp))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest.hexdigest()}"}


def form(payload: dict[str, Any]) -> str:
    """An interactivity body: ``payload=<json>`` form-encoded, as Slack posts it."""
    return urlencode({"payload": json.dumps(payload)})
