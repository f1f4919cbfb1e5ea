"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope


def _in_utc(value: datetime) -> datetime:
    # Stored times are UTC: one that has no UTC form (0001-01-01 at +01:00) matches nothing
    # and cannot be bound, so it is refused as input; one without a zone is taken as UTC.
    try:
        return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
    except OverflowError as error:
        raise ValueError("a time between the years 1 and 9999 in UTC") from error


#: A point in time given as input (a query's ``since``): in UTC, naive taken as UTC.
Instant = Annotated[datetime, AfterValidator(_in_utc)]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


#: The largest offset a list accepts: past it there is nothing, and a 64-bit overflow waits.
MAX_OFFSET = 1_000_000


def get_session(request: Request) -> Iterator[Session]:
    """A database session for one request, committed before the answer is sent."""
    with session_scope(get_app_settings(request).app_database_url) as session:
        yield session


def get_write_session(request: Request) -> Iterator[Session]:
    """A session for a request that writes: SQLite's write lock is taken up front (it waits
    its turn instead of failing mid-transaction) and the commit happens before the answer,
    so a failed commit is the answer (503 when the database was busy), never a "saved"."""
    with session_scope(get_app_settings(request).app_database_url, write=True) as session:
        yield session


#: Requests that write at once, per process.
WRITE_CONCURRENCY = 4

# scope="function": the session closes (commits) when the handler returns, before the
# response goes out; the default would commit after the client was told it worked.
DbSession = Annotated[Session, Depends(get_session, scope="function")]
# At most a few writing requests hold a worker thread at once; the rest wait on the event
# loop without one. (On SQLite writers take turns: were every thread of the pool waiting for
# a turn, the request holding it could get no thread to finish on.)
DbWrite = Annotated[
    Session, Depends(get_write_session, scope="function", max_concurrency=WRITE_CONCURRENCY)
]
AppSettings = Annotated[Settings, Depends(get_app_settings)]


def field_errors(errors: list[tuple[str, str]]) -> RequestValidationError:
    """A 422 answer naming each bad body field, shaped like FastAPI's own."""
    return RequestValidationError(
        [
            {"type": "value_error", "loc": ("body", name), "msg": msg, "input": None}
            for name, msg in errors
        ]
    )
