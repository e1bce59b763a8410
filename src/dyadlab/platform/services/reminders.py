"""The reminder loop: e-mail and Web Push for each open, unanswered prompt, never twice.

:func:`send_due_reminders` asks :func:`dyadlab.platform.schedule.reminders_due` for every
active participant who can be reached — by e-mail (an address, and an SMTP server or a
``send`` function) or by Web Push (a stored subscription, and VAPID keys or a ``push``
function) — then for each reminder and each of the person's channels

1. inserts a ``deliveries`` row (unique per person, prompt, offset and channel:
   ``email`` or ``push``) and commits it — the claim. If the row exists (sent before,
   or claimed by another scheduler process), the insert fails and the reminder is
   skipped on that channel;
2. sends it: the e-mail (:func:`dyadlab.platform.notify.send_email`), or one Web Push
   message to each of the person's subscriptions (:func:`~dyadlab.platform.notify.send_push`)
   — and records ``sent`` (for push: at least one device accepted it) or ``failed`` with
   the error.

Claim-then-send means a crash between the two steps loses that one reminder instead of
sending it twice: a participant is never sent the same reminder again after a restart.
A failed send is recorded and not retried (the protocol's next offset is sent as usual).
Reminders stop when the window closes (the schedule gives none after it), and a push
message carries a TTL of the time left in the window, so a push service that holds it
for an offline phone drops it when the window closes. A subscription the push service
no longer knows (404/410, :class:`~dyadlab.platform.notify.SubscriptionGoneError`) is
deleted.

The e-mail carries no link: the personal link holds the participant's secret, and an
inbox may be shared with the partner. A push notice opens ``{base_url}/s/``, the
participant's overview, which works on the device that subscribed (its session cookie)
and holds no secret. The neutral texts (:func:`dyadlab.platform.notify.reminder_text`,
:func:`~dyadlab.platform.notify.push_payload`), in the person's language, say nothing
about the topic or the partner. Nobody is dropped for not answering; reminders simply
continue.

Examples
--------
>>> sent = send_due_reminders(session, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import (
    Couple,
    Delivery,
    Person,
    PushSubscription,
    Response,
    Study,
    utcnow,
)

__all__ = ["ReminderOutcome", "run_reminder_loop", "send_due_reminders"]

logger = logging.getLogger("dyadlab.platform.reminders")

Sender = Callable[[str, str, str], str]
#: ``push(subscription, payload, ttl) -> HTTP status``, like :func:`notify.send_push`.
PushSender = Callable[[Mapping[str, Any], Mapping[str, str], int], int]

#: The longest a push service is asked to keep a notice (also when a window is longer).
MAX_PUSH_TTL_S = 24 * 3600


@dataclass(frozen=True)
class ReminderOutcome:
    """One reminder handled on one channel: its delivery row id and status (``sent`` or
    ``failed``)."""

    delivery_id: int
    person_id: int
    prompt_key: str
    offset_minutes: int
    status: str
    channel: str = "email"


def _smtp_sender(settings: Settings) -> Sender:
    from dyadlab.platform.notify import SmtpConfig, send_email

    config = SmtpConfig.from_settings(settings)

    def send(to: str, subject: str, body: str) -> str:
        return send_email(config, to=to, subject=subject, body=body)

    return send


def _web_push_sender(settings: Settings) -> PushSender:
    from dyadlab.platform.notify import send_push, vapid_private_pem

    pem = vapid_private_pem(str(settings.vapid_private_key))
    subject = settings.push_subject

    def push(subscription: Mapping[str, Any], payload: Mapping[str, str], ttl: int) -> int:
        return send_push(
            subscription, payload, vapid_private_key=pem, vapid_subject=subject, ttl=ttl
        )

    return push


def _channels(
    settings: Settings, send: Sender | None, push: PushSender | None
) -> tuple[Sender | None, PushSender | None]:
    from dyadlab.platform.notify import DeliveryError

    email = send or (_smtp_sender(settings) if settings.smtp_host else None)
    web = push or (_web_push_sender(settings) if settings.push_enabled else None)
    if email is None and web is None:
        raise DeliveryError(
            "send_due_reminders(): no way to send reminders is configured; set "
            "DYADLAB_SMTP_HOST for e-mail and/or DYADLAB_VAPID_PRIVATE_KEY and "
            "DYADLAB_VAPID_PUBLIC_KEY for Web Push (`dyadlab reminders push-keys`)."
        )
    return email, web


def send_due_reminders(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    send: Sender | None = None,
    push: PushSender | None = None,
) -> list[ReminderOutcome]:
    """Send every reminder due now (see the module docstring); commits as it goes.

    Parameters
    ----------
    session : Session
    settings : Settings
        SMTP configuration (``smtp_host`` …), VAPID keys (``vapid_private_key`` …) and
        ``base_url`` (the address a push notice opens).
    now : datetime, optional
        Aware UTC; default the clock.
    send : callable, optional
        ``send(to, subject, body) -> message_id``; default SMTP from ``settings`` (no
        e-mail when ``smtp_host`` is not set).
    push : callable, optional
        ``push(subscription, payload, ttl) -> status``; default
        :func:`~dyadlab.platform.notify.send_push` with the VAPID keys of ``settings`` (no
        Web Push when they are not set).

    Returns
    -------
    list of ReminderOutcome
        One per reminder and channel claimed in this call.

    Raises
    ------
    DeliveryError
        Neither e-mail nor Web Push is configured (nor given).
    """
    from dyadlab.platform.schedule import reminders_due

    now = now or utcnow()
    email, web = _channels(settings, send, push)
    devices: dict[int, list[PushSubscription]] = defaultdict(list)
    if web is not None:
        for sub in session.scalars(
            select(PushSubscription)
            .join(Person, Person.id == PushSubscription.person_id)
            .where(Person.status == "active")
            .order_by(PushSubscription.id)
        ):
            devices[sub.person_id].append(sub)
    reachable: list[ColumnElement[bool]] = []
    if devices:
        reachable.append(Person.id.in_(list(devices)))
    if email is not None:
        reachable.append(Person.email.is_not(None))
    if not reachable:
        return []
    people = session.execute(
        select(Person, Couple, Study)
        .join(Couple, Couple.id == Person.couple_id)
        .join(Study, Study.id == Couple.study_id)
        .where(Person.status == "active", or_(*reachable))
        .order_by(Person.id)
    ).all()
    link = settings.base_url.rstrip("/") + "/s/"
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
            if email is not None and person.email:
                outcome = _deliver(session, person, reminder, email, now)
                if outcome is not None:
                    outcomes.append(outcome)
            subs = devices.get(person.id, [])
            if web is not None and subs:
                outcome = _push(session, person, reminder, subs, web, link, now)
                if outcome is not None:
                    outcomes.append(outcome)
    return outcomes


def _claim(session: Session, person_id: int, reminder: Any, channel: str) -> Delivery | None:
    """Insert and commit the delivery row; None if it exists (sent or claimed before)."""
    row = Delivery(
        person_id=person_id,
        prompt_key=reminder.prompt_key,
        offset_minutes=reminder.offset_minutes,
        channel=channel,
        due_utc=reminder.due_utc,
        status="sending",
    )
    session.add(row)
    try:
        session.commit()  # the claim: from here on this reminder is never sent again
    except IntegrityError:
        session.rollback()
        return None
    return row


def _finish(session: Session, row: Delivery, error: str | None, now: datetime) -> ReminderOutcome:
    if error is None:
        row.status, row.sent_utc = "sent", now
    else:
        row.status, row.error = "failed", error[:500]
        logger.warning(
            "%s reminder %s for person %s failed: %s",
            row.channel,
            row.id,
            row.person_id,
            row.error,
        )
    session.commit()
    return ReminderOutcome(
        row.id, row.person_id, row.prompt_key, row.offset_minutes, row.status, row.channel
    )


def _deliver(
    session: Session, person: Person, reminder: Any, sender: Sender, now: datetime
) -> ReminderOutcome | None:
    from dyadlab.platform.notify import reminder_text

    email, language = str(person.email), person.language
    row = _claim(session, person.id, reminder, "email")
    if row is None:
        return None
    subject, body = reminder_text(language, reminder=reminder.offset_minutes > 0)
    error = None
    try:
        sender(email, subject, body)
    except Exception as exc:  # any delivery failure is recorded, the loop goes on
        error = f"{type(exc).__name__}: {exc}"
    return _finish(session, row, error, now)


def _push(
    session: Session,
    person: Person,
    reminder: Any,
    subs: list[PushSubscription],
    push: PushSender,
    link: str,
    now: datetime,
) -> ReminderOutcome | None:
    from dyadlab.platform.notify import SubscriptionGoneError, push_payload
    from dyadlab.platform.services.push import subscription_json

    end = reminder.window_end_utc
    ttl = MAX_PUSH_TTL_S if end is None else int((end - now).total_seconds())
    ttl = min(ttl, MAX_PUSH_TTL_S)
    if ttl < 1:  # the window closes now: a notice could only arrive too late
        return None
    targets = [(sub, subscription_json(sub)) for sub in subs]  # read before the commit
    row = _claim(session, person.id, reminder, "push")
    if row is None:
        return None
    payload = push_payload(person.language, link=link, reminder=reminder.offset_minutes > 0)
    delivered, errors = 0, []
    for sub, subscription in targets:
        try:
            push(subscription, payload, ttl)
        except SubscriptionGoneError:
            session.delete(sub)
            errors.append(f"device {sub.id}: subscription gone (deleted)")
        except Exception as exc:  # recorded; the other devices are still tried
            errors.append(f"device {sub.id}: {type(exc).__name__}: {exc}")
        else:
            delivered += 1
    if delivered:
        row.error = "; ".join(errors)[:500] or None
    return _finish(session, row, None if delivered else "; ".join(errors), now)


def run_reminder_loop(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    stop: threading.Event,
    interval_s: float = 60.0,
    clock: Callable[[], datetime] = utcnow,
    send: Sender | None = None,
    push: PushSender | None = None,
) -> None:
    """Call :func:`send_due_reminders` every ``interval_s`` seconds until ``stop`` is set.

    E-mail and Web Push settings come from ``settings`` (``send`` and ``push`` replace
    them, e.g. in tests). A failing round (database, mail server or push service down)
    is logged and retried next round.
    """
    while not stop.is_set():
        try:
            with factory() as session:
                send_due_reminders(session, settings, now=clock(), send=send, push=push)
        except Exception:  # keep the loop alive; the next round retries
            logger.exception("reminder round failed")
        stop.wait(interval_s)
