"""Built-in passwords: argon2id hashes (argon2-cffi's defaults), generated passwords."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
#: Verified against when the email is unknown, so a wrong email costs as long as a wrong
#: password and the answer's timing does not tell which accounts exist.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))

#: The shortest password accepted.
MIN_LENGTH = 12


def hash_password(password: str) -> str:
    """The argon2id hash to store for ``password`` (refused when too short)."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches the stored hash (always False without one)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(stored)


def generate() -> str:
    """A random password to hand out once (about 120 bits)."""
    return secrets.token_urlsafe(15)
