"""Participant pages: link -> session cookie, consent, the form (with and without
JavaScript), the cookie bridge to the JSON API, CSRF, quick exit, settings, withdrawal."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from dyadlab.platform.i18n import LANGUAGES, MESSAGES, SCRIPT_KEYS, translate
from dyadlab.platform.protocol import example_protocol
from dyadlab.platform.routes._pages import CSRF_COOKIE, PARTICIPANT_COOKIE
from dyadlab.platform.routes.pages_participant import person_key, posted_answers
from dyadlab.platform.tables import ConsentEvent, Person, Response
from tests.platform.conftest import TZ, evening_answers, make_study

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _csrf(page_text: str) -> str:
    match = _CSRF.search(page_text)
    assert match, "the page has no CSRF field"
    return match.group(1)


def _open_link(client, token: str):
    r = client.get(f"/p/{token}")
    assert r.status_code == 200, r.text
    return r


def _consented(client, token: str) -> None:
    _open_link(client, token)
    page = client.get("/s/consent")
    r = client.post(
        "/s/consent",
        data={"csrf": _csrf(page.text), "version": "1", "agree": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def pair(db, protocol_path):
    return make_study(db, protocol_path)[0]


def test_link_sets_a_strict_httponly_cookie_and_leaves_the_token_behind(client, pair):
    r = _open_link(client, pair.tokens[0])
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(f"{PARTICIPANT_COOKIE}="))
    assert "HttpOnly" in session
    assert "SameSite=strict" in session or "SameSite=Strict" in session
    assert any(c.startswith(f"{CSRF_COOKIE}=") for c in cookies)
    assert 'http-equiv="refresh" content="0;url=/s/"' in r.text
    assert pair.tokens[0] not in r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_unknown_link_is_refused_without_a_cookie(client, pair):
    r = client.get("/p/" + "x" * 43)
    assert r.status_code == 404
    assert PARTICIPANT_COOKIE not in r.headers.get("set-cookie", "")
    assert "not valid" in r.text


def test_without_session_pages_ask_for_the_link(client):
    r = client.get("/s/")
    assert r.status_code == 401
    assert "personal link" in r.text


def test_consent_records_the_version(client, db, pair):
    _open_link(client, pair.tokens[0])
    r = client.get("/s/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/s/consent"
    page = client.get("/s/consent")
    assert "mijn partner ziet mijn antwoorden nooit" in page.text  # default language nl
    assert client.post("/s/consent", data={"version": "1", "agree": "yes"}).status_code == 403
    r = client.post("/s/consent", data={"csrf": _csrf(page.text), "version": "1"})
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    r = client.post(
        "/s/consent",
        data={"csrf": _csrf(page.text), "version": "1", "agree": "yes"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/s/"
    event = db.scalars(select(ConsentEvent)).one()
    assert (event.person_id, event.kind, event.version) == (pair.person_ids[0], "consent", 1)


def test_home_lists_open_questionnaires_by_number(client, pair):
    _consented(client, pair.tokens[0])
    page = client.get("/s/").text
    assert 'href="/s/q/1"' in page and 'href="/s/q/2"' in page
    assert "Open tot 00:00" in page  # 20:00 + 240 min, Amsterdam time
    assert 'href="/exit"' in page and "data-quick-exit" in page


def test_form_renders_every_item_type_accessibly(client, pair):
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/1").text
    # a slider is a number field, empty until answered (the script makes it a scale)
    assert re.search(
        r'<input type="number" id="f-desire" name="desire"\s+min="0" max="100" step="1"\s+'
        r'inputmode="numeric"\s+value="" data-mid="50"\s+required',
        page,
    )
    assert 'type="range"' not in page
    assert '<label class="q" id="l-desire" for="f-desire">' in page
    assert 'aria-describedby="r-desire e-desire"' in page
    hint = 'id="r-desire" data-range-text="Van 0 tot 100">Typ een getal van 0 tot en met 100.'
    assert hint in page
    assert re.search(r"<fieldset[^>]*>\s*<legend class=\"q\">Vandaag was ik tevreden", page)
    assert page.count('name="relationship_satisfaction"') == 7
    assert 'value="yes"' in page and ">Ja</label>" in page
    assert 'data-relevant="${conflict} = &#39;yes&#39;"' in page
    assert 'id="error-summary" class="error-summary" role="alert"' in page


@pytest.mark.parametrize("path", ["/s/", "/s/q/1", "/s/q/2", "/s/settings", "/s/withdraw"])
def test_pages_are_neutral_with_quick_exit(client, pair, path):
    _consented(client, pair.tokens[0])
    r = client.get(path)
    assert r.status_code == 200
    title = re.search(r"<title>(.*?)</title>", r.text, re.S).group(1).strip()
    assert title == "Onderzoek"
    assert "sex" not in path and 'href="/exit"' in r.text
    assert r.headers["cache-control"] == "no-store"
    links = re.findall(r'(?:href|action)="([^"]+)"', r.text)
    assert not [link for link in links if "sex" in link.lower()]


def test_nojs_post_applies_skip_logic_and_is_idempotent(client, db, pair):
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/1").text
    sid = re.search(r'name="submission_id" value="([^"]+)"', page).group(1)
    data = {
        "csrf": _csrf(page),
        "submission_id": sid,
        "desire": "70",
        "partner_desire": "40",
        "relationship_satisfaction": "5",
        "conflict": "no",
        "conflict_intensity": "4",  # shown without JavaScript; not asked after "no"
        "had_sex": "no",
    }
    r = client.post("/s/q/1", data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/s/?sent=1"
    r = client.post("/s/q/1", data=data, follow_redirects=False)
    assert r.status_code == 303  # the same submission id: nothing new
    row = db.scalars(select(Response)).one()
    assert row.answers == {
        "desire": 70.0,
        "partner_desire": 40.0,
        "relationship_satisfaction": 5,
        "conflict": "no",
        "had_sex": "no",
    }
    assert "Dank je wel" in client.get("/s/?sent=1").text


def test_nojs_invalid_answer_shows_the_errors_and_keeps_the_answers(client, pair):
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/1").text
    r = client.post("/s/q/1", data={"csrf": _csrf(page), "partner_desire": "33", "conflict": "yes"})
    assert r.status_code == 422
    assert 'href="#item-desire"' in r.text
    assert 'aria-invalid="true"' in r.text
    assert '<p class="error" id="e-desire">Beantwoord deze vraag.</p>' in r.text
    out_of_range = {"csrf": _csrf(page), "desire": "140", "partner_desire": "3"}
    r2 = client.post("/s/q/1", data=out_of_range)
    assert r2.status_code == 422
    dutch = '<p class="error" id="e-desire">Vul een getal in van 0 tot en met 100.</p>'
    assert dutch in r2.text  # in the person's language: nothing is marked lang="en"
    assert 'lang="en"' not in r2.text and "must lie" not in r2.text
    assert re.search(r'name="partner_desire"\s+min="0".*?\s+value="33"', r.text, re.S)


def test_nojs_late_answer_is_refused_with_the_draft_kept(client, db, pair, clock):
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/1").text
    clock.advance(hours=5)  # the window closed at 23:00 UTC
    data = {"csrf": _csrf(page), **{k: str(v) for k, v in evening_answers(desire=12).items()}}
    r = client.post("/s/q/1", data=data)
    assert r.status_code == 409
    assert "niet meer open" in r.text
    assert re.search(r'name="desire"\s+min="0".*?\s+value="12"', r.text, re.S)
    assert db.scalar(select(func.count(Response.id))) == 0


def test_form_post_without_csrf_is_refused(client, db, pair):
    _consented(client, pair.tokens[0])
    data = {k: str(v) for k, v in evening_answers().items()}
    assert client.post("/s/q/1", data=data).status_code == 403
    page = client.get("/s/q/1").text
    r = client.post(
        "/s/q/1", data={"csrf": _csrf(page), **data}, headers={"Origin": "https://evil.example"}
    )
    assert r.status_code == 403
    assert db.scalar(select(func.count(Response.id))) == 0


def test_cookie_bridge_needs_the_csrf_header_and_is_idempotent(client, db, pair):
    _consented(client, pair.tokens[0])
    csrf = client.cookies.get(CSRF_COOKIE)
    body = {
        "submission_id": str(uuid.uuid4()),
        "questionnaire": "evening",
        "answers": evening_answers(),
    }
    r = client.post("/api/v1/me/responses", json=body)
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"
    r = client.post("/api/v1/me/responses", json=body, headers={"X-CSRF-Token": "wrong" * 10})
    assert r.status_code == 403
    first = client.post("/api/v1/me/responses", json=body, headers={"X-CSRF-Token": csrf})
    assert first.status_code == 201, first.text
    again = client.post("/api/v1/me/responses", json=body, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200
    assert db.scalar(select(func.count(Response.id))) == 1
    assert client.get("/api/v1/me/responses").json()["responses"][0]["answers"]["desire"] == 60


def test_partner_pages_never_show_the_others_answers(client, db, pair):
    _consented(client, pair.tokens[1])
    page = client.get("/s/q/1").text
    answers = {k: str(v) for k, v in evening_answers(desire=87).items()}
    client.post("/s/q/1", data={"csrf": _csrf(page), **answers})
    client.cookies.clear()
    _consented(client, pair.tokens[0])
    for path in ("/s/", "/s/q/1", "/s/q/2", "/s/settings"):
        text = client.get(path).text
        # random secrets (CSRF token, UUIDs) may contain "87" by chance: strip them first
        visible = re.sub(r"[A-Za-z0-9_\-]{20,}", "", text)
        assert 'value="87"' not in text and "87" not in visible
    own = client.get("/api/v1/me/responses").json()
    assert own == {"responses": []}


def test_quick_exit_ends_the_session(client, db, pair):
    _consented(client, pair.tokens[0])
    r = client.get("/exit")
    assert r.status_code == 200
    assert "<title>Recipes</title>" in r.text
    assert "/s/" not in r.text
    assert any(
        c.startswith(f"{PARTICIPANT_COOKIE}=") and "Max-Age=0" in c
        for c in r.headers.get_list("set-cookie")
    )
    assert client.get("/s/").status_code == 401
    # the exit page named the person's device key (for the script to delete their drafts);
    # without a session it names nothing and loads no script
    person = db.get(Person, pair.person_ids[0])
    assert f'data-forget="{person_key(person)}"' in r.text
    again = client.get("/exit")
    assert "data-forget" not in again.text and "participant.js" not in again.text


def test_settings_change_language_and_check_the_time_zone(client, db, pair):
    _consented(client, pair.tokens[0])
    page = client.get("/s/settings").text
    r = client.post(
        "/s/settings",
        data={"csrf": _csrf(page), "language": "en", "tz": "Europe/Amsterdamm", "email": ""},
    )
    assert r.status_code == 422 and "Europe/Amsterdam" in r.text
    r = client.post(
        "/s/settings",
        data={"csrf": _csrf(page), "language": "en", "tz": "America/New_York", "email": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303
    db.expire_all()
    person = db.get(Person, pair.person_ids[0])
    assert (person.language, person.tz) == ("en", "America/New_York")
    home = client.get("/s/").text
    assert "<title>Study</title>" in home and ">Report</a>" in home  # 14:30 in New York


@pytest.mark.parametrize("delete", [False, True])
def test_withdrawal_page(client, db, pair, delete):
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/1").text
    client.post(
        "/s/q/1", data={"csrf": _csrf(page), **{k: str(v) for k, v in evening_answers().items()}}
    )
    page = client.get("/s/withdraw").text
    data = {"csrf": _csrf(page), **({"delete_data": "yes"} if delete else {})}
    r = client.post("/s/withdraw", data=data)
    assert r.status_code == 200
    assert ("verwijderd" in r.text) is delete
    assert db.scalar(select(func.count(Response.id))) == (0 if delete else 1)
    assert "gestopt" in client.get("/s/").text


def test_posted_answers_follow_the_skip_logic():
    from starlette.datastructures import FormData

    questionnaire = example_protocol().questionnaire("evening")
    form = FormData(
        [("desire", "5"), ("conflict", "yes"), ("conflict_intensity", "2"), ("had_sex", "")]
    )
    assert posted_answers(questionnaire, form) == {
        "desire": "5",
        "conflict": "yes",
        "conflict_intensity": "2",
    }
    form = FormData([("conflict", "no"), ("conflict_intensity", "2")])
    assert posted_answers(questionnaire, form) == {"conflict": "no"}


def test_every_message_exists_in_every_language():
    keys = set(MESSAGES["en"])
    for language in LANGUAGES:
        assert set(MESSAGES[language]) == keys, language
    assert set(SCRIPT_KEYS) <= keys
    assert translate("fr", "save") == "Send"
    for language in LANGUAGES:
        for key, text in MESSAGES[language].items():
            assert "sex" not in text.lower(), (language, key)


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_meet_wcag_aa_contrast():
    from importlib.resources import files

    from dyadlab.platform.routes._heatmap import CELL_COLOURS

    static = files("dyadlab.platform") / "static"
    css = (static / "base.css").read_text() + (static / "pages.css").read_text()
    colours = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{6})", css))
    white = "#ffffff"
    for name in ("fg", "accent", "muted", "danger", "ok"):
        assert _contrast(colours[name], white) >= 4.5, name
    assert _contrast(white, "#7a0016") >= 4.5  # quick exit, hovered
    assert _contrast(colours["line"], white) >= 3.0  # input borders (non-text contrast)
    for fill, ink in CELL_COLOURS.values():
        assert _contrast(fill, ink) >= 4.5, fill


def all_types_protocol():
    """The example protocol plus an always-open questionnaire with the other item types."""
    from dyadlab.platform.protocol import parse_protocol

    data = example_protocol().to_dict()
    data["questionnaires"].append(
        {
            "name": "extra",
            "label": {"en": "Extra", "nl": "Extra"},
            "items": [
                {
                    "name": "moods",
                    "type": "multiple",
                    "choices": "moods",
                    "required": True,
                    "label": {"en": "Moods", "nl": "Stemmingen"},
                },
                {
                    "name": "main",
                    "type": "single",
                    "choices": "moods",
                    "relevant": "count-selected(${moods}) > 1",
                    "label": {"en": "Main mood", "nl": "Hoofdstemming"},
                },
                {
                    "name": "count",
                    "type": "integer",
                    "min": 0,
                    "max": 20,
                    "label": {"en": "How many times?", "nl": "Hoe vaak?"},
                },
                {
                    "name": "hours",
                    "type": "decimal",
                    "min": 0,
                    "max": 24,
                    "label": {"en": "Hours", "nl": "Uren"},
                },
                {
                    "name": "when",
                    "type": "time",
                    "label": {"en": "At what time?", "nl": "Hoe laat?"},
                },
                {"name": "day", "type": "date", "label": {"en": "Which day?", "nl": "Welke dag?"}},
                {
                    "name": "energy",
                    "type": "slider",
                    "min": 0,
                    "max": 10,
                    "step": 0.5,
                    "label": {"en": "Energy", "nl": "Energie"},
                },
            ],
        }
    )
    data["choices"]["moods"] = [
        {"value": "calm", "label": {"en": "Calm", "nl": "Rustig"}},
        {"value": "tense", "label": {"en": "Tense", "nl": "Gespannen"}},
        {"value": "happy", "label": {"en": "Happy", "nl": "Blij"}},
    ]
    data["schedule"].append({"questionnaire": "extra", "type": "event", "max_per_day": 5})
    return parse_protocol(data)


def test_every_item_type_renders_and_posts_typed(client, db):
    from dyadlab.platform.services.invitations import invite_couples
    from dyadlab.platform.services.studies import create_study
    from tests.platform.conftest import START, TZ

    study = create_study(db, all_types_protocol())
    made = invite_couples(db, study.id, 1, base_url="http://testserver", start_date=START, tz=TZ)
    db.commit()
    _consented(client, made[0].partners[0].token)
    page = client.get("/s/q/3").text
    assert page.count('type="checkbox"') == 3
    assert re.search(r'type="number" inputmode="numeric" step="1"\s+min="0"\s+max="20"', page)
    assert 'inputmode="decimal"' in page
    assert 'type="time"' in page and 'type="date"' in page
    assert '<legend class="q">Stemmingen' in page
    assert re.search(r'name="energy"\s+min="0" max="10" step="0.5"\s+inputmode="decimal"', page)
    data = [
        ("csrf", _csrf(page)),
        ("moods", "tense"),
        ("moods", "calm"),
        ("main", "calm"),
        ("count", "3"),
        ("hours", "1,5"),
        ("when", "21:15"),
        ("day", "2026-03-02"),
        ("energy", ""),  # an optional slider left empty: no answer, not its middle
    ]
    body = "&".join(f"{k}={v}" for k, v in data)
    r = client.post(
        "/s/q/3",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    row = db.scalars(select(Response)).one()
    assert row.answers == {
        "moods": ["calm", "tense"],
        "main": "calm",
        "count": 3,
        "hours": 1.5,
        "when": "21:15",
        "day": "2026-03-02",
    }
    assert row.kind == "event"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({"Sec-Fetch-Site": "same-site"}, False),
        ({"Origin": "http://testserver"}, True),
        ({"Origin": "null"}, True),  # what browsers send under Referrer-Policy: no-referrer
        ({"Origin": "http://testserver.evil.example"}, False),
    ],
)
def test_cookie_bridge_checks_where_the_request_comes_from(client, pair, headers, allowed):
    _consented(client, pair.tokens[0])
    body = {"submission_id": str(uuid.uuid4()), "questionnaire": "evening", "answers": {}}
    r = client.post(
        "/api/v1/me/responses",
        json=body,
        headers={"X-CSRF-Token": client.cookies.get(CSRF_COOKIE), **headers},
    )
    if allowed:
        assert r.status_code == 422  # reached the API: the (empty) answers are checked
    else:
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf"


@pytest.mark.parametrize("path", ["/s/q/0", "/s/q/9", "/s/q/abc", "/s/q/-1"])
def test_unknown_questionnaire_numbers_get_a_page(client, pair, path):
    _consented(client, pair.tokens[0])
    r = client.get(path)
    assert r.status_code == 404
    assert "<title>Onderzoek</title>" in r.text and "niet open" in r.text


def test_nojs_slider_left_empty_is_not_an_answer(client, db, pair):
    """Without JavaScript a skipped slider posts an empty field: a required one gets the
    normal message, never its middle value."""
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/1").text
    answers = {k: str(v) for k, v in evening_answers().items()}
    r = client.post("/s/q/1", data={"csrf": _csrf(page), **answers, "partner_desire": ""})
    assert r.status_code == 422
    assert '<a href="#item-partner_desire">' in r.text
    assert 'id="e-partner_desire">Beantwoord deze vraag.</p>' in r.text
    assert re.search(r'name="partner_desire"\s+min="0".*?\s+value=""', r.text, re.S)
    assert db.scalar(select(func.count(Response.id))) == 0
    r = client.post(
        "/s/q/1",
        data={"csrf": _csrf(page), **answers, "partner_desire": "50"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert db.scalars(select(Response)).one().answers["partner_desire"] == 50.0


def _extra_study(db, client, protocol=None) -> str:
    """The all-types study with one consented partner on this client; its form's page."""
    from dyadlab.platform.services.invitations import invite_couples
    from dyadlab.platform.services.studies import create_study
    from tests.platform.conftest import START, TZ

    study = create_study(db, protocol or all_types_protocol())
    made = invite_couples(db, study.id, 1, base_url="http://testserver", start_date=START, tz=TZ)
    db.commit()
    _consented(client, made[0].partners[0].token)
    return client.get("/s/q/3").text


