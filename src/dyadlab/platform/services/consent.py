"""Consent: an append-only log per person (``consent_events``).

A person consents to the protocol's current ``consent_version``; only then can they
answer. Consenting again to the same version is harmless (a new event is logged).
After withdrawal a person cannot consent again with the same link (the research team
can invite them anew).

Examples
--------
>>> give_consent(session, person, version=1)  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dyadlab.platform.errors import ConflictError, ForbiddenError
from dyadlab.platform.services.participants import person_context
from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.tables import ConsentEvent, Person, utcnow

__all__ = ["consent_history", "give_consent", "require_consent"]


def give_consent(
    session: Session, person: Person, *, version: int, now: datetime | None = None
) -> ConsentEvent:
    """Record that ``person`` consents to the protocol's consent text ``version``.

    Raises
    ------
    ConflictError
        ``version`` is not the protocol's current version (code ``consent_version``),
        or the person has withdrawn (code ``withdrawn``).
    """
    _couple, study = person_context(session, person)
    current = study_protocol(study).consent_version
    if person.status == "withdrawn":
        raise ConflictError(
            "You have left this study, so consent cannot be given again with this link. "
            "Contact the research team if you want to take part again.",
            code="withdrawn",
        )
    if version != current:
        raise ConflictError(
            f"Consent version {version} is not the current one; please read version "
            f"{current} of the information and consent to it.",
            code="consent_version",
        )
    event = ConsentEvent(person_id=person.id, kind="consent", version=version, at=now or utcnow())
    session.add(event)
    person.status = "active"
    person.consent_version = version
    session.flush()
    return event


def require_consent(session: Session, person: Person) -> None:
    """Raise unless ``person`` may answer now (consented, not withdrawn)."""
    if person.status == "withdrawn":
        raise ConflictError(
            "You have left this study; no more answers are collected.", code="withdrawn"
        )
    if person.status != "active" or person.consent_version is None:
        raise ForbiddenError(
            "Please read the study information and give consent before answering.",
            code="consent_required",
        )


def consent_history(session: Session, person: Person) -> list[ConsentEvent]:
    """The person's consent and withdrawal events, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.person_id == person.id)
            .order_by(ConsentEvent.at, ConsentEvent.id)
        )
    )
