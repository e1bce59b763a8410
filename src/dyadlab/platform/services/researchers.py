"""Researcher accounts: create, authenticate (rate-limited), and the audit log.

Login is limited per e-mail address and per client address: after
``settings.login_max_failures`` failures within ``settings.login_window_s`` seconds,
further attempts are refused (429) until the window passes — counted from the audit
log, so the limit holds across server processes and restarts. An unknown address costs
the same argon2 work as a wrong password.

The count is atomic and comes before the password is checked: every attempt first
writes a ``login_attempt`` row and counts the attempts of its address and client in the
window (less the successful logins) in the same transaction, which holds the lock of
that address and client (PostgreSQL: transaction-level advisory locks; SQLite: the
database's write lock, taken by the insert). An attempt beyond the limit is rolled back
and refused (an audit row ``login_locked``); only the others reach argon2, so 40
wrong passwords sent at once against a limit of 5 check at most 5. Each checked attempt
then adds ``login`` or ``login_failed``.

Sessions: a researcher's session token (cookie or bearer) carries the account's
``session_version``; :func:`end_sessions` (every logout) raises it, so all tokens made
before stop working at once, on every server process — signed tokens alone would stay
valid until they expire.

Examples
--------
>>> create_researcher(session, "ann@lab.example", "long passphrase", role="owner")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dyadlab._validation import check_option
from dyadlab.platform._inputs import shown
from dyadlab.platform.errors import AuthError, ConflictError, InvalidError, RateLimitError
from dyadlab.platform.security import hash_password, read_session, session_token, verify_password
from dyadlab.platform.tables import AuditLog, Researcher, Study, utcnow

__all__ = [
    "ROLES",
    "audit",
    "authenticate",
    "create_researcher",
    "end_sessions",
    "list_researchers",
    "new_session_token",
    "session_researcher",
    "set_active",
]

#: Account roles: ``admin`` manages accounts and may create studies, ``owner`` may create
#: studies, ``analyst`` may not. None of them gives access to a study by itself: that is
#: the study membership (:mod:`dyadlab.platform.services.access`).
ROLES = ("admin", "owner", "analyst")
MIN_PASSWORD_LENGTH = 10


def create_researcher(session: Session, email: str, password: str, *, role: str) -> Researcher:
    """Create an account with an argon2id password hash.

    Raises
    ------
    OptionError
        ``role`` is not ``admin``, ``owner`` or ``analyst``.
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
    """Append a row to the audit log (the caller commits).

    A row about a study names it twice: ``study_id``, and its title as ``detail["study"]``
    (which stays readable if the study is deleted later and ``study_id`` set to null).
    """
    if study_id is not None:
        study = session.get(Study, study_id)
        if study is not None:
            detail = {"study": study.title, **(detail or {})}
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


def _lock_id(key: str) -> int:
    """A signed 64-bit PostgreSQL advisory lock id for ``key``."""
    digest = hashlib.blake2b(f"dyadlab-login:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _admit(
    session: Session, email: str, client: str | None, since: datetime, max_failures: int
) -> bool:
    """Record a login attempt and say whether it may be checked (see the module notes).

    Commits: the attempt is counted by every attempt after it, whichever process runs it.
    """
    if session.get_bind().dialect.name == "postgresql":
        keys = [f"email:{email}"] + ([f"client:{client}"] if client else [])
        for lock in sorted(_lock_id(k) for k in keys):  # one order: no deadlock
            session.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": lock})
    audit(session, "login_attempt", subject=email, client=client)  # SQLite: the write lock
    who = [AuditLog.subject == email]
    if client:
        who.append(AuditLog.client == client)
    attempts, logins = session.execute(
        select(
            func.sum(case((AuditLog.action == "login_attempt", 1), else_=0)),
            func.sum(case((AuditLog.action == "login", 1), else_=0)),
        ).where(AuditLog.action.in_(("login_attempt", "login")), AuditLog.at >= since, or_(*who))
    ).one()
    if int(attempts or 0) - int(logins or 0) > max_failures:
        session.rollback()
        audit(session, "login_locked", subject=email, client=client)
        session.commit()
        return False
    session.commit()
    return True


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
    email = shown(email.strip().lower(), 320)  # a control character cannot be stored
    since = utcnow() - timedelta(seconds=window_s)
    if not _admit(session, email, client, since, max_failures):
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


def list_researchers(session: Session) -> list[Researcher]:
    """Every account, by e-mail address (for admins)."""
    return list(session.scalars(select(Researcher).order_by(Researcher.email)))


def set_active(
    session: Session, researcher_id: int, active: bool, *, by: int | None = None
) -> Researcher:
    """Activate or deactivate an account (audit-logged; the caller commits).

    A deactivated account cannot log in, and its sessions end at once.

    Raises
    ------
    NotFoundError
        There is no such account.
    ConflictError
        An admin tried to deactivate their own account (code ``self``).
    """
    from dyadlab.platform.errors import NotFoundError

    account = session.get(Researcher, researcher_id)
    if account is None:
        raise NotFoundError(f"There is no researcher account {researcher_id}.")
    if not active and researcher_id == by:
        raise ConflictError("You cannot deactivate your own account.", code="self")
    if account.active and not active:
        end_sessions(session, account)
    account.active = active
    audit(
        session,
        "account_on" if active else "account_off",
        researcher_id=by,
        subject=account.email,
    )
    return account