@pytest.mark.parametrize(
    ("language", "posted", "item", "message"),
    [
        ("nl", {"count": "25"}, "count", "Vul een getal in van 0 tot en met 20."),
        ("en", {"count": "25"}, "count", "Please give a number from 0 to 20."),
        ("nl", {"count": "2.5"}, "count", "Vul een heel getal in."),
        ("nl", {"hours": "veel"}, "hours", "Vul een getal in."),
        ("en", {"hours": "1,000"}, "hours", "Please write the number without a thousands"),
        ("nl", {"energy": "10.5"}, "energy", "Vul een getal in van 0 tot en met 10."),
        ("nl", {"when": "laat"}, "when", "Vul een tijd in (uren:minuten)."),
        ("en", {"day": "3 March"}, "day", "Please give a date (year-month-day)."),
        ("nl", {}, "moods", "Beantwoord deze vraag."),
    ],
)
def test_nojs_answer_problems_in_the_persons_language(client, db, language, posted, item, message):
    page = _extra_study(db, client)
    if language == "en":
        settings = client.get("/s/settings").text
        client.post("/s/settings", data={"csrf": _csrf(settings), "language": "en", "tz": TZ})
        page = client.get("/s/q/3").text
    data = {"csrf": _csrf(page), "moods": "calm", **posted}
    if item == "moods":
        del data["moods"]
    r = client.post("/s/q/3", data=data)
    assert r.status_code == 422, r.text
    assert f'<html lang="{language}">' in r.text and 'lang="en"' not in r.text.split(">", 2)[2]
    shown = re.search(rf'<p class="error" id="e-{item}">([^<]*)</p>', r.text)
    assert shown and shown.group(1).startswith(message), shown
    assert re.search(rf'<a href="#item-{item}">[^<]*</a>: {re.escape(shown.group(1))}', r.text)


