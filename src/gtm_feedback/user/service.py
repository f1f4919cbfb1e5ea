"""Users: look-up by email and creation on first sight."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gtm_feedback.user.models import User


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding space."""
    return email.strip().lower()


def get_by_email(session: Session, email: str) -> User | None:
    """The user with this email (case-insensitive), if any."""
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def get_or_create(session: Session, *, email: str, name: str | None = None) -> User:
    """The user with this email, created (named after the email if no name) when new."""
    user = get_by_email(session, email)
    if user is None:
        address = normalise_email(email)
        fallback = address.split("@", 1)[0].replace(".", " ").title()
        user = User(email=address, name=(name or fallback).strip())
        session.add(user)
        session.flush()
    return user
