"""A fake OpenAI-compatible ``/v1/embeddings`` server on loopback, scripted per test."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, TypeVar

import numpy as np


def fake_vector(text: str, dimensions: int) -> list[float]:
    """A deterministic, unnormalised vector for ``text`` (seeded by its hash)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector: list[float] = (np.random.default_rng(seed).standard_normal(dimensions) * 3).tolist()
    return vector


@dataclass
class FakeOpenAI:
    """Answers embeddings requests; ``script`` holds (status, headers) to return first."""

    dimensions: int = 384
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    base_url: str = ""

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """The scripted failure, or embeddings listed in reverse order (clients must sort)."""
        self.requests.append(body)
        if self.script:
            status, headers = self.script.pop(0)
            return status, headers, json.dumps({"error": {"message": "scripted"}}).encode()
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text, self.dimensions)}
            for i, text in enumerate(body["input"])
        ]
        payload = {
            "object": "list",
            "data": list(reversed(data)),
            "model": body["model"],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        return 200, {}, json.dumps(payload).encode()


class Answers(Protocol):
    """A scripted server: answers one POST, and records what it was sent."""

    base_url: str
    headers: list[dict[str, str]]

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for one request."""
        ...


F = TypeVar("F", bound=Answers)


@contextmanager
def serve(fake: F) -> Iterator[F]:
    """Run ``fake`` on an ephemeral loopback port for the duration of the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            fake.headers.append({k.lower(): v for k, v in self.headers.items()})
            status, headers, body = fake.answer(self.path, json.loads(self.rfile.read(length)))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
