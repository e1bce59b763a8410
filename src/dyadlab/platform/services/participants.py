"""Participants: find a person by their token, read and change their own settings.

Examples
--------
>>> check_timezone("Europe/Amsterdam")
'Europe/Amsterdam'
>>> check_email(" Ann@Uni.example ")
'Ann@Uni.example'
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defer

from dyadlab._validation import closest
from dyadlab.platform._inputs import shown
from dyadlab.platform.errors import InvalidError
from dyadlab.platform.security import hash_token
from dyadlab.platform.tables import Couple, Person, Study

__all__ = [
    "LANGUAGES",
    "check_email",
    "check_timezone",
    "person_by_token",
    "person_by_token_with_context",
    "person_context",
    "update_person",
]

LANGUAGES = ("en", "nl")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(tz: str) -> str:
    """Return ``tz`` if it is an IANA time zone name; :class:`InvalidError` otherwise."""
    if tz not in _zones():
        hint = closest(tz, sorted(_zones()))
        fix = f" Did you mean {hint!r}?" if hint else ""
        raise InvalidError(
            f"tz {tz!r} is not an IANA time zone name (like 'Europe/Amsterdam').{fix}",
            code="invalid_timezone",
        )
    return tz


# An address as reminders are sent to it: a local part without spaces, quotes, brackets or
# control characters (no dot first, last or twice), "@", and a domain of at least two
# labels of letters (any script), digits and inner hyphens, ending in letters.
_EMAIL = re.compile(
    r"(?=.{3,254}$)(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\\x00-\x1f\x7f]{1,64}(?<!\.)@"
    r"(?:[^\W_](?:[^\W_]|-){0,61}(?<!-)\.)+[^\W\d_]{2,63}"
)


def check_email(email: str) -> str:
    """Return ``email`` (spaces around it removed) if it has the shape of an e-mail
    address; :class:`InvalidError` (``invalid_email``) otherwise.

    The shape is checked, not the mailbox: one ``@``, no spaces, line breaks or
    control characters (they could add headers to a reminder e-mail), and a domain
    with a dot.

    Examples
    --------
    >>> try:
    ...     check_email("ann@lab.example\\r\\nBcc: all@example.org")
    ... except InvalidError as exc:
    ...     print(exc.code)
    invalid_email
    """
    text = email.strip()
    if not _EMAIL.fullmatch(text):
        raise InvalidError(
            f"email {shown(text, 24)!r} is not an e-mail address like name@example.org.",
            code="invalid_email",
        )
    return text


# Built once: constructing a statement and its cache key costs more CPU than running it
# (these run on every participant request).
_BY_TOKEN = select(Person).where(Person.token_hash == bindparam("token_hash"))
_CONTEXT = (
    select(Couple, Study)
    .join(Study, Study.id == Couple.study_id)
    .where(Couple.id == bindparam("couple_id"))
    .options(defer(Study.protocol))  # parsed protocols are cached by their hash
)


_BY_TOKEN_WITH_CONTEXT = (
    select(Person, Couple, Study)
    .join(Couple, Couple.id == Person.couple_id)
    .join(Study, Study.id == Couple.study_id)
    .where(Person.token_hash == bindparam("token_hash"))
    .options(defer(Study.protocol))
)
_CONTEXT_KEY = "dyadlab.person_context"


def person_by_token(session: Session, token: str) -> Person | None:
    """The person whose secret is ``token`` (compared by its SHA-256), or ``None``."""
    return session.scalars(_BY_TOKEN, {"token_hash": hash_token(token)}).first()


def person_by_token_with_context(session: Session, token: str) -> Person | None:
    """:func:`person_by_token`, loading the person's couple and study in the same query
    (kept for :func:`person_context` in this session: one round trip fewer per request)."""
    row = session.execute(_BY_TOKEN_WITH_CONTEXT, {"token_hash": hash_token(token)}).first()
    if row is None:
        return None
    person, couple, study = row
    session.info.setdefault(_CONTEXT_KEY, {})[person.id] = (couple, study)
    return person


def person_context(session: Session, person: Person) -> tuple[Couple, Study]:
    """The couple and study a person belongs to."""
    known = session.info.get(_CONTEXT_KEY, {}).get(person.id)
    if known is not None:
        couple, study = known
        return couple, study
    row = session.execute(_CONTEXT, {"couple_id": person.couple_id}).one()
    return row[0], row[1]


def update_person(
    session: Session,
    person: Person,
    *,
    tz: str | None = None,
    language: str | None = None,
    email: str | None = None,
) -> Person:
    """Change a person's own time zone, language or reminder e-mail address."""
    if tz is not None:
        person.tz = check_timezone(tz)
    if language is not None:
        if language not in LANGUAGES:
            raise InvalidError(
                f"language {language!r} is not offered; choose one of {list(LANGUAGES)}.",
                code="invalid_language",
            )
        person.language = language
    if email is not None:
        person.email = check_email(email) if email.strip() else None
    session.flush()
    return person
