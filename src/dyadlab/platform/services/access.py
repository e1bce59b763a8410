"""Per-study access: who may do what in which study.

Every researcher route, page and export that touches a study goes through
:func:`study_for`, the one place where access is decided. A researcher's role in a study
is a :class:`~dyadlab.platform.tables.StudyMember` row; what each role may do is the
table :data:`PERMISSIONS`:

==============  =====  ==========  ======  ======  ========  =======  =========  ============
study role      read   compliance  export  invite  withdraw  members  interview  run_sessions
==============  =====  ==========  ======  ======  ========  =======  =========  ============
owner           yes    yes         yes     yes     yes       yes      yes        yes
collaborator    yes    yes         yes     yes     no        no       yes        yes
analyst         yes    yes         yes     no      no        no       no         no
monitor         yes    yes         no      no      no        no       no         no
interviewer     yes    no          no      no      no        no       yes        no
==============  =====  ==========  ======  ======  ========  =======  =========  ============

``read`` is the study's protocol and counts; ``compliance`` the compliance figures
(counts and rates, no answers); ``export`` the answers themselves (the export, and the
"Analyses" page, whose reports are made of the answers); ``members`` adding, changing
and removing members; ``interview`` running the relational and sexual history
interviews (:mod:`dyadlab.platform.services.history`): an interviewer sees the study
and its interviews, nothing else; ``run_sessions`` starting a couple's continuous-rating
session and marking it (a stimulus, the stop) in the lab
(:mod:`dyadlab.platform.services.ratings`; seeing the traces is ``export``).

A researcher who is not a member of a study gets :class:`NotFoundError` — the same
answer, word for word, as for a study that does not exist, so nobody learns which
studies exist. A member whose role does not allow the action gets
:class:`ForbiddenError` (403): they already know the study. The account role
(``admin``, ``owner``, ``analyst``) gives no access to any study; it says only who may
manage accounts (``admin``) and who may create studies (``admin`` and ``owner``). The
creator of a study becomes its owner. A study always keeps at least one owner.

Examples
--------
>>> allowed("collaborator", "invite"), allowed("monitor", "export")
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dyadlab._validation import check_option
from dyadlab.platform.errors import ConflictError, ForbiddenError, NotFoundError
from dyadlab.platform.services.researchers import audit
from dyadlab.platform.tables import Researcher, Study, StudyMember, utcnow

__all__ = [
    "ACTIONS",
    "PERMISSIONS",
    "STUDY_ROLES",
    "Member",
    "add_member",
    "allowed",
    "list_members",
    "member_roles",
    "missing_study",
    "remove_member",
    "study_for",
]

STUDY_ROLES = ("owner", "collaborator", "analyst", "monitor", "interviewer")

#: What the actions mean, in the words of the 403 message ("... does not allow you to ...").
ACTIONS: Mapping[str, str] = {
    "read": "see this study",
    "compliance": "see this study's compliance",
    "export": "export this study's answers",
    "invite": "invite couples",
    "withdraw": "record a withdrawal",
    "members": "manage this study's members",
    "interview": "run this study's history interviews",
    "run_sessions": "run this study's rating sessions",
}

#: The study roles allowed to do each action (the table in the module notes).
PERMISSIONS: Mapping[str, frozenset[str]] = {
    "read": frozenset(STUDY_ROLES),
    "compliance": frozenset({"owner", "collaborator", "analyst", "monitor"}),
    "export": frozenset({"owner", "collaborator", "analyst"}),
    "invite": frozenset({"owner", "collaborator"}),
    "withdraw": frozenset({"owner"}),
    "members": frozenset({"owner"}),
    "interview": frozenset({"owner", "collaborator", "interviewer"}),
    "run_sessions": frozenset({"owner", "collaborator"}),
}


def allowed(role: str | None, action: str) -> bool:
    """Whether study role ``role`` (None: not a member) may do ``action``."""
    check_option("action", action, tuple(PERMISSIONS), func="allowed")
    return role is not None and role in PERMISSIONS[action]


def missing_study(study_id: int) -> NotFoundError:
    """The error for a study that does not exist *or* that the researcher is not a
    member of (one message for both)."""
    return NotFoundError(f"There is no study {study_id}.")


def study_for(session: Session, researcher: Researcher, study_id: int, action: str) -> Study:
    """The study ``study_id`` if ``researcher`` may do ``action`` in it.

    Raises
    ------
    NotFoundError
        There is no such study, or the researcher is not one of its members.
    ForbiddenError
        The researcher's role in the study does not allow ``action``.
    """
    check_option("action", action, tuple(PERMISSIONS), func="study_for")
    row = session.execute(
        select(Study, StudyMember.role)
        .join(StudyMember, StudyMember.study_id == Study.id)
        .where(Study.id == study_id, StudyMember.researcher_id == researcher.id)
    ).first()
    if row is None:
        raise missing_study(study_id)
    study, role = row
    if role not in PERMISSIONS[action]:
        raise ForbiddenError(
            f"Your role in study {study_id} ({role}) does not allow you to {ACTIONS[action]}.",
            code="forbidden",
        )
    return study


def member_roles(session: Session, researcher_id: int) -> dict[int, str]:
    """``{study_id: role}`` of every study ``researcher_id`` is a member of."""
    rows = session.execute(
        select(StudyMember.study_id, StudyMember.role).where(
            StudyMember.researcher_id == researcher_id
        )
    ).all()
    return {study_id: role for study_id, role in rows}


@dataclass(frozen=True)
class Member:
    """One member of a study: account id, e-mail address, study role, when added."""

    researcher_id: int
    email: str
    role: str
    added_at: datetime

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (``added_at`` as ISO 8601)."""
        return {
            "researcher_id": self.researcher_id,
            "email": self.email,
            "role": self.role,
            "added_at": self.added_at.isoformat(),
        }


