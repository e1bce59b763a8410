"""Secrets: participant tokens, researcher passwords and sessions, and log redaction.

- Participant tokens are 256 random bits (``secrets.token_urlsafe(32)``); the database
  keeps only their SHA-256 (:func:`hash_token`). A fast hash is right here: the token is
  random, so there is nothing to brute-force, and lookups stay one indexed query.
- Researcher passwords are hashed with argon2id (argon2-cffi's defaults).
- Researcher sessions are signed, timestamped tokens (itsdangerous) carrying the
  researcher id; used as the ``dyadlab_session`` cookie or as a bearer token.
- :class:`RedactingFilter` removes bearer tokens, invitation-link tokens and session
  tokens from every log record it sees; :func:`install_log_redaction` applies it to
  every record the process creates.

Examples
--------
>>> token = new_token()
>>> len(token) >= 43 and hash_token(token) != token
True
>>> redact("GET /p/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG HTTP/1.1")
'GET /p/[redacted] HTTP/1.1'
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

__all__ = [
    "RedactingFilter",
    "hash_password",
    "hash_token",
    "install_log_redaction",
    "new_token",
    "read_session_token",
    "redact",
    "session_token",
    "verify_password",
]

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("dyadlab-timing-equaliser")
_SESSION_SALT = "dyadlab-researcher-session"


def new_token() -> str:
    """A new participant secret: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """SHA-256 (hex) of a participant token: what the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    """argon2id hash of a researcher password."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with ``None`` a dummy hash is checked (same timing)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def session_token(secret_key: str, researcher_id: int, version: int = 0) -> str:
    """A signed, timestamped session token for a researcher.

    ``version`` is the researcher's ``session_version`` when the token is made; logging
    out raises that number, which revokes every token made before (see
    :func:`read_session`).
    """
    serializer = URLSafeTimedSerializer(secret_key, salt=_SESSION_SALT)
    return str(serializer.dumps({"r": researcher_id, "v": version}))


def read_session(secret_key: str, token: str, max_age_s: int) -> tuple[int, int] | None:
    """``(researcher id, session version)`` of a valid, unexpired token, else ``None``.

    Examples
    --------
    >>> read_session("k" * 32, session_token("k" * 32, 7, version=2), 60)
    (7, 2)
    >>> read_session("k" * 32, "forged", 60) is None
    True
    """
    serializer = URLSafeTimedSerializer(secret_key, salt=_SESSION_SALT)
    try:
        data: Any = serializer.loads(token, max_age=max_age_s)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    value, version = data.get("r"), data.get("v", 0)
    if not isinstance(value, int) or not isinstance(version, int):
        return None
    return value, version


def read_session_token(secret_key: str, token: str, max_age_s: int) -> int | None:
    """The researcher id in a valid, unexpired session token, else ``None``.

    The token's signature and age only; whether it was revoked by a logout is
    :func:`dyadlab.platform.services.researchers.session_researcher`'s check.
    """
    claims = read_session(secret_key, token, max_age_s)
    return claims[0] if claims else None


_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"(/p/)[A-Za-z0-9_-]{16,}"), r"\1[redacted]"),
    (
        re.compile(
            r"(?i)((?:token|dyadlab_session|password|private_key)[\"']?\s*[=:]\s*[\"']?)"
            r"[^\s\"'&,;}]+"
        ),
        r"\1[redacted]",
    ),
    (  # a PEM private key (e.g. the VAPID key) anywhere in a message
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S
        ),
        "[redacted private key]",
    ),
)


def redact(text: str) -> str:
    """``text`` with tokens, session cookies and passwords replaced by ``[redacted]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from the formatted message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose args do not format; leave it to the handler
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()
_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "dyadlab", "httpx")
_INSTALLED: list[bool] = []


def install_log_redaction() -> None:
    """Redact secrets from every log record of this process.

    A record factory cleans each record when it is created (whichever logger makes it,
    and before any handler sees it); :class:`RedactingFilter` is also put on the usual
    loggers and their handlers for records made by a replaced factory. Calling it twice
    is harmless.
    """
    if not _INSTALLED:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _FILTER.filter(record)
            return record

        logging.setLogRecordFactory(factory)
        _INSTALLED.append(True)
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
        for handler in logger.handlers:
            if _FILTER not in handler.filters:
                handler.addFilter(_FILTER)
