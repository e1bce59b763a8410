"""The interviewer's pages of the history interview, over real HTTP (in-process client):
the steps, the server-side probes and refusals, the edit log, Dutch and English, the
timeline drawing, and the audited export."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from dyadlab.platform.history_i18n import HISTORY_MESSAGES
from dyadlab.platform.i18n import LANGUAGES
from dyadlab.platform.tables import AuditLog, HistoryEdit, HistoryEpisode, Person
from tests.platform.conftest import OWNER, make_study
from tests.platform.test_pages_researcher import _csrf, _login

INTERVIEWER = ("interviewer@lab.example", "a long interviewer passphrase")


@pytest.fixture
def study(db, protocol_path):
    return make_study(db, protocol_path, members={INTERVIEWER: "interviewer"})[0]


def _post(client, url, page_text, **data):
    return client.post(url, data={"csrf": _csrf(page_text), **data}, follow_redirects=False)


def _start(client, study, person_id, **data):
    page = client.get(f"/r/studies/{study.study_id}/history")
    assert page.status_code == 200, page.text
    url = f"/r/studies/{study.study_id}/history/{person_id}/start"
    r = _post(client, url, page.text, **data)
    assert r.status_code == 303, r.text
    return f"/r/studies/{study.study_id}/history/{person_id}"


def _add(client, base, where, expect=303, **data):
    page = client.get(base)
    r = _post(client, f"{base}/{where}", page.text, **data)
    assert r.status_code == expect, r.text[:2000]
    return r


def test_every_message_is_in_every_language():
    keys = {lang: set(HISTORY_MESSAGES[lang]) for lang in LANGUAGES}
    assert keys["en"] == keys["nl"]


def test_members_without_the_interview_permission_get_403(client, db, protocol_path):
    from tests.platform.conftest import ANALYST

    made = make_study(db, protocol_path, members={ANALYST: "analyst"})[0]
    _login(client, db, ANALYST, role="analyst")
    r = client.get(f"/r/studies/{made.study_id}/history/{made.person_ids[0]}")
    assert r.status_code == 403 and "(analyst) does not allow you to run" in r.text
    assert '/history">' not in client.get(f"/r/studies/{made.study_id}").text


def test_an_interviewer_runs_an_interview(client, db, study):
    _login(client, db, INTERVIEWER, role="analyst")
    person = study.person_ids[0]
    study_page = client.get(f"/r/studies/{study.study_id}").text
    assert "History interviews" in study_page and "/compliance" not in study_page
    assert client.get(f"/r/studies/{study.study_id}/compliance").status_code == 403
    base = _start(client, study, person, birth="2003-05", language="en")
    # 1. landmarks, 2. partners, 3. episodes, 4. milestones
    _add(
        client,
        base,
        "landmark",
        kind="school",
        label="Secondary school",
        start="2015-09",
        end="2021-06",
    )
    _add(client, base, "partner", pseudonym="P1", gender="man")
    _add(client, base, "partner", pseudonym="the neighbour")
    text = client.get(base).text
    p1, p2 = re.findall(r'name="partner" value="(\d+)"', text)[:2]
    _add(
        client,
        base,
        "episode",
        partner=p1,
        type="dating",
        start="summer 2019",
        end="2019-12",
        certainty="4",
        notes="met at a festival",
    )
    _add(client, base, "episode", partner=p2, type="casual", start="2019-10", end="2019-11")
    _add(client, base, "milestone", kind="first_kiss", partner=p1, when="2019-07")
    page = client.get(base)
    assert page.status_code == 200
    html = page.text
    assert 'lang="en"' in html and "met at a festival" in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "every id once"
    assert html.index("<main") < html.index('id="landmarks"')
    # the probe: the two episodes with different partners overlap (Oct-Nov 2019)
    assert "Dating – P1 (2019-summer) and Casual – the neighbour (2019-10) overlap" in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    tree = ElementTree.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    titles = [el.text for el in tree.iter(f"{ns}title")]
    assert "Dating: 2019-summer – 2019-12 (Certainty of the dates (1 = a guess, 5 = sure): 4)" in (
        titles
    )
    assert "First kiss: 2019-07" in titles
    assert tree.get("role") == "img" and tree.get("aria-labelledby") == "tl-title tl-desc"
    edits = db.scalars(select(HistoryEdit.entity)).all()
    assert sorted(edits) == sorted(
        ["interview", "landmark", "partner", "partner", "episode", "episode", "milestone"]
    )


def test_impossible_answers_are_refused_on_the_page(client, db, study):
    _login(client, db, INTERVIEWER, role="analyst")
    base = _start(client, study, study.person_ids[0], birth="2003-05", language="en")
    _add(client, base, "partner", pseudonym="P1")
    p1 = re.search(r'name="partner" value="(\d+)"', client.get(base).text).group(1)
    r = _add(
        client,
        base,
        "episode",
        expect=422,
        partner=p1,
        type="dating",
        start="2019-06",
        end="2019-03",
    )
    assert "Until: 2019-03 is before the start (2019-06); check both dates." in r.text
    form = f"add-episode-{p1}"
    assert f'id="{form}-end" name="end"' in r.text
    assert f'aria-describedby="{form}-end-error" autofocus' in r.text
    assert 'value="2019-06"' in r.text  # what was typed stays in the form
    r = _add(client, base, "partner", expect=422, pseudonym="Jan de Vries")
    assert "looks like a full name" in r.text
    _add(client, base, "episode", partner=p1, type="dating", start="2019-03", ongoing="on")
    ep = db.scalars(select(HistoryEpisode)).one()
    r = _add(
        client,
        base,
        f"episode/{ep.id}",
        expect=422,
        partner=p1,
        type="dating",
        start="2019-02",
        ongoing="on",
    )
    assert "Reason for the change (kept in the edit log): say why" in r.text
    _add(
        client,
        base,
        f"episode/{ep.id}",
        partner=p1,
        type="dating",
        start="2019-02",
        ongoing="on",
        reason="remembered better",
    )
    _add(client, base, f"episode/{ep.id}/spell", type="romantic", when="2019-09")
    db.expire_all()
    spells = db.scalars(select(HistoryEpisode).order_by(HistoryEpisode.id)).all()
    assert [(s.type, s.start_value, s.end_value) for s in spells] == [
        ("dating", "2019-02", "2019-09"),
        ("romantic", "2019-09", None),
    ]
    _add(client, base, f"episode/{spells[1].id}/delete", reason="entered by mistake")
    db.expire_all()
    assert len(db.scalars(select(HistoryEpisode)).all()) == 1
    reasons = db.scalars(select(HistoryEdit.reason).where(HistoryEdit.reason.is_not(None)))
    assert set(reasons) == {"remembered better", "type changed to romantic", "entered by mistake"}
    log = client.get(f"{base}/edits")
    assert log.status_code == 200
    text = " ".join(log.text.split())
    assert f"<td>{INTERVIEWER[0]}</td>" in text and "remembered better" in text
    assert "<code>start_value</code>: 2019-03 → 2019-02" in text
    assert text.index("entered by mistake") < text.index("remembered better")  # newest first
    missing = _add(
        client,
        base,
        "episode/999999",
        expect=404,
        partner=p1,
        type="dating",
        start="2019",
        ongoing="on",
        reason="x",
    )
    assert "Not found" in missing.text


def test_the_interview_speaks_the_respondents_language(client, db, study):
    _login(client, db, INTERVIEWER, role="analyst")
    person = db.get(Person, study.person_ids[1])
    assert person.language == "nl"
    base = _start(client, study, person.id, birth="2004-01")
    _add(client, base, "partner", pseudonym="P1")
    p1 = re.search(r'name="partner" value="(\d+)"', client.get(base).text).group(1)
    _add(client, base, "episode", partner=p1, type="fwb", start="2014", end="2014")
    html = client.get(base).text
    assert 'lang="nl"' in html and "Ijkpunten" in html and "Periodes met P1" in html
    assert "Leeftijd 10 bij Friends with benefits – P1 (2014): klopt dat?" in html
    r = _add(
        client, base, "episode", expect=422, partner=p1, type="fwb", start="2019-06", end="2019-03"
    )
    assert "Tot: 2019-03 is vóór het begin (2019-06); controleer beide data." in r.text
    r = _add(client, base, "settings", birth="2004-01", language="en")
    assert r.headers["location"] == base
    assert 'lang="en"' in client.get(base).text


def test_export_is_for_exporters_and_audited(client, db, study):
    _login(client, db, INTERVIEWER, role="analyst")
    base = _start(client, study, study.person_ids[0], birth="2003-05", language="en")
    _add(client, base, "partner", pseudonym="=HYPERLINK(1)")
    p1 = re.search(r'name="partner" value="(\d+)"', client.get(base).text).group(1)
    _add(
        client,
        base,
        "episode",
        partner=p1,
        type="online",
        start="2020-02-14",
        ongoing="on",
        certainty="5",
        notes="secret note",
    )
    url = f"/r/studies/{study.study_id}/history-export"
    assert client.get(url).status_code == 403  # an interviewer does not export
    client.cookies.clear()
    _login(client, db, OWNER)
    r = client.get(url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    person = str(study.person_ids[0])
    assert list(csv.DictReader(io.StringIO(r.text))) == [
        {
            "person": person,
            "partner": f"p{person}-1",
            "type": "online",
            "start": "2020-02-14",
            "end": "",
            "start_precision": "day",
            "end_precision": "",
            "certainty": "5",
        }
    ]
    body = json.loads(client.get(url, params={"format": "json"}).text)
    (row,) = body["episodes"]
    assert row["notes"] == "secret note" and row["partner_pseudonym"] == "=HYPERLINK(1)"
    assert body["persons"] == [{"person": person, "birth": "2003-05"}]
    assert body["milestones"] == [] and body["landmarks"] == [] and body["calendar"] == []
    assert client.get(url, params={"format": "xlsx"}).status_code == 422
    audits = db.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    assert [a.detail["format"] for a in audits] == ["history_csv", "history_json"]
    assert all(a.study_id == study.study_id for a in audits)


def test_swatch_colours_match_the_timeline():
    from pathlib import Path

    from dyadlab.platform.routes._history_timeline import TYPE_COLOURS

    css = (Path(__file__).parents[2] / "src/dyadlab/platform/static/history.css").read_text()
    for episode_type, colour in TYPE_COLOURS.items():
        assert f".swatch.type-{episode_type} {{ background: {colour}; }}" in css


def test_the_timeline_followback_calendar(client, db, study):
    from dyadlab.platform.services import history_tlfb

    _login(client, db, INTERVIEWER, role="analyst")
    base = _start(client, study, study.person_ids[0], birth="2003-05", language="en")
    _add(client, base, "partner", pseudonym="P1")
    p1 = re.search(r'name="partner" value="(\d+)"', client.get(base).text).group(1)
    _add(client, base, "episode", partner=p1, type="romantic", start="2026-02-20", ongoing="on")
    assert f'href="{base.removeprefix("http://testserver")}/tlfb"' in client.get(base).text
    page = client.get(f"{base}/tlfb")
    assert page.status_code == 200
    assert page.text.count('<th scope="row">') == 30  # the clock: 3 March 2026
    assert "Mon 2026-02-02" in page.text and "Mon 2026-03-02" in page.text
    # running from 20 February to 2 March: 11 days with a recall anchor
    assert page.text.count('class="running">Relationship – P1') == 11
    cell = history_tlfb.cell_name(date(2026, 2, 25), int(p1))
    assert 'aria-label="P1, Wed 2026-02-25"' in page.text
    r = _post(client, f"{base}/tlfb", page.text, days="30", **{cell: "2"})
    assert r.status_code == 303 and r.headers["location"].endswith("/tlfb?days=30&saved=1")
    saved = client.get(r.headers["location"])
    assert f'name="{cell}" value="2"' in saved.text and 'role="status">Saved.' in saved.text
    bad = _post(client, f"{base}/tlfb", page.text, days="30", **{cell: "many"})
    assert (
        bad.status_code == 422
        and "2026-02-25: &#39;many&#39; is not a number from 0 to 20" in bad.text
    )
    assert f'name="{cell}" value="many"' in bad.text
    assert 'aria-invalid="true" autofocus' in bad.text
    assert client.get(f"{base}/tlfb", params={"days": "90"}).text.count('<th scope="row">') == 90


def test_a_withdrawn_persons_interview_is_kept_unchanged(client, db, study):
    from dyadlab.platform.services.withdrawal import withdraw

    _login(client, db, INTERVIEWER, role="analyst")
    base = _start(client, study, study.person_ids[0], birth="2003-05", language="en")
    _add(client, base, "partner", pseudonym="P1")
    page = client.get(base)
    withdraw(db, db.get(Person, study.person_ids[0]), delete_data=False)
    db.commit()
    assert client.get(base).status_code == 200  # kept, and readable
    r = _post(client, f"{base}/partner", page.text, pseudonym="P2")
    assert r.status_code == 409 and "can no longer be changed" in r.text
    other = study.person_ids[1]
    withdraw(db, db.get(Person, other), delete_data=False)
    db.commit()
    r = _post(client, f"/r/studies/{study.study_id}/history/{other}/start", page.text)
    assert r.status_code == 409


def test_the_timeline_alone_has_no_notes_and_no_questions(client, db, study):
    _login(client, db, INTERVIEWER, role="analyst")
    base = _start(client, study, study.person_ids[0], birth="2003-05", language="en")
    _add(client, base, "partner", pseudonym="P1")
    _add(client, base, "partner", pseudonym="P2")
    p1, p2 = re.findall(r'name="partner" value="(\d+)"', client.get(base).text)[:2]
    _add(
        client,
        base,
        "episode",
        partner=p1,
        type="dating",
        start="2019",
        ongoing="on",
        notes="private interviewer note",
    )
    _add(client, base, "episode", partner=p2, type="casual", start="2020-03", end="2020-04")
    assert "overlap" in client.get(base).text
    page = client.get(f"{base}/timeline")
    assert page.status_code == 200
    assert 'role="img"' in page.text and "Dating: 2019 – now" in page.text
    assert "private interviewer note" not in page.text and "overlap" not in page.text
    assert "<form" not in page.text.split("<main", 1)[1]
