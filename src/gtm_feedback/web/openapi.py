"""The OpenAPI document, completed: the bearer scheme every route uses, and the one error
shape (``{"detail": "..."}``) on every error answer a route documents."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, for people"}},
    "required": ["detail"],
    "example": {"detail": "no feature request with slug 'sso-okta'"},
}
#: Answers any route may give besides its own: no or a bad token, a role too low, busy.
COMMON: dict[str, str] = {
    "401": "No credentials, or an API token that is unknown, expired or revoked",
    "403": "The token's user lacks the role this needs",
    "503": "Busy (nothing was saved): retry after `Retry-After` seconds",
}
_PUBLIC = ("/healthz", "/readyz")


def install(app: FastAPI) -> None:
    """Serve the completed document from ``app.openapi()``."""
    generate = app.openapi

    def completed() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(generate())
        return app.openapi_schema

    app.openapi = completed  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the security scheme and the error shape filled in."""
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "token": {"type": "http", "scheme": "bearer", "description": "gtm-feedback tokens create"}
    }
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if not path.startswith(_PUBLIC):
                operation["security"] = [{"token": []}]
                for code, text in COMMON.items():
                    responses.setdefault(code, {"description": text})
            for code, answer in responses.items():
                if code[0] in "45" and code != "422" and "content" not in answer:
                    answer["content"] = error
    return schema