def test_nojs_constraint_message_of_the_protocol_in_the_persons_language(client, db):
    from dyadlab.platform.protocol import parse_protocol

    content = all_types_protocol().to_dict()
    extra = content["questionnaires"][-1]["items"]
    hours = next(i for i in extra if i["name"] == "hours")
    hours["constraint"] = ". <= 24 - ${count}"
    hours["constraint_message"] = {
        "en": "More hours than the day has.",
        "nl": "Meer uren dan de dag heeft.",
    }
    count = next(i for i in extra if i["name"] == "count")
    count["constraint"] = ". != 13"  # no message of its own: the pages' general text
    page = _extra_study(db, client, parse_protocol(content))
    data = {"csrf": _csrf(page), "moods": "calm", "count": "13", "hours": "20"}
    r = client.post("/s/q/3", data=data)
    assert r.status_code == 422
    assert '<p class="error" id="e-hours">Meer uren dan de dag heeft.</p>' in r.text
    assert '<p class="error" id="e-count">Dit antwoord kan hier niet; kijk het na.</p>' in r.text


def test_nojs_refusals_in_the_persons_language(client, db, pair, clock):
    """A late answer, a full day of reports and a changed consent are said in Dutch."""
    _consented(client, pair.tokens[0])
    page = client.get("/s/q/2").text  # the event questionnaire (at most 3 a day)
    data = {"csrf": _csrf(page), "sexual_satisfaction": "5"}
    for _ in range(3):
        client.post("/s/q/2", data=data, follow_redirects=False)
    r = client.post("/s/q/2", data=data)
    assert r.status_code == 409
    assert "Je hebt dit vandaag al het grootste aantal keren verstuurd" in r.text
    assert "reached" not in r.text
    page = client.get("/s/consent").text
    r = client.post("/s/consent", data={"csrf": _csrf(page), "version": "7", "agree": "yes"})
    assert r.status_code == 422 and "De informatie is veranderd" in r.text
    assert "not the current one" not in r.text


