"""Two non-trivial studies for the export's golden files (``tests/platform/data/export``).

``diary``: the example protocol, three couples starting 1 March 2026 (Amsterdam): a
couple with roles where both answer, one prompt missed, one answer late (after midnight,
from an offline phone), event reports (with a free-text note) and reminders sent (one
for a missed prompt); a couple without roles whose second partner withdraws with
deletion (the first partner's judgments of them are redacted); a couple with roles
whose first partner withdraws keeping the data. Exported on day 6 at noon.

``esm``: semi-random prompts (3 a day) and a daily questionnaire with every other item
type (multiple and single choice with text values, decimal, integer, text, time, date),
an event report that triggers the partner's questionnaire, and couples with and without
roles. Exported on day 4 at 02:00 UTC.

Everything is fixed: the times, the answers and the couples' seeds, so the export is
the same in every run and on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from dyadlab.platform.protocol import load_protocol, parse_protocol
from dyadlab.platform.schedule import day_prompts
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.responses import submit_response
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.services.withdrawal import withdraw
from dyadlab.platform.tables import Couple, Delivery, Person

START = date(2026, 3, 1)
TZ = "Europe/Amsterdam"
#: 20:30 Amsterdam (CET) on diary day 1 of the ``diary`` study.
EVENING_DAY1 = datetime(2026, 3, 1, 19, 30, tzinfo=UTC)

ESM: dict[str, Any] = {
    "study": "Moments together",
    "languages": ["en"],
    "default_language": "en",
    "dyad": {"size": 2, "roles": ["first", "second"]},
    "consent": {"version": 1, "text": {"en": "I agree."}},
    "schedule": [
        {"questionnaire": "mood", "type": "random", "prompts_per_day": 3,
         "block_start": "09:00", "block_end": "18:00", "min_gap_minutes": 60,
         "window_minutes": 60, "days": 3},
        {"questionnaire": "evening", "type": "daily", "time": "21:00",
         "window_minutes": 120, "days": 3},
        {"questionnaire": "conflict_report", "type": "event", "max_per_day": 5,
         "triggers_partner": "partner_view"},
    ],
    "questionnaires": [
        {"name": "mood", "items": [
            {"name": "closeness", "type": "slider", "min": 0, "max": 10, "required": True,
             "label": {"en": "How close do you feel?"}},
            {"name": "intensity", "type": "integer", "min": 1, "max": 5,
             "label": {"en": "How intense is your mood?"}},
        ]},
        {"name": "evening", "items": [
            {"name": "activities", "type": "multiple", "choices": "acts",
             "label": {"en": "What did you do together?"}},
            {"name": "place", "type": "single", "choices": "places",
             "label": {"en": "Where were you?"}},
            {"name": "hours", "type": "decimal", "min": 0, "max": 24,
             "label": {"en": "Hours together"}},
            {"name": "bedtime", "type": "time", "label": {"en": "Bedtime"}},
            {"name": "next_visit", "type": "date", "label": {"en": "Next visit"}},
            {"name": "remark", "type": "text", "label": {"en": "Anything else?"}},
            {"name": "close_today", "type": "yes_no", "label": {"en": "Close today?"}},
        ]},
        {"name": "conflict_report", "items": [
            {"name": "conflict_intensity", "type": "integer", "min": 1, "max": 5,
             "label": {"en": "How intense was the conflict?"}},
        ]},
        {"name": "partner_view", "items": [
            {"name": "noticed", "type": "yes_no", "label": {"en": "Did you notice?"},
             "about": "partner"},
        ]},
    ],
    "choices": {
        "acts": [{"value": "talk", "label": {"en": "Talked"}},
                 {"value": "walk", "label": {"en": "Walked"}},
                 {"value": "meal", "label": {"en": "Ate together"}}],
        "places": [{"value": "home", "label": {"en": "At home"}},
                   {"value": "out", "label": {"en": "Out"}}],
    },
}  # fmt: skip


def _persons(db: Session, made: list[Any]) -> list[list[Person]]:
    out = []
    for k, couple in enumerate(made):
        db.get(Couple, couple.couple_id).seed = 1000 + k  # type: ignore[union-attr]
        pair = [db.get(Person, p.person_id) for p in couple.partners]
        for person in pair:
            person.status, person.consent_version = "active", 1  # type: ignore[union-attr]
        out.append(pair)
    db.commit()
    return out  # type: ignore[return-value]


def _submit(db: Session, person: Person, questionnaire: str, answers: dict[str, Any], **kw: Any):
    result = submit_response(
        db, person, submission_id=uuid.uuid4(), questionnaire=questionnaire, answers=answers, **kw
    )
    db.commit()
    return result.response


def _evening(desire: float, judged: float, sat: int, conflict: str) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "desire": desire,
        "partner_desire": judged,
        "relationship_satisfaction": sat,
        "conflict": conflict,
        "had_sex": "yes" if desire > 50 else "no",
    }
    if conflict == "yes":
        answers["conflict_intensity"] = 3
    return answers


def _sent(db: Session, person: Person, key: str, when: datetime) -> None:
    db.add(
        Delivery(
            person_id=person.id, prompt_key=key, offset_minutes=60, due_utc=when,
            sent_utc=when, status="sent",
        )
    )  # fmt: skip
    db.commit()


def build_diary(db: Session, protocol_path: Any) -> tuple[int, datetime]:
    """The ``diary`` study (see the module docstring); returns (study id, export time)."""
    study = create_study(db, load_protocol(protocol_path))
    made = invite_couples(db, study.id, 1, base_url="http://t", start_date=START, tz=TZ)
    made += invite_couples(
        db, study.id, 1, base_url="http://t", start_date=START, tz=TZ, roles=[None]
    )
    made += invite_couples(db, study.id, 1, base_url="http://t", start_date=START, tz=TZ)
    (a, b), (c, d), (e, f) = _persons(db, made)
    for day in range(1, 6):
        at = EVENING_DAY1 + timedelta(days=day - 1)
        if day != 2:
            _submit(db, a, "evening", _evening(40 + day, 50, 5, "no"), now=at)
        else:
            _sent(db, a, "evening:d2:p1", at - timedelta(minutes=30))  # missed, but reminded
        if day != 4:
            _submit(db, b, "evening", _evening(61.5, 44, 6, "yes" if day == 3 else "no"), now=at)
        else:  # finished at 23:40 local, received from an offline phone at 00:30: late
            _submit(db, b, "evening", _evening(70, 40, 7, "no"),
                    finished_at=at + timedelta(hours=3, minutes=10),
                    now=at + timedelta(hours=4))  # fmt: skip
        _sent(db, b, f"evening:d{day}:p1", at - timedelta(minutes=25))
        for person, x in ((c, 20), (d, 80), (e, 30), (f, 35)):
            if (person is e and day > 3) or (person is d and day == 5):
                continue
            _submit(db, person, "evening", _evening(x + day, x, 4, "no"), now=at)
    sex = {"sexual_satisfaction": 90, "approach_motive": 7, "avoidance_motive": 1}
    _submit(db, b, "after_sex", sex, now=EVENING_DAY1 + timedelta(days=2, hours=1))
    _submit(db, b, "after_sex", {**sex, "note": "zoet; lief"}, now=EVENING_DAY1 + timedelta(days=3))
    _submit(db, c, "after_sex", {"sexual_satisfaction": 10}, now=EVENING_DAY1 + timedelta(days=1))
    _submit(db, d, "after_sex", {"sexual_satisfaction": 70.5}, now=EVENING_DAY1 + timedelta(days=1))
    day5 = EVENING_DAY1 + timedelta(days=4, hours=2)
    withdraw(db, d, delete_data=True, now=day5)
    withdraw(db, e, delete_data=False, now=EVENING_DAY1 + timedelta(days=3, hours=5))
    db.commit()
    return study.id, datetime(2026, 3, 6, 11, 0, tzinfo=UTC)


def build_esm(db: Session) -> tuple[int, datetime]:
    """The ``esm`` study (see the module docstring); returns (study id, export time)."""
    protocol = parse_protocol(ESM)
    study = create_study(db, protocol)
    made = invite_couples(db, study.id, 1, base_url="http://t", start_date=START, tz=TZ)
    made += invite_couples(
        db, study.id, 1, base_url="http://t", start_date=START, tz="America/New_York",
        roles=[None],
    )  # fmt: skip
    couples = _persons(db, made)
    for k, pair in enumerate(couples):
        tz = pair[0].tz
        for day in (1, 2, 3):
            prompts = day_prompts(protocol, start_date=START, tz=tz, day=day, seed=1000 + k)
            for n, prompt in enumerate(prompts):
                for j, person in enumerate(pair):
                    if (day + n + j + k) % 4 == 0:
                        continue  # missed
                    at = prompt.scheduled_utc + timedelta(minutes=5 + j)
                    if prompt.questionnaire == "mood":
                        answers: dict[str, Any] = {"closeness": 2 * n + j + 0.5 * k}
                        if n != 1:
                            answers["intensity"] = 1 + (day + j) % 5
                    else:
                        answers = {
                            "activities": ["talk", "meal"][: 1 + (day + j) % 2] if j else [],
                            "place": "home" if (day + j) % 2 else "out",
                            "hours": 1.25 * day,
                            "bedtime": f"2{j}:{10 * day:02d}",
                            "next_visit": f"2026-04-0{day}",
                            "remark": "" if j else f"day {day}, ok",
                            "close_today": "yes" if j else "no",
                        }
                    _submit(db, person, prompt.questionnaire, answers, now=at)
        a, b = pair
        at = datetime(2026, 3, 2, 13, 0, tzinfo=UTC) + timedelta(hours=k)
        _submit(db, a, "conflict_report", {"conflict_intensity": 4}, now=at)
        _submit(db, b, "partner_view", {"noticed": "yes"}, now=at + timedelta(minutes=20))
    return study.id, datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
