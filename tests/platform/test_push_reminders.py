"""Reminders by Web Push: sent to every device once, encrypted, neutral, in the person's
language, with a TTL that ends with the answer window; gone devices are deleted.

The push service is a real local HTTP server (``tests.platform.test_notify``); each
message is decrypted with the subscribing browser's private key (RFC 8291, aes128gcm).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dyadlab.platform.notify import DeliveryError, vapid_env_keys
from dyadlab.platform.services.reminders import run_reminder_loop, send_due_reminders
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Delivery, Person, PushSubscription
from tests.platform.conftest import EVENING_DAY3, evening_answers, make_study
from tests.platform.test_notify import _FORBIDDEN, _browser_subscription, _push_service

pytest.importorskip("pywebpush")
http_ece = pytest.importorskip("http_ece")

VAPID = vapid_env_keys()
#: 65 minutes after the evening questionnaire opened (20:00 Amsterdam = 19:00 UTC): the
#: 60-minute reminder is due; the window closes at 24:00 local = 23:00 UTC.
AT = EVENING_DAY3 + timedelta(minutes=35)
WINDOW_END = datetime(2026, 3, 3, 23, 0, tzinfo=UTC)


class PushService:
    """The stub's state: requests seen, and the paths that answer 410 or 500."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, int] = {}

    @property
    def status(self) -> int:
        return self.answers.get(self.requests[-1]["path"], 201)


@pytest.fixture
def service():
    state = PushService()
    with _push_service(state) as base:
        state.base = base  # type: ignore[attr-defined]
        yield state


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Web Push on (keys, the stub's loopback host allowed); no SMTP server."""
    return Settings(
        database_url=database_url,
        base_url="https://lab.example",
        secret_key="test-secret-" + "x" * 32,
        vapid_private_key=VAPID[0],
        vapid_public_key=VAPID[1],
        vapid_subject="mailto:lab@uni.example",
        push_hosts="127.0.0.1",
    )


class Device:
    """A browser's subscription with the keys to read what it receives."""

    def __init__(self, base: str, name: str) -> None:
        self.path = f"/push/{name}"
        self.subscription, self.key, self.auth = _browser_subscription(base + self.path)

    def read(self, request: dict[str, Any]) -> dict[str, str]:
        clear = http_ece.decrypt(request["body"], private_key=self.key, auth_secret=self.auth)
        return json.loads(clear)


def _setup(db, protocol_path, service, *, devices=(1, 1), languages=("en", "nl"), emails=False):
    """Both partners active, without e-mail unless asked; ``devices`` subscriptions each."""
    made = make_study(db, protocol_path)[0]
    out: dict[int, list[Device]] = {}
    people = list(db.scalars(select(Person).order_by(Person.id)))
    for i, person in enumerate(people):
        person.status, person.consent_version = "active", 1
        person.language = languages[i]
        person.email = f"p{i}@example.org" if emails else None
        out[person.id] = []
        for n in range(devices[i]):
            device = Device(service.base, f"p{person.id}-d{n}")
            keys = device.subscription["keys"]
            db.add(
                PushSubscription(
                    person_id=person.id,
                    endpoint=device.subscription["endpoint"],
                    p256dh=keys["p256dh"],
                    auth=keys["auth"],
                )
            )
            out[person.id].append(device)
    db.commit()
    return made, out


def _ttl(request: dict[str, Any]) -> str:
    return {k.lower(): v for k, v in request["headers"].items()}["ttl"]


def _by_path(service: PushService) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for r in service.requests}


def test_people_without_email_get_encrypted_neutral_push_in_their_language(
    db, settings, protocol_path, service
):
    made, devices = _setup(db, protocol_path, service, devices=(2, 1))
    outcomes = send_due_reminders(db, settings, now=AT)
    assert sorted((o.person_id, o.channel, o.offset_minutes, o.status) for o in outcomes) == [
        (made.person_ids[0], "push", 60, "sent"),
        (made.person_ids[1], "push", 60, "sent"),
    ]
    seen = _by_path(service)
    assert len(service.requests) == 3 and len(seen) == 3  # every device once
    expected = {
        "en": {
            "title": "Reminder: questionnaire",
            "body": "A questionnaire in your study is still open.",
            "url": "https://lab.example/s/",
        },
        "nl": {
            "title": "Herinnering: vragenlijst",
            "body": "Er staat nog een vragenlijst voor je open in je onderzoek.",
            "url": "https://lab.example/s/",
        },
    }
    for person_id, language in zip(made.person_ids, ("en", "nl"), strict=True):
        for device in devices[person_id]:
            request = seen[device.path]
            headers = {k.lower(): v for k, v in request["headers"].items()}
            assert headers["content-encoding"] == "aes128gcm"
            assert b"questionnaire" not in request["body"]  # encrypted on the wire
            payload = device.read(request)
            assert payload == expected[language]
            assert not _FORBIDDEN.search(payload["title"] + " " + payload["body"])
            assert all(token not in json.dumps(payload) for token in made.tokens)
            assert f"k={VAPID[1]}" in headers["authorization"].replace(" ", "")
            assert VAPID[0] not in json.dumps(headers)