def list_members(session: Session, study_id: int) -> list[Member]:
    """The members of study ``study_id``, owners first, then by e-mail address."""
    order = {role: i for i, role in enumerate(STUDY_ROLES)}
    rows = session.execute(
        select(Researcher.id, Researcher.email, StudyMember.role, StudyMember.added_at)
        .join(StudyMember, StudyMember.researcher_id == Researcher.id)
        .where(StudyMember.study_id == study_id)
    ).all()
    members = [Member(*row) for row in rows]
    return sorted(members, key=lambda m: (order.get(m.role, 99), m.email))


def _owners(session: Session, study_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(StudyMember)
            .where(StudyMember.study_id == study_id, StudyMember.role == "owner")
        )
        or 0
    )


def _account(session: Session, email: str) -> Researcher:
    account = session.scalars(
        select(Researcher).where(Researcher.email == email.strip().lower())
    ).first()
    if account is None:
        raise NotFoundError(
            f"There is no researcher account {email.strip()!r}; an admin creates it first "
            "(dyadlab researcher add EMAIL).",
            code="no_account",
        )
    return account


def add_member(
    session: Session,
    study_id: int,
    email: str,
    role: str,
    *,
    by: int | None = None,
    client: str | None = None,
) -> Member:
    """Give the account ``email`` the study role ``role`` in ``study_id`` (adding it, or
    changing its role), and write it to the audit log. The caller commits.

    Raises
    ------
    OptionError
        ``role`` is not a study role.
    NotFoundError
        There is no account with this address (code ``no_account``).
    ConflictError
        The change would leave the study without an owner (code ``last_owner``).
    """
    check_option("role", role, STUDY_ROLES, func="add_member")
    account = _account(session, email)
    row = session.get(StudyMember, (study_id, account.id))
    before = row.role if row else None
    if before == "owner" and role != "owner" and _owners(session, study_id) <= 1:
        raise ConflictError(
            f"{account.email} is the only owner of study {study_id}; make another member "
            "owner first.",
            code="last_owner",
        )
    now = utcnow()
    if row is None:
        row = StudyMember(
            study_id=study_id, researcher_id=account.id, role=role, added_at=now, added_by=by
        )
        session.add(row)
    else:
        row.role = role
    audit(
        session,
        "member_add" if before is None else "member_role",
        researcher_id=by,
        study_id=study_id,
        subject=account.email,
        client=client,
        detail={"role": role, "before": before},
    )
    return Member(account.id, account.email, role, row.added_at)


def remove_member(
    session: Session,
    study_id: int,
    researcher_id: int,
    *,
    by: int | None = None,
    client: str | None = None,
) -> None:
    """Remove researcher ``researcher_id`` from study ``study_id`` (audit-logged; the
    caller commits).

    Raises
    ------
    NotFoundError
        They are not a member of the study.
    ConflictError
        They are its only owner (code ``last_owner``).
    """
    row = session.get(StudyMember, (study_id, researcher_id))
    if row is None:
        raise NotFoundError(f"Researcher {researcher_id} is not a member of study {study_id}.")
    if row.role == "owner" and _owners(session, study_id) <= 1:
        raise ConflictError(
            f"Researcher {researcher_id} is the only owner of study {study_id}; make another "
            "member owner first.",
            code="last_owner",
        )
    account = session.get(Researcher, researcher_id)
    session.delete(row)
    audit(
        session,
        "member_remove",
        researcher_id=by,
        study_id=study_id,
        subject=account.email if account else None,
        client=client,
        detail={"role": row.role},
    )
