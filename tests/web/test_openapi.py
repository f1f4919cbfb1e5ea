"""The OpenAPI document tells an integrator what they need: a bearer token, a body example
for every call that takes one, and one error shape on every documented error."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest

from gtm_feedback.config import Settings
from gtm_feedback.main import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    settings = Settings(data_dir=Path("/nonexistent"), session_secret=secrets.token_urlsafe(32))
    return create_app(settings, launch_dbos=False).openapi()


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    found: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return found


def _has_example(document: dict[str, Any], body: dict[str, Any]) -> bool:
    content = body["content"].get("application/json", {})
    if content.get("examples") or content.get("example"):
        return True
    schema = _resolve(document, content.get("schema", {}))
    fields = schema.get("properties", {}).values()
    return bool(schema.get("examples")) or any("examples" in field for field in fields)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_body_has_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{method} {path}"
        for method, path, operation in _operations(document)
        if "requestBody" in operation
        and "application/json" in operation["requestBody"]["content"]
        and not _has_example(document, operation["requestBody"])
    ]
    assert missing == []


def test_every_error_has_the_one_shape_and_api_routes_need_a_token(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    error_ref = {"$ref": "#/components/schemas/Error"}
    api = [op for op in _operations(document) if op[1].startswith("/api/")]
    assert len(api) >= 30
    for method, path, operation in api:
        assert operation["security"] == [{"token": []}], (method, path)
        responses = operation["responses"]
        assert {"401", "403"} <= set(responses), (method, path)
        for code, answer in responses.items():
            if code[0] in "45" and code != "422":
                assert answer["content"]["application/json"]["schema"] == error_ref, (path, code)
    probes = document["paths"]["/healthz"]["get"]
    assert "security" not in probes
