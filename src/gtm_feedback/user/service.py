"""Users: look-up by email and creation on first sight."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gtm_feedback.db.upsert import add_in_savepoint
from gtm_feedback.errors import NotFoundError
from gtm_feedback.text.formats import LIKE_ESCAPE, contains_pattern
from gtm_feedback.user import passwords
from gtm_feedback.user.models import Role, User


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding space."""
    return email.strip().lower()


def get_by_email(*, session: Session, email: str) -> User | None:
    """The user with this email (case-insensitive), if any."""
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def get_or_create(*, session: Session, email: str, name: str | None = None) -> User:
    """The user with this email, created (named after the email if no name) when new."""
    user = get_by_email(session=session, email=email)
    if user is not None:
        return user
    address = normalise_email(email)
    fallback = address.split("@", 1)[0].replace(".", " ").title()
    user = User(email=address, name=(name or fallback).strip())
    try:
        # Two runs seeing the same new email at once both insert; on PostgreSQL the second
        # fails on the unique email once the first commits. Only the savepoint is lost: the
        # user the first wrote is then visible, and is the one.
        add_in_savepoint(session, user)
    except IntegrityError:
        found = get_by_email(session=session, email=email)
        if found is None:
            raise
        return found
    return user


def by_slack_id(*, session: Session, slack_user_id: str) -> User | None:
    """The user linked to this Slack user id, if any."""
    return session.scalar(select(User).where(User.slack_user_id == slack_user_id))


def link_slack(
    session: Session, *, slack_user_id: str, user_id: str | None, email: str, name: str
) -> User:
    """Link the Slack id to ``user_id`` (a known user), or to a user created from the email."""
    user = session.get(User, user_id) if user_id else None
    if user is None:
        user = get_or_create(session=session, email=email, name=name or None)
    user.slack_user_id = slack_user_id
    session.flush()
    return user


def display_name(*, session: Session, slack_user_id: str) -> str:
    """Who a Slack user is in the app: the linked user's email, else ``slack:<id>``."""
    user = by_slack_id(session=session, slack_user_id=slack_user_id)
    return user.email if user else f"slack:{slack_user_id}"


def slack_id(*, session: Session, user_id: str) -> str | None:
    """The user's Slack member id, or None (unknown user, or never linked to Slack)."""
    user = session.get(User, user_id)
    return user.slack_user_id if user else None


def get(*, session: Session, user_id: str) -> User | None:
    """The user with this id, if any."""
    return session.get(User, user_id)


def emails_by_id(*, session: Session, ids: Iterable[str]) -> dict[str, str]:
    """The email of each of these users, by id (unknown ids are left out)."""
    rows = session.execute(select(User.id, User.email).where(User.id.in_(set(ids))))
    return {row.id: row.email for row in rows}


def everyone(*, session: Session) -> list[User]:
    """Every user, the most powerful roles first, then by email."""
    found = list(session.scalars(select(User).order_by(User.email)))
    return sorted(found, key=lambda user: -Role(user.role).rank)


def without_slack(*, session: Session, limit: int) -> list[User]:
    """Up to ``limit`` users not linked to a Slack member yet."""
    return list(session.scalars(select(User).where(User.slack_user_id.is_(None)).limit(limit)))


def set_role(*, session: Session, user_id: str, role: Role) -> User:
    """Give a user another role; their sessions end (they sign in again with the new one)."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user {user_id!r}")
    if user.role != role.value:
        user.role = role.value
        user.session_version += 1
    return user


def set_password(*, session: Session, user: User, password: str) -> None:
    """Set a built-in password (argon2id); every session of the user ends."""
    user.password_hash = passwords.hash_password(password)
    user.session_version += 1


def listing(*, text: str = "", role: Role | None = None) -> Select[User]:
    """Users whose name or email contains ``text``, of one role or all, by email."""
    stmt = select(User).order_by(User.email)
    if text.strip():
        like = contains_pattern(text.strip())
        stmt = stmt.where(
            User.email.ilike(like, escape=LIKE_ESCAPE) | User.name.ilike(like, escape=LIKE_ESCAPE)
        )
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    return stmt
