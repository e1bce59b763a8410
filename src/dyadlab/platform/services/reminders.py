"""The reminder loop: e-mail each open, unanswered prompt's notices, never twice.

:func:`send_due_reminders` asks :func:`dyadlab.platform.schedule.reminders_due` for every
active participant with an e-mail address, then for each reminder

1. inserts a ``deliveries`` row (unique per person, prompt, offset and channel) and
   commits it — the claim. If the row exists (sent before, or claimed by another
   scheduler process), the insert fails and the reminder is skipped;
2. sends the e-mail (:func:`dyadlab.platform.notify.send_email`) and records ``sent`` or
   ``failed`` with the error.

Claim-then-send means a crash between the two steps loses that one reminder instead of
sending it twice: a participant is never sent the same reminder again after a restart.
A failed send is recorded and not retried (the protocol's next offset is sent as usual).
Reminders stop when the window closes (the schedule gives none after it).

The e-mail carries no link: the personal link holds the participant's secret, and an
inbox may be shared with the partner. The neutral text
(:func:`dyadlab.platform.notify.reminder_text`) says nothing about the topic or the
partner. Nobody is dropped for not answering; reminders simply continue.

Examples
--------
>>> sent = send_due_reminders(session, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Couple, Delivery, Person, Response, Study, utcnow

__all__ = ["ReminderOutcome", "run_reminder_loop", "send_due_reminders"]

logger = logging.getLogger("dyadlab.platform.reminders")

Sender = Callable[[str, str, str], str]


@dataclass(frozen=True)
class ReminderOutcome:
    """One reminder handled: its delivery row id and status (``sent`` or ``failed``)."""

    delivery_id: int
    person_id: int
    prompt_key: str
    offset_minutes: int
    status: str


def _smtp_sender(settings: Settings) -> Sender:
    from dyadlab.platform.notify import SmtpConfig, send_email

    config = SmtpConfig.from_settings(settings)

    def send(to: str, subject: str, body: str) -> str:
        return send_email(config, to=to, subject=subject, body=body)

    return send


def send_due_reminders(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    send: Sender | None = None,
) -> list[ReminderOutcome]:
    """Send every reminder due now (see the module docstring); commits as it goes.

    Parameters
    ----------
    session : Session
    settings : Settings
        SMTP configuration (``smtp_host`` …).
    now : datetime, optional
        Aware UTC; default the clock.
    send : callable, optional
        ``send(to, subject, body) -> message_id``; default SMTP from ``settings``.

    Returns
    -------
    list of ReminderOutcome
    """
    from dyadlab.platform.notify import reminder_text
    from dyadlab.platform.schedule import reminders_due

    now = now or utcnow()
    sender = send or _smtp_sender(settings)
    people = session.execute(
        select(Person, Couple, Study)
        .join(Couple, Couple.id == Person.couple_id)
        .join(Study, Study.id == Couple.study_id)
        .where(Person.status == "active", Person.email.is_not(None))
        .order_by(Person.id)
    ).all()
    outcomes: list[ReminderOutcome] = []
    for person, couple, study in people:
        answered = set(
            session.scalars(select(Response.prompt_key).where(Response.person_id == person.id))
        )
        due = reminders_due(
            study_protocol(study),
            start_date=couple.start_date,
            tz=person.tz,
            now=now,
            answered=answered,
            seed=couple.seed,
        )
        for reminder in due:
            outcome = _deliver(session, person, reminder, sender, reminder_text, now)
            if outcome is not None:
                outcomes.append(outcome)
    return outcomes


def _deliver(
    session: Session,
    person: Person,
    reminder: Any,
    sender: Sender,
    texts: Callable[..., tuple[str, str]],
    now: datetime,
) -> ReminderOutcome | None:
    person_id, email, language = person.id, str(person.email), person.language
    row = Delivery(
        person_id=person_id,
        prompt_key=reminder.prompt_key,
        offset_minutes=reminder.offset_minutes,
        channel="email",
        due_utc=reminder.due_utc,
        status="sending",
    )
    session.add(row)
    try:
        session.commit()  # the claim: from here on this reminder is never sent again
    except IntegrityError:
        session.rollback()
        return None
    subject, body = texts(language, reminder=reminder.offset_minutes > 0)
    try:
        sender(email, subject, body)
    except Exception as exc:  # any delivery failure is recorded, the loop goes on
        row.status, row.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        logger.warning("reminder %s for person %s failed: %s", row.id, person_id, row.error)
    else:
        row.status, row.sent_utc = "sent", now
    session.commit()
    return ReminderOutcome(row.id, person_id, row.prompt_key, row.offset_minutes, row.status)


def run_reminder_loop(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    stop: threading.Event,
    interval_s: float = 60.0,
    clock: Callable[[], datetime] = utcnow,
    send: Sender | None = None,
) -> None:
    """Call :func:`send_due_reminders` every ``interval_s`` seconds until ``stop`` is set.

    A failing round (database or mail server down) is logged and retried next round.
    """
    while not stop.is_set():
        try:
            with factory() as session:
                send_due_reminders(session, settings, now=clock(), send=send)
        except Exception:  # keep the loop alive; the next round retries
            logger.exception("reminder round failed")
        stop.wait(interval_s)
