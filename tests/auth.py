"""Credentials for tests: real users with real API tokens, made through the services."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI
from fastapi.testclient import TestClient

from gtm_feedback.config import Settings
from gtm_feedback.db.session import session_scope
from gtm_feedback.user import service as users
from gtm_feedback.user import tokens
from gtm_feedback.user.models import Role


def grant(url: str, role: Role = Role.admin, email: str | None = None) -> str:
    """A new API token of the user ``email`` (created with ``role`` if needed)."""
    address = email or f"{role.value}@tests.example"
    with session_scope(url, write=True) as session:
        user = users.get_or_create(session=session, email=address)
        users.set_role(session=session, user_id=user.id, role=role)
        return tokens.create(session=session, user=user, name=f"tests-{role.value}").secret


def bearer(url: str, role: Role = Role.admin, email: str | None = None) -> dict[str, str]:
    """The ``Authorization`` header of a new token (see :func:`grant`)."""
    return {"Authorization": f"Bearer {grant(url, role, email)}"}


@contextmanager
def signed_in(app: FastAPI, settings: Settings, role: Role = Role.admin) -> Iterator[TestClient]:
    """A started ``TestClient`` of ``app`` whose every request carries a token of ``role``."""
    with TestClient(app) as client:
        client.headers.update(bearer(settings.app_database_url, role))
        yield client
