"""A deleting withdrawal leaves no trace: the partner is not told (no ``redacted_items``),
and on SQLite the deleted text is readable neither in the database file nor in its
``-wal`` file."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.platform.conftest import evening_answers

MARKER = "SECRET-MARKER-7f3a9c"


def _answer(client, couple, which, **answers):
    body = {
        "submission_id": str(uuid.uuid4()),
        "questionnaire": "evening",
        "answers": {**evening_answers(), **answers},
    }
    r = client.post("/api/v1/me/responses", json=body, headers=couple.headers(which))
    assert r.status_code == 201, r.text


def test_partner_is_not_told_of_a_deletion(client, couple):
    _answer(client, couple, 0)
    _answer(client, couple, 1)
    before = client.get("/api/v1/me/responses", headers=couple.headers(1)).json()
    r = client.post("/api/v1/me/withdraw", json={"delete_data": True}, headers=couple.headers(0))
    assert r.status_code == 200
    after = client.get("/api/v1/me/responses", headers=couple.headers(1)).json()
    (one,) = after["responses"]
    assert "redacted_items" not in one
    assert "partner_desire" not in one["answers"]  # deleted: A's data
    assert set(one) == set(before["responses"][0])
    assert (
        "partner_desire"
        not in client.get(
            f"/api/v1/me/responses/{one['submission_id']}", headers=couple.headers(1)
        ).json()["answers"]
    )


def _sqlite_file(database_url: str) -> Path:
    if not database_url.startswith("sqlite"):
        pytest.skip("the -wal file is SQLite's")
    return Path(database_url.removeprefix("sqlite:///"))


def test_deleted_text_is_not_left_in_the_sqlite_files(client, couple, db, database_url):
    path = _sqlite_file(database_url)
    body = {
        "submission_id": str(uuid.uuid4()),
        "questionnaire": "after_sex",
        "answers": {"sexual_satisfaction": 40, "note": MARKER * 20},
    }
    r = client.post("/api/v1/me/responses", json=body, headers=couple.headers(0))
    assert r.status_code == 201, r.text
    files = [path, path.with_name(path.name + "-wal")]
    assert any(MARKER.encode() in f.read_bytes() for f in files if f.exists())
    r = client.post("/api/v1/me/withdraw", json={"delete_data": True}, headers=couple.headers(0))
    assert r.status_code == 200
    for f in files:
        if f.exists():
            assert MARKER.encode() not in f.read_bytes(), f.name
    from sqlalchemy import text

    assert db.execute(text("PRAGMA secure_delete")).scalar() == 1


def test_deleted_interview_is_not_left_in_the_sqlite_files(client, couple, db, database_url):
    """A deleting withdrawal removes the history interview, notes and edit log included,
    from the database file and its ``-wal`` file."""
    from datetime import date

    from sqlalchemy import func, select

    from dyadlab.platform.services import history
    from dyadlab.platform.tables import HistoryEdit, Person

    path = _sqlite_file(database_url)
    person = db.get(Person, couple.person_ids[0])
    row = history.start_interview(db, couple.study_id, person, by=None, birth="2003-05")
    today = date(2026, 3, 3)
    partner = history.add_item(db, row, "partner", {"pseudonym": "P1"}, by=None, today=today)
    history.add_item(
        db,
        row,
        "episode",
        {
            "partner": str(partner.id),
            "type": "fwb",
            "start": "2020",
            "ongoing": "on",
            "notes": MARKER * 20,
        },
        by=None,
        today=today,
    )
    db.commit()
    files = [path, path.with_name(path.name + "-wal")]
    assert any(MARKER.encode() in f.read_bytes() for f in files if f.exists())
    r = client.post("/api/v1/me/withdraw", json={"delete_data": True}, headers=couple.headers(0))
    assert r.status_code == 200
    for f in files:
        if f.exists():
            assert MARKER.encode() not in f.read_bytes(), f.name
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(HistoryEdit)) == 0