def test_settings_problems_in_the_persons_language(client, pair):
    _consented(client, pair.tokens[0])
    page = client.get("/s/settings").text
    r = client.post("/s/settings", data={"csrf": _csrf(page), "tz": "Europe/Amsterdamm"})
    assert r.status_code == 422
    assert "&#39;Europe/Amsterdamm&#39; is geen naam van een tijdzone" in r.text
    assert "Bedoel je Europe/Amsterdam?" in r.text
    r = client.post("/s/settings", data={"csrf": _csrf(page), "language": "fr"})
    assert r.status_code == 422 and "Kies een taal uit de lijst." in r.text


def test_every_answer_problem_has_its_text_in_every_language():
    from dyadlab.platform.i18n import translator
    from dyadlab.platform.protocol import ANSWER_ERROR_CODES
    from dyadlab.platform.routes._messages import PROBLEM_KEYS, answer_error_text

    for code, params in ANSWER_ERROR_CODES.items():
        key = "required" if code == "required" else f"answer_{code}"
        assert key in SCRIPT_KEYS, code  # the script says them too
        for language in LANGUAGES:
            text = answer_error_text(
                {"item": "x", "code": code, "params": dict.fromkeys(params, 7)},
                translator(language),
            )
            assert text == translate(language, key, **dict.fromkeys(params, "7"))
            assert "{" not in text
    # what the script may meet when it sends answers (consent is given on its own page)
    for key in [*PROBLEM_KEYS.values(), "not_open", "event_limit", "page_error"]:
        assert key in SCRIPT_KEYS or key == "consent_version_changed", key


def test_api_answer_problems_keep_the_error_shape_and_add_codes(client, pair):
    """The API keeps its one error shape with English messages; each item's problem adds
    its ``code`` (and ``params``), which the page script turns into the person's language."""
    _consented(client, pair.tokens[0])
    body = {
        "submission_id": str(uuid.uuid4()),
        "questionnaire": "evening",
        "answers": {**evening_answers(), "desire": 140, "partner_desire": None},
    }
    r = client.post(
        "/api/v1/me/responses", json=body, headers={"X-CSRF-Token": client.cookies.get(CSRF_COOKIE)}
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] == "invalid_answer"
    assert error["details"] == [
        {
            "item": "desire",
            "message": "must lie between 0 and 100, got 140",
            "code": "between",
            "params": {"min": 0, "max": 100},
        },
        {"item": "partner_desire", "message": "an answer is required", "code": "required"},
    ]
