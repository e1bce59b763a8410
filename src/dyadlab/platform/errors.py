"""Errors the platform's services raise, each with an HTTP status and a stable code.

The API turns every one of them into the one pinned error shape::

    {"error": {"code": "not_found", "message": "Not found."}}

(422 answer errors add ``"details": [{"item": ..., "message": ...}]``). The command line
prints the message on one line (they are :class:`~dyadlab.exceptions.DyadlabError`\\ s).

Examples
--------
>>> err = NotFoundError()
>>> err.status, err.code, str(err)
(404, 'not_found', 'Not found.')
"""

from __future__ import annotations

from typing import Any, ClassVar

from dyadlab.exceptions import DyadlabError

__all__ = [
    "AuthError",
    "ConflictError",
    "ForbiddenError",
    "InvalidError",
    "NotFoundError",
    "PlatformError",
    "RateLimitError",
]


class PlatformError(DyadlabError):
    """Base class: ``status`` (HTTP), ``code`` (stable, for clients) and a message."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    default_message: ClassVar[str] = "Bad request."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.details = details
        super().__init__(self.message)


class NotFoundError(PlatformError):
    """404 — the same for a missing resource and one that belongs to someone else."""

    status = 404
    default_code = "not_found"
    default_message = "Not found."


class AuthError(PlatformError):
    """401 — no or an invalid token / session."""

    status = 401
    default_code = "unauthorized"
    default_message = "A valid access token is needed."


class ForbiddenError(PlatformError):
    """403 — authenticated, but not allowed (e.g. an analyst creating a study)."""

    status = 403
    default_code = "forbidden"
    default_message = "You are not allowed to do this."


class ConflictError(PlatformError):
    """409 — the request is valid but the state does not allow it (a closed window)."""

    status = 409
    default_code = "conflict"
    default_message = "This cannot be done now."


class InvalidError(PlatformError):
    """422 — the content is wrong (an answer out of range, an unknown questionnaire)."""

    status = 422
    default_code = "invalid"
    default_message = "The request is not valid."


class RateLimitError(PlatformError):
    """429 — too many attempts (login)."""

    status = 429
    default_code = "rate_limited"
    default_message = "Too many attempts. Wait a few minutes and try again."
