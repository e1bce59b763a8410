"""Invite couples: each partner gets a personal link with a secret token.

The token is returned once, here, and only its SHA-256 is stored
(:func:`dyadlab.platform.security.hash_token`). Both partners of a couple share one
``start_date`` (diary day 1) and one random ``seed`` (so semi-random prompts come at the
same moments for both).

Couples get the protocol's ``roles`` unless the call names each couple's composition:
``roles=[("man", "woman"), ("woman", "woman"), None]`` — two role labels per couple
(the same label twice for a same-role couple, in mixed studies) or ``None`` for a couple
without roles (indistinguishable). When the protocol names its roles, only those labels
are accepted (so a typo cannot make a third role); otherwise any short label is.

Examples
--------
>>> invites = invite_couples(session, study.id, 2, base_url="https://lab.example")  # doctest: +SKIP
>>> invites[0].partners[0].url  # doctest: +SKIP
'https://lab.example/p/3q2...'
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from dyadlab._validation import check_range
from dyadlab.exceptions import OptionError
from dyadlab.platform.protocol import Protocol
from dyadlab.platform.security import hash_token, new_token
from dyadlab.platform.services.participants import check_timezone
from dyadlab.platform.services.studies import get_study, study_protocol
from dyadlab.platform.tables import Couple, Person, utcnow

__all__ = ["CoupleInvitation", "PartnerInvitation", "invitation_url", "invite_couples"]

MAX_COUPLES_PER_CALL = 10_000
MAX_ROLE_LENGTH = 40

RolePair = tuple[str | None, str | None]


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
    roles: Sequence[Sequence[str] | None] | None = None,
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
    roles : sequence, optional
        One entry per couple (``n`` entries): two role labels, or ``None`` for a couple
        without roles. Default: every couple gets the protocol's ``roles``.

    Returns
    -------
    list of CoupleInvitation
        Roles as given, else the protocol's ``roles`` in order, or ``None`` for
        indistinguishable couples.

    Raises
    ------
    OptionError
        ``roles`` does not have ``n`` entries, an entry is not two labels, or a label
        is not one of the protocol's roles.
    """
    check_range("couples", n, func="invite_couples", low=1, high=MAX_COUPLES_PER_CALL)
    zone = ZoneInfo(check_timezone(tz))
    study = get_study(session, study_id)
    protocol = study_protocol(study)
    pairs = _couple_roles(protocol, n, roles)
    lang = language or protocol.default_language
    now = now or utcnow()
    day1 = start_date or now.astimezone(zone).date()
    out: list[CoupleInvitation] = []
    for pair in pairs:
        couple = Couple(
            study_id=study.id, start_date=day1, seed=secrets.randbelow(2**31), created_at=now
        )
        session.add(couple)
        session.flush()
        partners = []
        for role in pair:
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


def _couple_roles(
    protocol: Protocol, n: int, roles: Sequence[Sequence[str] | None] | None
) -> list[RolePair]:
    """Each couple's two roles, checked (see the module docstring)."""
    default: RolePair = (protocol.roles[0], protocol.roles[1]) if protocol.roles else (None, None)
    if roles is None:
        return [default] * n
    if len(roles) != n:
        raise OptionError(
            f"invite_couples(): roles has {len(roles)} entries for {n} couples. "
            "Give one entry per couple (two role labels, or null for no roles)."
        )
    allowed = protocol.roles
    pairs: list[RolePair] = []
    for i, entry in enumerate(roles):
        if entry is None:
            pairs.append((None, None))
            continue
        labels = [str(r).strip() if isinstance(r, str) else "" for r in entry]
        if len(labels) != 2 or not all(labels) or max(map(len, labels)) > MAX_ROLE_LENGTH:
            raise OptionError(
                f"invite_couples(): roles[{i}] is {list(entry)!r}, not two role labels. "
                f"Give two labels of 1 to {MAX_ROLE_LENGTH} characters (the same one twice "
                "for a same-role couple), or null for a couple without roles."
            )
        unknown = [r for r in labels if allowed and r not in allowed]
        if unknown:
            raise OptionError(
                f"invite_couples(): roles[{i}] has role {unknown[0]!r}, which the "
                f"protocol does not name. Use {' or '.join(map(repr, allowed or []))}, "
                "or null for a couple without roles."
            )
        pairs.append((labels[0], labels[1]))
    return pairs
