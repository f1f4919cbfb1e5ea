"""User, API token and audit event ORM models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from gtm_feedback.db.base import Base, new_id, utcnow
from gtm_feedback.db.types import UTCDateTime


class Role(StrEnum):
    """What a person may do; each role may do everything the ones before it may."""

    viewer = "viewer"  # read
    member = "member"  # submit feedback, follow requests
    approver = "approver"  # decide approvals, change status, ship, create and edit requests
    admin = "admin"  # areas, users, tokens, imports, run operations, settings

    @property
    def rank(self) -> int:
        """Position in the order viewer < member < approver < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank


class User(Base):
    """A person (or the system user) who submits feedback, follows requests or decides."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("usr"))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    role: Mapped[str] = mapped_column(String(20), default=Role.member.value)
    # argon2 hash of a built-in password; None for people who sign in with OpenID Connect only.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # Bumped when the password changes, the role changes or the user is disabled: every
    # session cookie issued before no longer counts.
    session_version: Mapped[int] = mapped_column(Integer, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    slack_user_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_admin(self) -> bool:
        """True for administrators."""
        return self.role == Role.admin.value


class ApiToken(Base):
    """A bearer token acting as its user; only a hash of its secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("tok"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEvent(Base):
    """Who did what, when and from where: one row per consequential action."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True, default=lambda: new_id("aud"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), index=True)
    # How the actor is shown: an email, "token <name> of <email>", "slack:U…", "cli".
    actor: Mapped[str] = mapped_column(String(400))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(100), default="")
