"""Researcher accounts: create, authenticate (rate-limited), and the audit log.

Login is limited per e-mail address and per client address: after
``settings.login_max_failures`` failures within ``settings.login_window_s`` seconds,
further attempts are refused (429) until the window passes — counted from the audit
log, so the limit holds across server processes and restarts. An unknown address costs
the same argon2 work as a wrong password.

Sessions: a researcher's session token (cookie or bearer) carries the account's
``session_version``; :func:`end_sessions` (every logout) raises it, so all tokens made
before stop working at once, on every server process — signed tokens alone would stay
valid until they expire.

Examples
--------
>>> create_researcher(session, "ann@lab.example", "long passphrase", role="owner")  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dyadlab._validation import check_option
from dyadlab.platform.errors import AuthError, ConflictError, InvalidError, RateLimitError
from dyadlab.platform.security import hash_password, read_session, session_token, verify_password
from dyadlab.platform.tables import AuditLog, Researcher, utcnow

__all__ = [
    "ROLES",
    "audit",
    "authenticate",
    "create_researcher",
    "end_sessions",
    "new_session_token",
    "session_researcher",
]

ROLES = ("owner", "analyst")
MIN_PASSWORD_LENGTH = 10


def create_researcher(session: Session, email: str, password: str, *, role: str) -> Researcher:
    """Create an account with an argon2id password hash.

    Raises
    ------
    OptionError
        ``role`` is not ``owner`` or ``analyst``.
    InvalidError
        The password is shorter than 10 characters.
    ConflictError
        An account with this e-mail address exists.
    """
    check_option("role", role, ROLES, func="create_researcher")
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidError(f"{email!r} is not an e-mail address.", code="invalid_email")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            code="weak_password",
        )
    researcher = Researcher(email=email, password_hash=hash_password(password), role=role)
    session.add(researcher)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise ConflictError(f"An account for {email} exists already.", code="exists") from None
    return researcher


def audit(
    session: Session,
    action: str,
    *,
    researcher_id: int | None = None,
    study_id: int | None = None,
    subject: str | None = None,
    client: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Append a row to the audit log (the caller commits)."""
    row = AuditLog(
        action=action,
        researcher_id=researcher_id,
        study_id=study_id,
        subject=subject,
        client=client,
        detail=detail,
        at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _recent_failures(session: Session, email: str, client: str | None, since: datetime) -> int:
    who = [AuditLog.subject == email]
    if client:
        who.append(AuditLog.client == client)
    count = session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.action == "login_failed", AuditLog.at >= since, or_(*who)
        )
    )
    return int(count or 0)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    client: str | None = None,
    max_failures: int = 5,
    window_s: int = 900,
) -> Researcher:
    """The researcher with these credentials; logs the attempt in the audit log.

    Raises
    ------
    RateLimitError
        Too many recent failures for this address or client.
    AuthError
        Wrong e-mail address or password (one message for both).
    """
    email = email.strip().lower()
    since = utcnow() - timedelta(seconds=window_s)
    if _recent_failures(session, email, client, since) >= max_failures:
        raise RateLimitError()
    researcher = session.scalars(select(Researcher).where(Researcher.email == email)).first()
    ok = verify_password(researcher.password_hash if researcher else None, password)
    if researcher is None or not ok or not researcher.active:
        audit(session, "login_failed", subject=email, client=client)
        session.commit()
        raise AuthError("Wrong e-mail address or password.", code="login_failed")
    audit(session, "login", researcher_id=researcher.id, subject=email, client=client)
    return researcher


def new_session_token(secret_key: str, researcher: Researcher) -> str:
    """A session token for ``researcher``, valid until it expires or they log out."""
    return session_token(secret_key, researcher.id, researcher.session_version)


def session_researcher(
    session: Session, secret_key: str, token: str, max_age_s: int
) -> Researcher | None:
    """The active researcher whose unexpired, unrevoked session ``token`` this is, or None."""
    claims = read_session(secret_key, token, max_age_s)
    if claims is None:
        return None
    researcher = session.get(Researcher, claims[0])
    if researcher is None or not researcher.active:
        return None
    return researcher if researcher.session_version == claims[1] else None


def end_sessions(session: Session, researcher: Researcher, *, client: str | None = None) -> None:
    """Revoke every session token of ``researcher`` (logout) and write it to the audit log.

    The caller commits.
    """
    session.execute(
        update(Researcher)
        .where(Researcher.id == researcher.id)
        .values(session_version=Researcher.session_version + 1)
    )
    session.expire(researcher, ["session_version"])
    audit(session, "logout", researcher_id=researcher.id, subject=researcher.email, client=client)
