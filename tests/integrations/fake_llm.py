"""A fake OpenAI-compatible ``/v1/chat/completions`` server, scripted reply by reply."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a completion, an HTTP error, or a stall longer than the timeout."""

    content: str = ""
    finish_reason: str = "stop"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0


@dataclass
class FakeLLM:
    """Pops one :class:`Reply` per request; when the script is empty, repeats the last one."""

    script: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    base_url: str = ""

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """The next scripted reply, in the chat completions wire format."""
        assert path.endswith("/chat/completions"), path
        self.requests.append(body)
        reply = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if reply.stall:
            time.sleep(reply.stall)
        if reply.status != 200:
            error = {"error": {"message": "scripted failure", "type": "server_error"}}
            return reply.status, reply.headers, json.dumps(error).encode()
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.content},
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }
        return 200, {}, json.dumps(payload).encode()
