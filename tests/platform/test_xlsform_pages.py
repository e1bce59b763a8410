"""An XLSForm with the ODK features dyadlab maps (repeat, hint, note, calculate, rank,
geopoint, dateTime, acknowledge, required expressions, or_other): its protocol, its page
and a form posted without JavaScript."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import uuid
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from dyadlab.exceptions import DyadlabWarning
from dyadlab.platform.protocol import AnswerError, load_protocol
from dyadlab.platform.tables import AuditLog, Response, Upload
from tests.platform.conftest import make_study
from tests.platform.test_pages_participant import _consented, _csrf

SURVEY = [
    [
        *("type", "name", "label::English (en)", "hint::English (en)", "required", "relevant"),
        *("calculation", "repeat_count", "repeat_max", "default", "tutorial notes"),
        "choice_filter",
    ],
    ["begin_group", "evening", "Evening"],
    ["note", "intro", "Welcome", "Take your time"],
    ["integer", "n_kids", "How many children?", "Count every child", "yes"],
    ["calculate", "double", None, None, None, None, "${n_kids} * 2"],
    ["begin_repeat", "kid", "Child", None, None, None, None, "${n_kids}", 3],
    ["text", "kid_name", "Name of the child", None, "yes"],
    ["end_repeat", "kid"],
    ["select_one colours or_other", "colour", "Favourite colour?"],
    ["dateTime", "when", "When did it start?", "For all ${n_kids} children & <you>"],
    ["rank", "order", "Order these", None, "${n_kids} > 1"],
    ["geopoint", "where", "Where are you?"],
    ["acknowledge", "ok", "I read this"],
    ["decimal", "score", "A score", None, None, "${double} > 2", None, None, None, "1.5"],
    ["select_one sizes", "home", "How big is your home?", *[None] * 8, "min_kids <= ${n_kids}"],
    ["image", "photo", "A photo of the place"],
    ["start", "start"],
    ["deviceid", "device"],
    ["date", "day", "Which day?", *[None] * 6, "today()"],
    ["end_group", "evening"],
]
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
CHOICES = [
    ["list_name", "name", "label::English (en)", "min_kids"],
    ["sizes", "small", "Small", 0],
    ["sizes", "big", "Big", 2],
    ["colours", "red", "Red"],
    ["colours", "blue", "Blue (${n_kids})"],
    ["things", "a", "A"],
    ["things", "b", "B"],
    ["things", "c", "C"],
]


def _form(path: Path, *, uploads: bool = True) -> Path:
    survey = [list(r) for r in SURVEY if uploads or r[0] != "image"]
    survey[10][0] = "rank things"
    survey[2] += [None] * 6 + ["a note for trainers"]
    book = openpyxl.Workbook()
    book.remove(book.active)
    sheets: dict[str, list[list[Any]]] = {
        "survey": survey,
        "choices": CHOICES,
        "settings": [["form_title", "form_id", "public_key"], ["Kids", "kids", "xyz"]],
        "schedule": [
            ["questionnaire", "type", "time", "window_minutes"],
            ["evening", "daily", dt.time(20, 0), 240],
        ],
    }
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


@pytest.fixture
def form_path(tmp_path: Path) -> Path:
    return _form(tmp_path / "kids.xlsx")


def test_the_features_become_items(form_path: Path) -> None:
    with pytest.warns(DyadlabWarning) as caught:
        protocol = load_protocol(form_path)
    text = " ".join(str(w.message) for w in caught)
    assert "'tutorial notes'" in text and "'settings public_key'" in text
    assert "deviceid" in text  # skipped, and said so
    q = protocol.questionnaire("evening")
    names = [i.name for i in q.items]
    assert names == [
        "intro",
        "n_kids",
        "double",
        "kid_name_1",
        "kid_name_2",
        "kid_name_3",
        "colour",
        "colour_other",
        "when",
        "order",
        "where",
        "ok",
        "score",
        "home",
        "photo",
        "day",
    ]
    assert q.item("intro").type == "note" and q.item("intro").hint == {"en": "Take your time"}
    assert q.item("double").calculation == "${n_kids} * 2"
    assert q.item("kid_name_2").relevant == "(${n_kids}) >= 2"
    assert (q.item("kid_name_2").repeat, q.item("kid_name_2").repeat_index) == ("kid", 2)
    assert q.item("kid_name_2").section == "kid_2" and q.sections["kid_2"] == {"en": "Child (2)"}
    assert q.item("colour_other").relevant == "selected(${colour}, 'other')"
    assert [c.value for c in protocol.choices["colours"]] == ["red", "blue", "other"]
    assert q.item("order").required_if == "${n_kids} > 1"
    assert q.item("score").default == "1.5"
    assert q.item("day").default == "today()"
    assert {i.type for i in q.items} >= {"datetime", "rank", "geopoint", "acknowledge"}


def test_answers_of_the_new_types(form_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        protocol = load_protocol(form_path)
    answers = {
        "n_kids": "2",
        "double": "999",  # whatever the device says, the server computes it
        "kid_name_1": "Ann",
        "kid_name_2": "Bo",
        "when": "2026-03-03T20:15:30",
        "order": ["c", "a", "b"],
        "where": "52.37 4.89 3 10",
        "ok": "OK",
        "score": "3",
    }
    clean = protocol.validate_answers("evening", answers)
    assert clean["double"] == 4 and clean["when"] == "2026-03-03T20:15"
    assert clean["order"] == ["c", "a", "b"] and clean["where"] == "52.37 4.89 3 10"
    with pytest.raises(AnswerError) as info:
        protocol.validate_answers(
            "evening",
            {**answers, "order": ["a", "b"], "where": "95 4", "kid_name_3": "Cy", "intro": "x"},
        )
    problems = {e["item"]: e["code"] for e in info.value.errors}
    assert problems == {
        "intro": "wrong_type",
        "kid_name_3": "not_relevant",
        "order": "wrong_type",
        "where": "wrong_type",
    }
    with pytest.raises(AnswerError, match=r"'order'.*required"):
        protocol.validate_answers("evening", {k: v for k, v in answers.items() if k != "order"})
    one = {"n_kids": "1", "kid_name_1": "Ann"}
    assert protocol.validate_answers("evening", one)["double"] == 2  # order not required
    assert protocol.validate_answers("evening", {**answers, "home": "big"})["home"] == "big"
    with pytest.raises(AnswerError, match="not among the choices shown"):
        protocol.validate_answers("evening", {**one, "home": "big"})  # filtered out


@pytest.fixture
def kids_pair(db, tmp_path: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return make_study(db, _form(tmp_path / "kids.xlsx"))[0]


def test_the_page_shows_hints_notes_sections_and_new_fields(client, kids_pair) -> None:
    _consented(client, kids_pair.tokens[0])
    page = client.get("/s/q/1").text
    assert '<p class="q note">Welcome</p>' in page
    assert '<p class="hint" id="h-intro">Take your time</p>' in page
    assert 'aria-describedby="h-n_kids e-n_kids"' in page
    assert '<h2 class="section">Child (2)</h2>' in page
    assert re.search(r'data-calculation="\$\{n_kids\} \* 2"\s+hidden', page)
    assert 'type="datetime-local"' in page
    assert page.count('name="order__') == 3
    assert 'class="geopoint"' in page and "only this answer keeps it" in page
    assert 'name="ok" value="OK"' in page
    assert 'value="1.5"' in page  # the default
    assert '<span class="piped" data-text="Blue (${n_kids})">Blue ()</span>' in page
    assert 'data-default-expr="today()"' in page  # filled in by the page script
    # ${n_kids} in a hint: filled in (no answer yet: empty), escaped, template kept for JS
    assert (
        '<span class="piped" data-text="For all ${n_kids} children &amp; &lt;you&gt;">'
        "For all  children &amp; &lt;you&gt;</span>"
    ) in page
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" id="f-photo" name="photo"' in page and "never your partner" in page


def test_a_page_shown_again_fills_in_the_answers(client, kids_pair) -> None:
    _consented(client, kids_pair.tokens[0])
    page = client.get("/s/q/1").text
    data = {"csrf": _csrf(page), "submission_id": str(uuid.uuid4()), "n_kids": "2"}
    r = client.post("/s/q/1", data=data, follow_redirects=False)
    assert r.status_code == 422, r.text  # a name is required for both children
    assert "For all 2 children &amp; &lt;you&gt;</span>" in r.text


def test_a_form_posted_without_javascript(client, db, kids_pair) -> None:
    _consented(client, kids_pair.tokens[0])
    page = client.get("/s/q/1").text
    sid = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    data = {
        "csrf": _csrf(page),
        "submission_id": sid,
        "n_kids": "2",
        "kid_name_1": "Ann",
        "kid_name_2": "Bo",
        "kid_name_3": "Cy",  # shown without JavaScript; dropped: only two children
        "colour": "other",
        "colour_other": "teal",
        "when": "2026-03-03T20:15",
        "order__a": "2",
        "order__b": "3",
        "order__c": "1",
        "where": "52.37 4.89",
        "ok": "OK",
        "score": "1.5",
    }
    files = {"photo": ("place.png", PNG, "image/png")}
    r = client.post("/s/q/1", data=data, files=files, follow_redirects=False)
    assert r.status_code == 303, r.text
    row = db.scalars(select(Response)).one()
    photo = row.answers.pop("photo")
    stored = db.get(Upload, uuid.UUID(photo["upload"]))
    assert stored is not None and stored.data == PNG and stored.person_id == row.person_id
    assert photo == {
        "upload": str(stored.id),
        "filename": "place.png",
        "content_type": "image/png",
        "size": len(PNG),
        "sha256": hashlib.sha256(PNG).hexdigest(),
    }
    assert row.answers == {
        "n_kids": 2,
        "double": 4,
        "kid_name_1": "Ann",
        "kid_name_2": "Bo",
        "colour": "other",
        "colour_other": "teal",
        "when": "2026-03-03T20:15",
        "order": ["c", "a", "b"],
        "where": "52.37 4.89",
        "ok": "OK",
        "score": 1.5,
    }


def _download_url(db, kids_pair) -> str:
    upload = db.scalars(select(Upload)).one()
    return f"/r/studies/{kids_pair.study_id}/uploads/{upload.id}"


def test_researchers_download_an_upload_as_an_export(client, db, kids_pair) -> None:
    from tests.platform.conftest import ANALYST, OWNER, add_member
    from tests.platform.test_pages_researcher import _login

    test_a_form_posted_without_javascript(client, db, kids_pair)
    url = _download_url(db, kids_pair)
    add_member(db, kids_pair.study_id, ANALYST, "analyst")
    add_member(db, kids_pair.study_id, ("monitor@lab.example", "monitor passphrase"), "monitor")
    for who in (OWNER, ANALYST):
        client.cookies.clear()
        _login(client, db, who)
        study_page = client.get(url.split("/uploads/")[0]).text
        assert f'<a href="{url}" download>place.png</a>' in study_page  # listed there
        r = client.get(url)
        assert r.status_code == 200 and r.content == PNG, who
        assert r.headers["content-type"] == "image/png"
        assert r.headers["content-disposition"] == (
            "attachment; filename=\"place.png\"; filename*=UTF-8''place.png"
        )
        assert r.headers["x-content-type-options"] == "nosniff"
    logged = db.scalars(select(AuditLog).where(AuditLog.subject.like("upload:%"))).all()
    assert [(a.action, a.subject) for a in logged] == [("export", f"upload:{url[-36:]}")] * 2
    assert {"format": "upload", "item": "photo", "bytes": len(PNG)}.items() <= logged[
        0
    ].detail.items()
    client.cookies.clear()
    _login(client, db, ("monitor@lab.example", "monitor passphrase"))
    r = client.get(url)  # a monitor sees compliance, not answers
    assert r.status_code == 403 and PNG not in r.content
    assert "place.png" not in client.get(url.split("/uploads/")[0]).text
    client.cookies.clear()
    _login(client, db)
    for wrong in (f"{url[:-36]}{uuid.uuid4()}", f"{url[:-36]}not-an-id"):
        r = client.get(wrong)
        assert r.status_code == 404 and PNG not in r.content


def test_participants_never_download_an_upload(client, db, kids_pair) -> None:
    test_a_form_posted_without_javascript(client, db, kids_pair)  # partner 0 sent it
    url = _download_url(db, kids_pair)
    for which in (1, 0):  # the partner, and even the person who gave it
        client.cookies.clear()
        client.cookies.set("dyadlab_p", kids_pair.tokens[which])
        r = client.get(url, headers=kids_pair.headers(which), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/r/login"
        assert PNG not in r.content


def test_another_researcher_gets_404_for_an_upload(client, db, kids_pair, tmp_path) -> None:
    from tests.platform.test_pages_researcher import _login
    from tests.platform.test_privacy import OTHER, _other_researcher, _unnamed

    test_a_form_posted_without_javascript(client, db, kids_pair)
    url = _download_url(db, kids_pair)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        _other_researcher(client, db, _form(tmp_path / "own.xlsx"))
    client.cookies.clear()
    _login(client, db, OTHER)
    got = client.get(url)
    missing_id = 10**6
    missing = client.get(url.replace(f"/studies/{kids_pair.study_id}/", f"/studies/{missing_id}/"))
    assert got.status_code == missing.status_code == 404
    assert PNG not in got.content
    assert _unnamed(got.text, kids_pair.study_id) == _unnamed(missing.text, missing_id)


def test_files_through_the_api_are_checked_and_kept_apart(client, db, kids_pair) -> None:
    for i in (0, 1):
        r = client.post("/api/v1/me/consent", json={"version": 1}, headers=kids_pair.headers(i))
        assert r.status_code == 200, r.text
    base = {"n_kids": 1, "kid_name_1": "Ann"}

    def post(photo: dict[str, Any], who: int = 0) -> Any:
        body = {
            "submission_id": str(uuid.uuid4()),
            "questionnaire": "evening",
            "answers": {**base, "photo": photo},
        }
        return client.post("/api/v1/me/responses", json=body, headers=kids_pair.headers(who))

    too_big = base64.b64encode(PNG * 1000).decode()
    r = post({"filename": "a.png", "content_type": "image/png", "data": too_big})
    assert r.status_code in (413, 422)
    r = post({"filename": "a.txt", "content_type": "image/png", "data": "aGVsbG8="})
    assert r.status_code == 422 and "JPEG, PNG" in r.text
    data = base64.b64encode(PNG).decode()
    r = post({"filename": "a.png", "content_type": "image/png", "data": data})
    assert r.status_code == 201, r.text
    assert data not in r.text  # the answer keeps a reference, not the file
    mine = client.get("/api/v1/me/responses", headers=kids_pair.headers(0)).json()
    assert mine["responses"][0]["answers"]["photo"]["filename"] == "a.png"
    theirs = client.get("/api/v1/me/responses", headers=kids_pair.headers(1)).json()
    assert theirs["responses"] == []
    assert db.scalars(select(Upload)).one().data == PNG


def test_repeats_are_exported_in_long_format(client, db, kids_pair, tmp_path: Path) -> None:
    from dyadlab.platform.services.export import export_study

    test_a_form_posted_without_javascript(client, db, kids_pair)
    result = export_study(db, kids_pair.study_id, out=tmp_path / "kids.csv")
    repeats = pd.read_csv(tmp_path / "kids_repeats.csv")
    assert tmp_path / "kids_repeats.csv" in result.files
    assert list(repeats.columns[-3:]) == ["repeat", "instance", "kid_name"]
    assert repeats[["repeat", "instance", "kid_name"]].values.tolist() == [
        ["kid", 1, "Ann"],
        ["kid", 2, "Bo"],
    ]
    wide = pd.read_csv(tmp_path / "kids.csv")
    answered = wide[wide["status"] != "missed"]
    assert answered[["kid_name_1", "kid_name_2"]].values.tolist() == [["Ann", "Bo"]]


def test_a_researcher_uploads_a_real_xls_form(client, db) -> None:
    from tests.platform.test_pages_researcher import _csrf as _r_csrf
    from tests.platform.test_pages_researcher import _login

    _login(client, db)
    tutorial = Path(__file__).parent / "data" / "xlsforms" / "pyxform" / "example_xls"
    r = client.post(
        "/r/studies",
        data={"csrf": _r_csrf(client.get("/r/studies").text)},
        files={"protocol": ("tutorial.xls", (tutorial / "tutorial.xls").read_bytes())},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    audit = db.scalars(select(AuditLog).where(AuditLog.action == "create_study")).one()
    assert audit.detail["file"] == "tutorial.xls"
    assert any("'tutorial notes'" in note for note in audit.detail["ignored"])
