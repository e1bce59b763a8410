"""Web Push subscriptions: a participant's devices that receive reminders.

A browser that allows notifications gives a ``PushSubscription`` (an ``endpoint`` URL at
its push service and the keys ``p256dh`` and ``auth`` that messages are encrypted for).
:func:`save_subscription` stores it for the asking person, replacing the row with the
same endpoint; :func:`delete_subscription` removes one of the person's own. The
reminder loop (:mod:`dyadlab.platform.services.reminders`) sends to every stored
subscription of a person and deletes the ones the push service says are gone.

An endpoint belongs to one browser profile. When a second person subscribes from the
same browser (a shared device, after the first one logged out), the endpoint moves to
them: reminders go to whoever uses that browser now, and the answer to the request is
the same whether or not the endpoint was known, so nobody learns that the other used it.

The server posts to an endpoint only when its host is one of the push services in
:attr:`Settings.push_hosts <dyadlab.platform.settings.Settings.push_hosts>`, so a
subscription cannot make the server send requests into its own network.

Examples
--------
>>> row = save_subscription(session, person, endpoint=..., p256dh=..., auth=...,
...                         settings=settings)  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dyadlab.platform.errors import ConflictError, InvalidError, NotFoundError
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Person, PushSubscription, utcnow

__all__ = [
    "delete_subscription",
    "push_off_error",
    "save_subscription",
    "subscription_json",
    "subscriptions_of",
]


def push_off_error() -> ConflictError:
    """The error for a push request on a server without VAPID keys (409 ``push_off``)."""
    return ConflictError(
        "Web Push reminders are not set up on this server (the research team has not set "
        "DYADLAB_VAPID_PRIVATE_KEY and DYADLAB_VAPID_PUBLIC_KEY).",
        code="push_off",
    )


def save_subscription(
    session: Session,
    person: Person,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    settings: Settings,
    now: datetime | None = None,
) -> PushSubscription:
    """Store (or replace) the person's subscription for ``endpoint``; flushes, no commit.

    Raises
    ------
    ConflictError
        Web Push is off on this server (``push_off``), or the person has left the study
        (``withdrawn``).
    InvalidError
        The endpoint is not at an allowed push service (details name ``endpoint``).
    """
    if not settings.push_enabled:
        raise push_off_error()
    if person.status == "withdrawn":
        raise ConflictError("You have left this study.", code="withdrawn")
    if not settings.push_host_allowed(endpoint):
        message = (
            "endpoint: not the address of a browser push service (https:// at one of "
            "the hosts in DYADLAB_PUSH_HOSTS); send PushSubscription.toJSON() unchanged."
        )
        raise InvalidError(
            message, code="invalid_request", details=[{"item": "endpoint", "message": message}]
        )
    row = session.scalars(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint)
    ).first()
    if row is None:
        row = PushSubscription(person_id=person.id, endpoint=endpoint)
        session.add(row)
    row.person_id, row.p256dh, row.auth = person.id, p256dh, auth
    row.created_at = now or utcnow()
    session.flush()
    return row


def delete_subscription(session: Session, person: Person, endpoint: str) -> None:
    """Delete the person's own subscription for ``endpoint``; flushes, no commit.

    Raises
    ------
    NotFoundError
        The person has no such subscription (also when another person has it).
    """
    deleted = session.execute(
        delete(PushSubscription).where(
            PushSubscription.person_id == person.id, PushSubscription.endpoint == endpoint
        )
    )
    if not getattr(deleted, "rowcount", 0):
        raise NotFoundError()
    session.flush()


def subscriptions_of(session: Session, person_id: int) -> list[PushSubscription]:
    """The person's subscriptions, oldest first."""
    return list(
        session.scalars(
            select(PushSubscription)
            .where(PushSubscription.person_id == person_id)
            .order_by(PushSubscription.id)
        )
    )


def subscription_json(row: PushSubscription) -> dict[str, object]:
    """The row as ``PushSubscription.toJSON()`` (what :func:`notify.send_push` takes).

    Examples
    --------
    >>> subscription_json(PushSubscription(endpoint="https://push.example/1",
    ...                                    p256dh="BA", auth="AA"))
    {'endpoint': 'https://push.example/1', 'keys': {'p256dh': 'BA', 'auth': 'AA'}}
    """
    return {"endpoint": row.endpoint, "keys": {"p256dh": row.p256dh, "auth": row.auth}}
