"""Invite couples: each partner gets a personal link with a secret token.

The token is returned once, here, and only its SHA-256 is stored
(:func:`dyadlab.platform.security.hash_token`). Both partners of a couple share one
``start_date`` (diary day 1) and one random ``seed`` (so semi-random prompts come at the
same moments for both).

Examples
--------
>>> invites = invite_couples(session, study.id, 2, base_url="https://lab.example")  # doctest: +SKIP
>>> invites[0].partners[0].url  # doctest: +SKIP
'https://lab.example/p/3q2...'
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dyadlab._validation import check_range
from dyadlab.platform.security import hash_token, new_token
from dyadlab.platform.services.participants import check_timezone
from dyadlab.platform.services.studies import get_study, study_protocol
from dyadlab.platform.tables import Couple, Person, utcnow

__all__ = ["CoupleInvitation", "PartnerInvitation", "invitation_url", "invite_couples"]

MAX_COUPLES_PER_CALL = 10_000


@dataclass(frozen=True)
class PartnerInvitation:
    """One partner's invitation; ``token`` is the secret (shown once, never stored)."""

    person_id: int
    role: str | None
    token: str
    url: str


@dataclass(frozen=True)
class CoupleInvitation:
    """A couple and its two partners' invitations."""

    couple_id: int
    start_date: date
    partners: tuple[PartnerInvitation, PartnerInvitation]

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dyadlab study invite --json`` for this couple."""
        return {
            "couple_id": self.couple_id,
            "start_date": self.start_date.isoformat(),
            "partners": [
                {"person_id": p.person_id, "role": p.role, "token": p.token, "url": p.url}
                for p in self.partners
            ],
        }


def invitation_url(base_url: str, token: str) -> str:
    """The personal link of a participant: ``{base_url}/p/{token}``."""
    return f"{base_url.rstrip('/')}/p/{token}"


def invite_couples(
    session: Session,
    study_id: int,
    n: int,
    *,
    base_url: str,
    start_date: date | None = None,
    tz: str = "Europe/Amsterdam",
    language: str | None = None,
    now: datetime | None = None,
) -> list[CoupleInvitation]:
    """Create ``n`` couples in a study, two invited partners each.

    Parameters
    ----------
    session : Session
    study_id : int
    n : int
        Number of couples (1 to 10,000).
    base_url : str
        The server's public address, for the links.
    start_date : date, optional
        Diary day 1 for these couples; default today in ``tz``.
    tz : str
        Initial IANA time zone of the partners (each can change their own).
    language : str, optional
        Initial language; default the protocol's ``default_language``.
    now : datetime, optional
        The current time (aware); default the clock.

    Returns
    -------
    list of CoupleInvitation
        Roles are the protocol's ``roles`` in order, or ``None`` for indistinguishable
        couples.
    """
    check_range("couples", n, func="invite_couples", low=1, high=MAX_COUPLES_PER_CALL)
    zone = ZoneInfo(check_timezone(tz))
    study = get_study(session, study_id)
    protocol = study_protocol(study)
    roles: list[str | None] = list(protocol.roles) if protocol.roles else [None, None]
    lang = language or protocol.default_language
    now = now or utcnow()
    day1 = start_date or now.astimezone(zone).date()
    out: list[CoupleInvitation] = []
    for _ in range(n):
        couple = Couple(
            study_id=study.id, start_date=day1, seed=secrets.randbelow(2**31), created_at=now
        )
        session.add(couple)
        session.flush()
        partners = []
        for role in roles[:2]:
            token = new_token()
            person = Person(
                couple_id=couple.id,
                role=role,
                token_hash=hash_token(token),
                tz=tz,
                language=lang,
                status="invited",
                created_at=now,
            )
            session.add(person)
            session.flush()
            partners.append(
                PartnerInvitation(person.id, role, token, invitation_url(base_url, token))
            )
        out.append(CoupleInvitation(couple.id, day1, (partners[0], partners[1])))
    return out
