"""API tokens: ``gtmfb_<id>_<secret>``, shown once, stored as a SHA-256 of the secret.

The secret is 256 random bits, so a fast hash is enough (nothing to brute-force, unlike a
password); the id lets a token be found without scanning, and the comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gtm_feedback.db.base import utcnow
from gtm_feedback.errors import InvalidInputError, NotFoundError
from gtm_feedback.user.models import ApiToken, User

PREFIX = "gtmfb_"
#: How often a token's last-used time is written (not on every request: a write each).
LAST_USED_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Issued:
    """A new token: the stored row and the full token, which is never shown again."""

    token: ApiToken
    secret: str


def split(text: str) -> tuple[str, str]:
    """A token's id and secret; a bare id (``tok_…``) gives an empty secret.

    The id is ``tok_`` and hex; the secret (URL-safe base64) may itself hold underscores.
    """
    kind, _, rest = text.removeprefix(PREFIX).partition("_")
    hex_id, _, secret = rest.partition("_")
    return (f"{kind}_{hex_id}" if kind and hex_id else ""), secret


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    *, session: Session, user: User, name: str, expires_in: timedelta | None = None
) -> Issued:
    """A new token for ``user`` named ``name``, expiring after ``expires_in`` if given."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInputError([("name", "a token needs a name of 1 to 100 characters")])
    secret = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, secret_sha256=_digest(secret))
    if expires_in is not None:
        row.expires_at = utcnow() + expires_in
    session.add(row)
    session.flush()
    return Issued(row, f"{PREFIX}{row.id}_{secret}")


def verify(*, session: Session, presented: str) -> tuple[ApiToken, User] | None:
    """The live token and its user for a presented token string, or None."""
    if not presented.startswith(PREFIX):
        return None
    token_id, secret = split(presented)
    row = session.get(ApiToken, token_id) if token_id else None
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
        return None
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    return row, user


def due_for_last_used(row: ApiToken, now: datetime) -> bool:
    """True when the token's last-used time is stale enough to be written again."""
    return row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY


def touch(*, session: Session, token_id: str) -> None:
    """Record that the token was used just now."""
    row = session.get(ApiToken, token_id)
    if row is not None:
        row.last_used_at = utcnow()


def listed(*, session: Session, user_id: str | None = None) -> list[tuple[ApiToken, User]]:
    """Every token (or one user's), newest first, with its user."""
    query = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    rows = session.execute(query.order_by(ApiToken.created_at.desc())).all()
    return [(token, user) for token, user in rows]


def revoke(*, session: Session, token_id: str) -> ApiToken:
    """Revoke a token at once; revoking twice keeps the first time."""
    row = session.get(ApiToken, split(token_id.strip())[0])
    if row is None:
        raise NotFoundError(f"no token {token_id!r}")
    row.revoked_at = row.revoked_at or utcnow()
    return row


def state(row: ApiToken, now: datetime) -> str:
    """``active``, ``expired`` or ``revoked``."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    return "active"
