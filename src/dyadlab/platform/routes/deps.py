"""Shared FastAPI dependencies: settings, the database session, who is asking.

Participant routes authenticate with ``Authorization: Bearer TOKEN`` (the personal
secret of the invitation link). Researcher routes take the signed session token as a
bearer token or as the ``dyadlab_session`` cookie; with the cookie, every changing
request must carry ``X-CSRF-Token`` (returned at login). A token made before the
researcher's last logout is refused (``Researcher.session_version``).

Study routes take the study through one of :data:`ReadStudy`, :data:`ComplianceStudy`,
:data:`ExportStudy`, :data:`InviteStudy`, :data:`WithdrawStudy`, :data:`MembersStudy` and
:data:`RunSessionsStudy`:
each is :func:`dyadlab.platform.services.access.study_for` with its action, so access
is decided in one place (a non-member gets 404 like a missing study, a member whose
role does not allow the action 403).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

from dyadlab.platform.errors import AuthError, ForbiddenError
from dyadlab.platform.services.access import study_for
from dyadlab.platform.services.participants import person_by_token_with_context
from dyadlab.platform.services.researchers import session_researcher
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Person, Researcher, Study

__all__ = [
    "SESSION_COOKIE",
    "AdminResearcher",
    "AppSettings",
    "ComplianceStudy",
    "CreatorResearcher",
    "CurrentPerson",
    "CurrentResearcher",
    "DbSession",
    "ExportStudy",
    "InviteStudy",
    "MembersStudy",
    "Now",
    "ReadStudy",
    "RunSessionsStudy",
    "StudyId",
    "WithdrawStudy",
    "bearer_token",
    "csrf_token",
    "researcher_token",
    "set_session_cookie",
    "study_access",
]

SESSION_COOKIE = "dyadlab_session"
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


async def get_settings(request: Request) -> Settings:
    """The app's settings (``async``: no thread-pool hop for a dictionary lookup)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A database session for one request; rolled back unless the route committed.

    ``async``: making a session does no I/O (it connects on its first query, in the
    route's thread), and after a commit closing it does none either, so this saves two
    thread-pool hops per request. After an error the rollback returns the connection to
    the pool from the event loop (one quick round trip).
    """
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


async def get_now(request: Request) -> datetime:
    """The current time (aware UTC) from the app's clock (tests set a fixed one)."""
    now: datetime = request.app.state.clock()
    return now


AppSettings = Annotated[Settings, Depends(get_settings)]
Now = Annotated[datetime, Depends(get_now)]
DbSession = Annotated[Session, Depends(get_session)]


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, else ``None``.

    Examples
    --------
    >>> bearer_token("Bearer abc "), bearer_token("Basic abc"), bearer_token("Bearer ")
    ('abc', None, None)
    """
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _bearer(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization", ""))


def researcher_token(request: Request) -> str | None:
    """The researcher session token of a request: bearer token, else the cookie."""
    return _bearer(request) or request.cookies.get(SESSION_COOKIE)


def current_person(request: Request, session: DbSession) -> Person:
    """The participant whose token is in the ``Authorization`` header."""
    token = _bearer(request)
    person = person_by_token_with_context(session, token or "")
    if person is None:
        raise AuthError("A valid personal access token is needed (Authorization: Bearer ...).")
    return person


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """Put the researcher's session token in the ``dyadlab_session`` cookie (HttpOnly,
    SameSite=Strict, Secure under https; it lasts ``settings.session_max_age_s``)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_max_age_s,
        httponly=True,
        secure=settings.https,
        samesite="strict",
        path="/",
    )


def csrf_token(secret_key: str, session_token: str) -> str:
    """The CSRF token that belongs to a researcher session token."""
    digest = hmac.new(secret_key.encode(), session_token.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def current_researcher(request: Request, session: DbSession, settings: AppSettings) -> Researcher:
    """The logged-in researcher (bearer session token, or cookie plus CSRF header)."""
    token = _bearer(request)
    from_cookie = False
    if token is None:
        token = request.cookies.get(SESSION_COOKIE)
        from_cookie = token is not None
    researcher = (
        session_researcher(session, settings.secret_key, token, settings.session_max_age_s)
        if token
        else None
    )
    if researcher is None or token is None:
        raise AuthError("Please log in.", code="login_required")
    if from_cookie and request.method not in _SAFE_METHODS:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent, csrf_token(settings.secret_key, token)):
            raise ForbiddenError("Missing or wrong X-CSRF-Token header.", code="csrf")
    return researcher


def creator_researcher(
    researcher: Annotated[Researcher, Depends(current_researcher)],
) -> Researcher:
    """The logged-in researcher, whose account may create studies (``admin`` or
    ``owner``)."""
    if researcher.role not in ("admin", "owner"):
        raise ForbiddenError("Only an owner or admin account can create studies.")
    return researcher


def admin_researcher(researcher: Annotated[Researcher, Depends(current_researcher)]) -> Researcher:
    """The logged-in researcher, who must have an ``admin`` account."""
    if researcher.role != "admin":
        raise ForbiddenError("Only an admin can manage accounts.")
    return researcher


CurrentPerson = Annotated[Person, Depends(current_person)]
CurrentResearcher = Annotated[Researcher, Depends(current_researcher)]
CreatorResearcher = Annotated[Researcher, Depends(creator_researcher)]
AdminResearcher = Annotated[Researcher, Depends(admin_researcher)]
StudyId = Annotated[int, PathParam(ge=1, le=2**31 - 1, description="Study id.")]


def study_access(action: str) -> Callable[[int, Researcher, Session], Study]:
    """A dependency giving the path's study if the logged-in researcher may do
    ``action`` in it (:func:`~dyadlab.platform.services.access.study_for`)."""

    def dependency(study_id: StudyId, researcher: CurrentResearcher, session: DbSession) -> Study:
        return study_for(session, researcher, study_id, action)

    dependency.__name__ = f"study_for_{action}"
    return dependency


ReadStudy = Annotated[Study, Depends(study_access("read"))]
ComplianceStudy = Annotated[Study, Depends(study_access("compliance"))]
ExportStudy = Annotated[Study, Depends(study_access("export"))]
InviteStudy = Annotated[Study, Depends(study_access("invite"))]
WithdrawStudy = Annotated[Study, Depends(study_access("withdraw"))]
MembersStudy = Annotated[Study, Depends(study_access("members"))]
RunSessionsStudy = Annotated[Study, Depends(study_access("run_sessions"))]