def test_ttl_is_the_time_left_in_the_window(db, settings, protocol_path, service):
    _setup(db, protocol_path, service)
    send_due_reminders(db, settings, now=AT)
    left = int((WINDOW_END - AT).total_seconds())
    assert left == 10500
    assert {_ttl(r) for r in service.requests} == {str(left)}
    service.requests.clear()
    late = WINDOW_END - timedelta(seconds=30)  # the 180-minute reminder, 30 s before closing
    outcomes = send_due_reminders(db, settings, now=late)
    assert {o.offset_minutes for o in outcomes} == {180}
    assert {_ttl(r) for r in service.requests} == {"30"}


def test_nothing_when_the_window_is_closing_or_closed(db, settings, protocol_path, service):
    _setup(db, protocol_path, service)
    assert send_due_reminders(db, settings, now=WINDOW_END - timedelta(milliseconds=500)) == []
    assert send_due_reminders(db, settings, now=WINDOW_END) == []
    assert service.requests == []
    assert db.scalars(select(Delivery)).all() == []  # nothing claimed, nothing lost


def test_never_twice_after_a_restart(db, app, settings, protocol_path, service):
    made, _ = _setup(db, protocol_path, service, devices=(2, 1))
    assert len(send_due_reminders(db, settings, now=AT)) == 2
    with app.state.sessionmaker() as fresh:  # a restarted scheduler: a new session
        assert send_due_reminders(fresh, settings, now=AT) == []
        assert send_due_reminders(fresh, settings, now=AT + timedelta(minutes=1)) == []
    assert len(service.requests) == 3
    rows = db.scalars(select(Delivery).where(Delivery.channel == "push")).all()
    assert sorted(r.person_id for r in rows) == sorted(made.person_ids)
    assert all(r.status == "sent" and r.sent_utc == AT and r.error is None for r in rows)


class Crash(BaseException):
    """The process dies in the middle of sending."""


def test_a_crash_after_the_claim_loses_the_reminder_instead_of_repeating_it(
    db, app, settings, protocol_path, service
):
    made, devices = _setup(db, protocol_path, service)
    a, b = made.person_ids

    def crashing(subscription, payload, ttl):
        raise Crash()

    with pytest.raises(Crash):  # A's reminder was claimed, then the process died
        send_due_reminders(db, settings, now=AT, push=crashing)
    db.rollback()
    with app.state.sessionmaker() as fresh:  # the restarted scheduler
        outcomes = send_due_reminders(fresh, settings, now=AT)
        assert [(o.person_id, o.status) for o in outcomes] == [(b, "sent")]
        assert _claimed(fresh) == {a: "sending", b: "sent"}
    assert [r["path"] for r in service.requests] == [devices[b][0].path]


def _claimed(session) -> dict[int, str]:
    rows = session.scalars(select(Delivery).where(Delivery.channel == "push"))
    return {r.person_id: r.status for r in rows}


def test_a_gone_subscription_is_deleted_and_the_others_still_get_it(
    db, settings, protocol_path, service
):
    made, devices = _setup(db, protocol_path, service, devices=(2, 1))
    a, b = made.person_ids
    service.answers[devices[a][0].path] = 410
    service.answers[devices[b][0].path] = 404
    outcomes = {o.person_id: o for o in send_due_reminders(db, settings, now=AT)}
    assert outcomes[a].status == "sent"  # the second device took it
    assert outcomes[b].status == "failed"  # B's only device is gone
    left = db.scalars(select(PushSubscription.endpoint)).all()
    assert left == [devices[a][1].subscription["endpoint"]]
    rows = {r.person_id: r for r in db.scalars(select(Delivery))}
    assert "gone (deleted)" in rows[a].error and "gone (deleted)" in rows[b].error
    assert VAPID[0] not in rows[a].error + rows[b].error


