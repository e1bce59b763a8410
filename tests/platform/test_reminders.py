"""The reminder loop: due reminders are sent once, never after the window, never twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from dyadlab.platform.services.reminders import send_due_reminders
from dyadlab.platform.tables import Delivery, Person
from tests.platform.conftest import EVENING_DAY3, make_study


class Outbox:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail = fail

    def __call__(self, to: str, subject: str, body: str) -> str:
        if self.fail:
            raise OSError("connection refused")
        self.sent.append((to, subject, body))
        return f"<{len(self.sent)}@test>"


def _setup(db, protocol_path):
    made = make_study(db, protocol_path)[0]
    for i, person in enumerate(db.scalars(select(Person).order_by(Person.id))):
        person.status, person.consent_version = "active", 1
        person.email = f"p{i}@example.org"
    db.commit()
    return made


def test_sent_once_even_after_restart(db, settings, protocol_path):
    made = _setup(db, protocol_path)
    outbox = Outbox()
    at = EVENING_DAY3 + timedelta(minutes=35)  # 65 min after 20:00 local: the 60-min reminder
    first = send_due_reminders(db, settings, now=at, send=outbox)
    assert [(o.prompt_key, o.offset_minutes, o.status) for o in first] == [
        ("evening:d3:p1", 60, "sent")
    ] * 2
    # a restarted scheduler at the same moment, and a minute later: nothing again
    assert send_due_reminders(db, settings, now=at, send=outbox) == []
    assert send_due_reminders(db, settings, now=at + timedelta(minutes=1), send=outbox) == []
    assert len(outbox.sent) == 2
    rows = db.scalars(select(Delivery)).all()
    assert {r.person_id for r in rows} == set(made.person_ids)
    assert all(r.status == "sent" and r.sent_utc == at for r in rows)


def test_text_is_neutral_and_has_no_secret(db, settings, protocol_path):
    made = _setup(db, protocol_path)
    outbox = Outbox()
    send_due_reminders(db, settings, now=EVENING_DAY3, send=outbox)
    assert outbox.sent
    for _to, subject, body in outbox.sent:
        text = (subject + body).lower()
        for word in ("sex", "partner", "intimacy", "desire"):
            assert word not in text
        for token in made.tokens:
            assert token not in body


def test_nothing_after_the_window_or_when_answered_or_withdrawn(db, settings, protocol_path):
    _setup(db, protocol_path)
    outbox = Outbox()
    closed = datetime(2026, 3, 3, 23, 30, tzinfo=EVENING_DAY3.tzinfo)  # 00:30 local
    assert send_due_reminders(db, settings, now=closed, send=outbox) == []
    for person in db.scalars(select(Person)):
        person.status = "withdrawn"
    db.commit()
    assert send_due_reminders(db, settings, now=EVENING_DAY3, send=outbox) == []
    assert outbox.sent == []


def test_failure_is_recorded_and_not_retried(db, settings, protocol_path):
    _setup(db, protocol_path)
    out = send_due_reminders(db, settings, now=EVENING_DAY3, send=Outbox(fail=True))
    assert [o.status for o in out] == ["failed", "failed"]
    rows = db.scalars(select(Delivery)).all()
    assert all("connection refused" in (r.error or "") for r in rows)
    assert send_due_reminders(db, settings, now=EVENING_DAY3, send=Outbox()) == []


def test_loop_sends_and_stops(db, app, settings, protocol_path):
    import threading

    from dyadlab.platform.services.reminders import run_reminder_loop

    _setup(db, protocol_path)
    outbox, stop = Outbox(), threading.Event()

    def clock():
        return EVENING_DAY3

    def send(to, subject, body):
        message_id = outbox(to, subject, body)
        if len(outbox.sent) == 2:
            stop.set()
        return message_id

    thread = threading.Thread(
        target=run_reminder_loop,
        args=(app.state.sessionmaker, settings),
        kwargs={"stop": stop, "interval_s": 0.01, "clock": clock, "send": send},
    )
    thread.start()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert len(outbox.sent) == 2


def test_loop_survives_a_failing_round(app, settings, caplog):
    import threading

    from dyadlab.platform.services.reminders import run_reminder_loop

    stop = threading.Event()
    calls = []

    def broken_clock():
        calls.append(1)
        if len(calls) >= 3:
            stop.set()
        raise RuntimeError("clock broke")

    run_reminder_loop(
        app.state.sessionmaker, settings, stop=stop, interval_s=0.0, clock=broken_clock
    )
    assert len(calls) == 3
    assert caplog.text.count("reminder round failed") == 3
