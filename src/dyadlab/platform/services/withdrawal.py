"""Withdrawal: a person leaves the study, optionally with their data deleted.

The rule for deletion (``delete_data=True``)
--------------------------------------------
Under the GDPR, data about a person's sex life is a special category, and what one
partner reports *about* the other is the other's personal data too. So deleting a
person's data removes:

1. every response the person gave (``responses`` rows), their reminder records
   (``deliveries``) and e-mail address, and their relational and sexual history
   interview with its edit log (:func:`dyadlab.platform.services.history.
   delete_interviews`);
2. in the **partner's** responses, every item the protocol marks ``about: partner``
   (judgments of the withdrawing person). The partner's own answers about themselves
   stay. The removed item names are kept in ``responses.redacted_items`` so the export
   can say why the value is missing.

On SQLite the deleted content is overwritten in the database file (``secure_delete``)
and, after the commit, the ``-wal`` file is checkpointed and truncated, so the answers
are not left readable on disk (:func:`dyadlab.platform.db.checkpoint_after_delete`;
backups made before still hold them).

What stays: the person row (id, couple, role, status ``withdrawn``, time of withdrawal,
``data_deleted``), the append-only consent log and the audit log — the record that
consent was given and withdrawn, which the study must be able to show. The couple's
export lists the withdrawal (``withdrawals`` table of :func:`services.export.export_study`).

Without deletion, the person's answers so far are kept (as the consent text allows) and
no further prompts or reminders are sent. In both cases the person's Web Push
subscriptions (``push_subscriptions``: their devices' push addresses) are deleted, since
no reminder will go to them any more.

Examples
--------
>>> withdraw(session, person, delete_data=True).deleted_responses  # doctest: +SKIP
12
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session

from dyadlab.platform.db import checkpoint_after_delete
from dyadlab.platform.errors import ConflictError, NotFoundError
from dyadlab.platform.services.history import delete_interviews
from dyadlab.platform.services.participants import person_context
from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.tables import (
    AuditLog,
    ConsentEvent,
    Couple,
    Delivery,
    Person,
    PushSubscription,
    RatingBatch,
    RatingSample,
    Response,
    Upload,
    utcnow,
)

__all__ = ["WithdrawalResult", "partner_items", "study_person", "withdraw"]


@dataclass(frozen=True)
class WithdrawalResult:
    """What a withdrawal did."""

    person_id: int
    data_deleted: bool
    deleted_responses: int
    redacted_partner_responses: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def partner_items(protocol: Any) -> dict[str, set[str]]:
    """questionnaire -> names of its ``about: partner`` items."""
    out: dict[str, set[str]] = {}
    for questionnaire in protocol.questionnaires:
        names = {item.name for item in questionnaire.items if item.about == "partner"}
        if names:
            out[questionnaire.name] = names
    return out


def study_person(session: Session, study_id: int, person_id: int) -> Person:
    """The person ``person_id`` of study ``study_id``; :class:`NotFoundError` otherwise."""
    person = session.scalars(
        select(Person)
        .join(Couple, Couple.id == Person.couple_id)
        .where(Person.id == person_id, Couple.study_id == study_id)
    ).first()
    if person is None:
        raise NotFoundError(f"Study {study_id} has no person {person_id}.")
    return person


def _checkpoint_on_commit(session: Session) -> None:
    """After this session's next commit, checkpoint SQLite's ``-wal`` file so that the
    deleted answers do not stay readable there (:func:`dyadlab.platform.db.
    checkpoint_after_delete`)."""
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return

    def checkpoint(_session: Session) -> None:
        checkpoint_after_delete(engine)

    event.listen(session, "after_commit", checkpoint, once=True)


def withdraw(
    session: Session,
    person: Person,
    *,
    delete_data: bool,
    now: datetime | None = None,
    researcher_id: int | None = None,
) -> WithdrawalResult:
    """Withdraw ``person`` from the study (append-only log), deleting data if asked.

    ``researcher_id`` is set when the research team records the withdrawal on the
    person's behalf (e.g. asked by e-mail); the audit row names them.

    Raises
    ------
    ConflictError
        The person has already withdrawn with deletion (code ``withdrawn``).
    """
    now = now or utcnow()
    if person.status == "withdrawn" and (person.data_deleted or not delete_data):
        raise ConflictError("You have already left this study.", code="withdrawn")
    couple, study = person_context(session, person)
    session.add(ConsentEvent(person_id=person.id, kind="withdraw", delete_data=delete_data, at=now))
    person.status = "withdrawn"
    person.withdrawn_at = person.withdrawn_at or now
    # No reminder is sent after a withdrawal, so the device addresses go in every case.
    session.execute(delete(PushSubscription).where(PushSubscription.person_id == person.id))
    deleted = redacted = 0
    if delete_data:
        _checkpoint_on_commit(session)
        deleted = len(
            session.scalars(select(Response.id).where(Response.person_id == person.id)).all()
        )
        session.execute(delete(Upload).where(Upload.person_id == person.id))
        session.execute(delete(Response).where(Response.person_id == person.id))
        session.execute(delete(Delivery).where(Delivery.person_id == person.id))
        delete_interviews(session, person.id)
        session.execute(delete(RatingSample).where(RatingSample.person_id == person.id))
        session.execute(delete(RatingBatch).where(RatingBatch.person_id == person.id))
        person.email = None
        person.data_deleted = True
        about = partner_items(study_protocol(study))
        partner_rows = session.scalars(
            select(Response)
            .join(Person, Person.id == Response.person_id)
            .where(Person.couple_id == couple.id, Person.id != person.id)
        ).all()
        for row in partner_rows:
            names = about.get(row.questionnaire, set())
            hit = sorted(names & set(row.answers))
            if hit:
                row.answers = {k: v for k, v in row.answers.items() if k not in names}
                row.redacted_items = sorted(set(row.redacted_items or []) | set(hit))
                redacted += 1
    session.add(
        AuditLog(
            action="delete" if delete_data else "withdraw",
            researcher_id=researcher_id,
            study_id=study.id,
            subject=f"person:{person.id}",
            at=now,
            detail={
                "study": study.title,
                "deleted_responses": deleted,
                "redacted_partner_responses": redacted,
            },
        )
    )
    session.flush()
    return WithdrawalResult(person.id, delete_data, deleted, redacted)