def test_other_failures_are_recorded_and_not_retried(db, settings, protocol_path, service, caplog):
    _made, devices = _setup(db, protocol_path, service)
    for person_devices in devices.values():
        service.answers[person_devices[0].path] = 500
    outcomes = send_due_reminders(db, settings, now=AT)
    assert [o.status for o in outcomes] == ["failed", "failed"]
    rows = db.scalars(select(Delivery)).all()
    assert all("HTTP 500" in (r.error or "") for r in rows)
    assert "push reminder" in caplog.text and "HTTP 500" in caplog.text
    assert VAPID[0] not in caplog.text and "PRIVATE KEY" not in caplog.text
    assert len(db.scalars(select(PushSubscription)).all()) == 2  # kept: maybe a hiccup
    service.answers.clear()
    assert send_due_reminders(db, settings, now=AT) == []


def test_email_and_push_both(db, settings, protocol_path, service):
    made, _ = _setup(db, protocol_path, service, devices=(1, 0), emails=True)
    outbox: list[tuple[str, str, str]] = []

    def send(to: str, subject: str, body: str) -> str:
        outbox.append((to, subject, body))
        return "<1@test>"

    outcomes = send_due_reminders(db, settings, now=AT, send=send)
    a, b = made.person_ids
    assert sorted((o.person_id, o.channel) for o in outcomes) == [
        (a, "email"),
        (a, "push"),
        (b, "email"),
    ]
    assert sorted(to for to, _, _ in outbox) == ["p0@example.org", "p1@example.org"]
    assert len(service.requests) == 1
    assert send_due_reminders(db, settings, now=AT, send=send) == []


def test_compliance_counts_a_reminder_once_however_it_went(db, settings, protocol_path, service):
    from dyadlab.platform.services.compliance import study_compliance

    made, _ = _setup(db, protocol_path, service, devices=(2, 0), emails=True)
    send_due_reminders(db, settings, now=AT, send=lambda to, subject, body: "<1@test>")
    assert len(db.scalars(select(Delivery)).all()) == 3  # A: e-mail and push; B: e-mail
    report = study_compliance(db, made.study_id, now=AT)
    counts = dict(zip(report.persons["person_id"], report.persons["reminders_sent"], strict=True))
    assert counts == {made.person_ids[0]: 1, made.person_ids[1]: 1}


def test_answered_or_withdrawn_get_nothing(db, settings, protocol_path, service, client):
    made, _ = _setup(db, protocol_path, service)
    from dyadlab.platform.services.withdrawal import withdraw

    withdraw(db, db.get(Person, made.person_ids[0]), delete_data=False)
    db.commit()
    r = client.post(
        "/api/v1/me/responses",
        json={
            "submission_id": str(uuid.uuid4()),
            "questionnaire": "evening",
            "answers": evening_answers(),
        },
        headers=made.headers(1),
    )
    assert r.status_code == 201, r.text
    assert send_due_reminders(db, settings, now=AT) == []
    assert service.requests == []
    assert db.scalars(select(PushSubscription)).all() != []  # B's device stays


def test_without_any_channel_it_says_what_to_set(db, protocol_path, database_url):
    bare = Settings(database_url=database_url)
    with pytest.raises(DeliveryError, match=r"DYADLAB_SMTP_HOST .*DYADLAB_VAPID_PRIVATE_KEY"):
        send_due_reminders(db, bare, now=AT)


def test_the_loop_passes_push_through(db, app, settings, protocol_path, service):
    import threading

    _setup(db, protocol_path, service)
    stop = threading.Event()
    pushed: list[int] = []

    def push(subscription, payload, ttl):
        pushed.append(ttl)
        if len(pushed) == 2:
            stop.set()
        return 201

    thread = threading.Thread(
        target=run_reminder_loop,
        args=(app.state.sessionmaker, settings),
        kwargs={"stop": stop, "interval_s": 0.01, "clock": lambda: AT, "push": push},
    )
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive() and pushed == [10500, 10500]


def test_cli_reminders_send_uses_the_vapid_environment(
    db, database_url, protocol_path, service, monkeypatch, capsys
):
    from dyadlab.cli import main
    from dyadlab.platform.services import reminders

    _setup(db, protocol_path, service)
    monkeypatch.setattr(reminders, "utcnow", lambda: AT)
    for name, value in {
        "DYADLAB_DATABASE_URL": database_url,
        "DYADLAB_BASE_URL": "https://lab.example",
        "DYADLAB_VAPID_PRIVATE_KEY": VAPID[0],
        "DYADLAB_VAPID_PUBLIC_KEY": VAPID[1],
        "DYADLAB_VAPID_SUBJECT": "mailto:lab@uni.example",
        "DYADLAB_PUSH_HOSTS": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DYADLAB_SMTP_HOST", raising=False)
    assert main(["reminders", "send", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"sent": 2, "failed": 0}
    assert len(service.requests) == 2
