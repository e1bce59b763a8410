"""Texts and times at the edge: refused with 422 naming the item, identically on SQLite and
PostgreSQL, nothing stored; and stored data (rows from before the checks) never breaks
an export or a participant's list of answers."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dyadlab.io import read_table
from dyadlab.platform.tables import Person, Response
from tests.platform.conftest import EVENING_DAY3, login

BAD_TEXTS = {
    "lone high surrogate": "\ud800",
    "lone low surrogate": "a\udfffb",
    "reversed pair": "\udc00\ud800",
    "NUL": "a\x00b",
    "bell": "ding\x07",
    "escape sequence": "\x1b[31mred",
    "vertical tab": "a\x0bb",
    "DEL": "a\x7f",
    "C1 control": "a\x9bb",
    "next line (C1)": "a\x85b",
}

#: Text that is fine (stored as it is).
GOOD_TEXTS = [
    "line one\nline two\ttabbed",
    "windows\r\nline break",
    "é (e + combining acute: e\u0301), 👩‍❤️‍👨, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "\u202eright-to-left override\u202c and \u2028 separators \u2029",
    "\ufeffBOM and zero width\u200b\u200c\u200d and noncharacters \ufffe\uffff\U0010ffff",
]


def _post(client, couple, answers, which=0, **times):
    body = {
        "submission_id": str(uuid.uuid4()),
        "questionnaire": "after_sex",
        "answers": answers,
        **times,
    }
    # json.dumps writes a lone surrogate as the escape \ud800, as a client could
    return client.post(
        "/api/v1/me/responses",
        content=json.dumps(body),
        headers={**couple.headers(which), "content-type": "application/json"},
    )


def _count(db) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count(Response.id))) or 0)


@pytest.mark.parametrize("name", list(BAD_TEXTS))
def test_bad_text_in_an_answer_is_refused_and_not_stored(client, couple, db, name):
    r = _post(client, couple, {"sexual_satisfaction": 50, "note": BAD_TEXTS[name]})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_text"
    assert error["message"].startswith("answers.note: contains ")
    assert error["details"][0]["item"] == "note"
    assert error["details"][0]["code"] == "bad_character"
    assert _count(db) == 0


def test_bad_text_in_an_item_name_is_named_escaped(client, couple, db):
    r = _post(client, couple, {"sexual_satisfaction": 50, "no\x00te\ud800": "x"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["item"] == "no\\u0000te\\ud800"
    assert "the name contains the control character U+0000" in r.json()["error"]["message"]
    assert _count(db) == 0


@pytest.mark.parametrize("text", GOOD_TEXTS)
def test_good_text_is_stored_as_it_is(client, couple, text):
    r = _post(client, couple, {"sexual_satisfaction": 50, "note": text})
    assert r.status_code == 201, r.text
    assert r.json()["answers"]["note"] == text
    mine = client.get("/api/v1/me/responses", headers=couple.headers(0)).json()["responses"]
    assert mine[0]["answers"]["note"] == text


def test_bad_text_elsewhere_in_a_body_is_refused(client, couple, db):
    r = client.patch("/api/v1/me", json={"tz": "Europe/Amster\x00dam"}, headers=couple.headers(0))
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("tz: contains the control character U+0000")
    r = client.post("/api/v1/auth/login", json={"email": "a\x00@lab.example", "password": "x"})
    assert r.status_code == 422
    assert r.json()["error"]["details"][0]["item"] == "email"


def test_a_text_answer_with_a_bad_character_is_refused_by_the_protocol(client, couple):
    from dyadlab.platform.protocol import AnswerError, example_protocol

    with pytest.raises(AnswerError) as caught:
        example_protocol().validate_answers("after_sex", {"note": "a\x00b"})
    assert caught.value.errors[0]["code"] == "bad_character"


NOW = EVENING_DAY3  # the app's clock in these tests
BAD_TIMES = {
    "far future, offset -14:00": ({"started_at": "9999-12-31T23:59:59-14:00"}, "started_at"),
    "far future finish": ({"finished_at": "9999-12-31T23:59:59-14:00"}, "finished_at"),
    "year 1": ({"started_at": "0001-01-01T00:00:00+01:00"}, "started_at"),
    "year 1 finish": ({"finished_at": "0001-01-01T00:00:00+00:00"}, "finished_at"),
    "before 2000": ({"started_at": "1999-12-31T23:59:59Z"}, "started_at"),
    "two days ahead": ({"started_at": (NOW + timedelta(days=2)).isoformat()}, "started_at"),
    "no offset": ({"started_at": "2026-03-03T19:00:00"}, "started_at"),
    "started after finished": (
        {
            "started_at": (NOW - timedelta(minutes=1)).isoformat(),
            "finished_at": (NOW - timedelta(minutes=5)).isoformat(),
        },
        "started_at",
    ),
}


@pytest.mark.parametrize("name", list(BAD_TIMES))
def test_bad_times_are_refused_and_not_stored(client, couple, db, name):
    times, field = BAD_TIMES[name]
    r = _post(client, couple, {"sexual_satisfaction": 50}, **times)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_time"
    assert error["message"].startswith(field)
    assert _count(db) == 0


def test_sane_times_are_stored(client, couple):
    started = (NOW - timedelta(minutes=7)).isoformat()
    finished = (NOW - timedelta(minutes=1)).astimezone(UTC).isoformat()
    r = _post(client, couple, {"sexual_satisfaction": 50}, started_at=started, finished_at=finished)
    assert r.status_code == 201, r.text
    assert r.json()["started_at"] == (NOW - timedelta(minutes=7)).isoformat().replace("+00:00", "Z")


# ----------------------------------------------------------------- stored oddities
#: Every oddity a database can hold: SQLite keeps surrogates and NUL inside JSON (as
#: escapes), PostgreSQL refuses both (JSONB and text have no NUL, UTF-8 no surrogates).
STORED_EVERYWHERE = [
    *GOOD_TEXTS,
    '=HYPERLINK("http://evil.example","click")',
    "+1+2",
    "-3",
    "@SUM(A1)",
    "\tleading tab",
    '"quoted, with comma"\n"and a second line"',
    "x" * 4000,
    "\x1b[31m escape, \x07 bell, \x7f DEL, \x9b CSI",
]
STORED_SQLITE_ONLY = ["\ud800", "a\udfffb", "\udc00\ud800", "a\x00b"]


def _old_rows(db, couple, postgres: bool) -> list[str]:
    """Store answers with every oddity directly (as rows written before the checks),
    with times out of the sane range and redacted items with oddities."""
    texts = STORED_EVERYWHERE + ([] if postgres else STORED_SQLITE_ONLY)
    person = db.get(Person, couple.person_ids[0])
    for k, text in enumerate(texts):
        finished = EVENING_DAY3 - timedelta(minutes=k)
        db.add(
            Response(
                person_id=person.id,
                submission_id=uuid.uuid4(),
                questionnaire="after_sex",
                answers={"sexual_satisfaction": 50, "note": text, "unknown\x07": text},
                prompt_key=f"after_sex:d3:e{k + 1}",
                kind="event",
                diary_day=3,
                prompt_number=k + 1,
                scheduled_utc=None,
                window_end_utc=None,
                started_utc=datetime(1, 1, 1, tzinfo=UTC) if k % 2 else None,
                finished_utc=finished,
                received_utc=finished,
                tz="Europe/Amsterdam",
                local_time=finished.replace(tzinfo=None) + timedelta(hours=1),
                status="completed",
                redacted_items=["partner\x07item"] if k == 0 else None,
            )
        )
    db.add(
        Response(
            person_id=person.id,
            submission_id=uuid.uuid4(),
            questionnaire="evening",
            answers={"desire": 50, "partner_desire": 40, "conflict": "no"},
            prompt_key="evening:d3:p1",
            kind="daily",
            diary_day=3,
            prompt_number=1,
            scheduled_utc=EVENING_DAY3 - timedelta(minutes=30),
            window_end_utc=EVENING_DAY3 + timedelta(hours=3),
            started_utc=datetime(9999, 12, 31, tzinfo=UTC),
            finished_utc=EVENING_DAY3,
            received_utc=EVENING_DAY3,
            tz="Europe/Amsterdam",
            local_time=EVENING_DAY3.replace(tzinfo=None) + timedelta(hours=1),
            status="completed",
        )
    )
    db.commit()
    return texts


def _expected(text: str) -> str:
    from dyadlab.platform._inputs import readable

    return str(readable(text))


def test_stored_oddities_never_break_own_responses(client, couple, db, database_url):
    texts = _old_rows(db, couple, database_url.startswith("postgresql"))
    r = client.get("/api/v1/me/responses", headers=couple.headers(0))
    assert r.status_code == 200, r.text
    notes = sorted(x["answers"].get("note", "") for x in r.json()["responses"])
    assert notes == sorted(["", *(_expected(t) for t in texts)])
    one = r.json()["responses"][0]["submission_id"]
    assert client.get(f"/api/v1/me/responses/{one}", headers=couple.headers(0)).status_code == 200
    assert client.get("/s/", headers=couple.headers(0)).status_code in (200, 303, 401)


def _check_notes(frame, texts, csv: bool) -> None:
    """The event file's notes are the stored texts (bad characters replaced by U+FFFD;
    in CSV, formulas neutralised with a leading apostrophe)."""
    from dyadlab.platform.services.export import neutralise_cell

    got = sorted(str(v) for v in frame["note"].dropna())
    want = [_expected(t) for t in texts]
    if csv:
        want = [neutralise_cell(t) for t in want]
    assert got == sorted(want)


@pytest.mark.parametrize("layout", ["individual", "pairwise", "dyad"])
def test_stored_oddities_never_break_an_api_export(
    client, couple, db, database_url, layout, tmp_path
):
    texts = _old_rows(db, couple, database_url.startswith("postgresql"))
    headers = login(client, db)
    for file in ("csv", "parquet", "sav"):
        r = client.get(
            f"/api/v1/studies/{couple.study_id}/export",
            params={"format": layout, "file": file},
            headers=headers,
        )
        assert r.status_code == 200, (file, r.text)
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            archive.extractall(tmp_path / file)
            names = archive.namelist()
        events = next(n for n in names if n.endswith(f"_events.{file}"))
        _check_notes(read_table(tmp_path / file / events), texts, file == "csv")


def test_stored_oddities_never_break_a_cli_export(couple, db, database_url, tmp_path, monkeypatch):
    from dyadlab.cli import main

    texts = _old_rows(db, couple, database_url.startswith("postgresql"))
    monkeypatch.setenv("DYADLAB_DATABASE_URL", database_url)
    for layout in ("individual", "pairwise", "dyad"):
        for file in ("csv", "parquet", "sav"):
            out = tmp_path / f"{layout}.{file}"
            code = main(["export", str(couple.study_id), "--format", layout, "--out", str(out)])
            assert code == 0, (layout, file)
            _check_notes(read_table(tmp_path / f"{layout}_events.{file}"), texts, file == "csv")


def test_a_failure_after_storing_leaves_no_row_behind_a_500(app, couple, db, monkeypatch):
    from fastapi.testclient import TestClient

    from dyadlab.platform.services import responses

    def broken(row):
        raise RuntimeError("the answer cannot be written as JSON")

    monkeypatch.setattr(responses, "response_to_dict", broken)
    with TestClient(app, raise_server_exceptions=False) as client:
        r = _post(client, couple, {"sexual_satisfaction": 50})
    assert r.status_code == 500
    assert _count(db) == 0  # the phone resends it: nothing may be stored yet


# ----------------------------------------------------------------- e-mail addresses
@pytest.mark.parametrize(
    "email",
    [
        "ann@lab.example\r\nBcc: everyone@example.org",
        "ann@lab.example\nX-Header: 1",
        "ann@lab\rexample.org",
        "not an address",
        "ann@localhost",
        "@lab.example",
        "ann@@lab.example",
        "ann@lab..example",
        "<ann@lab.example>",
        "a" * 65 + "@lab.example",
    ],
)
def test_patch_me_refuses_what_is_not_an_email_address(client, couple, db, email):
    r = client.patch("/api/v1/me", json={"email": email}, headers=couple.headers(0))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_email"
    db.expire_all()
    assert db.get(Person, couple.person_ids[0]).email is None


@pytest.mark.parametrize(
    "email", ["ann@lab.example", "ann.lee+diary@uni-x.example.org", "jörg@münchen.de"]
)
def test_patch_me_stores_an_email_address(client, couple, email):
    r = client.patch("/api/v1/me", json={"email": f" {email} "}, headers=couple.headers(0))
    assert r.status_code == 200, r.text
    assert r.json()["email"] == email
    r = client.patch("/api/v1/me", json={"email": ""}, headers=couple.headers(0))
    assert r.json()["email"] is None  # an empty address removes it


def test_settings_page_says_an_email_address_is_wrong(client, couple, db):
    from tests.platform.test_pages_participant import _csrf, _open_link

    _open_link(client, couple.tokens[0])
    page = client.get("/s/settings").text
    r = client.post(
        "/s/settings",
        data={
            "csrf": _csrf(page),
            "language": "en",
            "tz": "Europe/Amsterdam",
            "email": "ann@lab.example\r\nBcc: x@example.org",
        },
    )
    assert r.status_code == 422
    assert "This is not an e-mail address" in r.text or "Dit is geen e-mailadres" in r.text
    db.expire_all()
    assert db.get(Person, couple.person_ids[0]).email is None


def test_csv_exports_neutralise_formulas_and_parquet_keeps_the_text(client, couple, db, tmp_path):
    notes = ['=HYPERLINK("http://evil.example","click")', "+31 6 1234", "-x", "@SUM(A1)", "fine"]
    for k, note in enumerate(notes):  # three event reports a day each
        r = _post(client, couple, {"sexual_satisfaction": 50, "note": note}, which=k % 2)
        assert r.status_code == 201, r.text
    headers = login(client, db)
    got = {}
    for file in ("csv", "parquet"):
        r = client.get(
            f"/api/v1/studies/{couple.study_id}/export",
            params={"format": "individual", "file": file},
            headers=headers,
        )
        with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
            archive.extractall(tmp_path / file)
        events = tmp_path / file / f"study{couple.study_id}_individual_events.{file}"
        got[file] = sorted(read_table(events)["note"])
    assert got["parquet"] == sorted(notes)
    assert got["csv"] == sorted(["'" + n if n != "fine" else n for n in notes])
