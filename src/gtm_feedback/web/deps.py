"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request, committed when the handler returns."""
    with session_scope(get_app_settings(request).app_database_url) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]


def field_errors(errors: list[tuple[str, str]]) -> RequestValidationError:
    """A 422 answer naming each bad body field, shaped like FastAPI's own."""
    return RequestValidationError(
        [
            {"type": "value_error", "loc": ("body", name), "msg": msg, "input": None}
            for name, msg in errors
        ]
    )
