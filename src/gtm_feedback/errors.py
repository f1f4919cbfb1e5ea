"""The application's errors: one tree, mapped once to HTTP statuses by ``web.errors``.

Raise the kind that says what went wrong; the web layer answers 404 / 409 / 422 (a page for
people, JSON for the API), the CLI prints the message, and steps stop retrying a
:class:`PermanentError`.
"""

from __future__ import annotations

from collections.abc import Sequence


class AppError(Exception):
    """Base of every error the application raises on purpose."""


class NotFoundError(AppError, LookupError):
    """The thing named does not exist (HTTP 404)."""


class UnauthenticatedError(AppError):
    """No valid credential came with the request (HTTP 401; pages redirect to sign-in)."""


class ForbiddenError(AppError):
    """The credential is valid but its role may not do this (HTTP 403)."""


class ConflictError(AppError):
    """The action clashes with the current state, e.g. decided twice (HTTP 409)."""


class InvalidInputError(AppError, ValueError):
    """Input refused before anything happened (HTTP 422).

    ``errors`` names each bad field as (field, message) when the input has fields; a plain
    message is for input without them (a file, a command-line argument).
    """

    def __init__(self, errors: Sequence[tuple[str, str]] | str) -> None:
        if isinstance(errors, str):
            super().__init__(errors)
            self.errors: list[tuple[str, str]] = []
        else:
            super().__init__("; ".join(f"{name}: {message}" for name, message in errors))
            self.errors = list(errors)


class UnavailableError(AppError):
    """No room for this request now; nothing was done, retry shortly (HTTP 503)."""


class RateLimitedError(AppError):
    """The client sent more than its rate allows; nothing was done (HTTP 429)."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PermanentError(AppError):
    """A failure retrying cannot fix (unknown id, invalid input): a step stops retrying."""
