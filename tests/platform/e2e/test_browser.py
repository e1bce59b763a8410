"""End-to-end: partners answering in headless Chromium on a phone-size viewport, an
offline-then-online submission, the quick exit, and the researcher's compliance page.

Screenshots are written to /tmp (dyadlab_participant_form.png, dyadlab_compliance.png).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from dyadlab.platform._expressions import parse_expression
from dyadlab.platform.protocol import example_protocol
from dyadlab.platform.services.access import add_member
from dyadlab.platform.services.consent import give_consent
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.researchers import create_researcher
from dyadlab.platform.services.responses import submit_response
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.tables import Couple, Person, Response
from tests.platform.conftest import EVENING_DAY3, START, TZ, evening_answers
from tests.platform.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
FORM_SHOT = "/tmp/dyadlab_participant_form.png"
COMPLIANCE_SHOT = "/tmp/dyadlab_compliance.png"


def _couples(live: LiveServer, n: int = 1, *, consent: bool = False) -> list[Any]:
    with live.session() as db:
        study = create_study(db, example_protocol())
        made = invite_couples(db, study.id, n, base_url=live.url, start_date=START, tz=TZ)
        if consent:
            for couple in made:
                for partner in couple.partners:
                    give_consent(db, db.get(Person, partner.person_id), version=1)
        db.commit()
    return made


def _phone(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    # The page's clock (finished_at) agrees with the server's fixed clock.
    page.clock.set_fixed_time(EVENING_DAY3 + timedelta(seconds=30))
    page.set_default_timeout(5000)
    return context, page


@contextmanager
def _signed_in(browser: Browser, live: LiveServer, link: str) -> Iterator[Page]:
    """A phone that has opened ``link`` (a personal link) and reached the overview."""
    context, page = _phone(browser)
    try:
        page.goto(link)
        page.wait_for_url(f"{live.url}/s/")
        yield page
    finally:
        context.close()


def _responses(live: LiveServer, person_id: int) -> list[Response]:
    with live.session() as db:
        return list(db.scalars(select(Response).where(Response.person_id == person_id)))


def _move_slider(page: Page, name: str, *keys: str) -> None:
    page.focus(f"#f-{name}")
    for key in keys:
        page.keyboard.press(key)


def test_partner_answers_on_a_phone_with_skip_logic(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live)[0].partners[0]
    context, page = _phone(browser)
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    try:
        before = page.evaluate("history.length")
        page.goto(partner.url)
        page.wait_for_url(f"{live.url}/s/consent")
        assert partner.token not in page.url
        assert page.evaluate("history.length") == before + 1  # the link's entry was replaced
        assert page.title() == "Onderzoek"
        page.get_by_label("Ik heb de informatie hierboven gelezen").check()
        page.get_by_role("button", name="Toestemming geven").click()
        page.wait_for_url(f"{live.url}/s/")
        page.get_by_role("link", name="Dagelijkse vragen").click()
        page.wait_for_url(f"{live.url}/s/q/1")

        expect(page.locator("#v-desire")).to_contain_text("Nog niet beantwoord")
        _move_slider(page, "desire", "ArrowRight", "ArrowRight", "ArrowRight")
        expect(page.locator("#v-desire")).to_have_text("Jouw antwoord: 53")
        _move_slider(page, "partner_desire", "Home", "PageUp")
        expect(page.locator("#v-partner_desire")).to_have_text("Jouw antwoord: 10")
        page.get_by_label("Eerder eens", exact=True).check()

        intensity = page.locator("#item-conflict_intensity")
        expect(intensity).to_be_hidden()
        conflict = page.get_by_role("group", name="Hadden jij en je partner")
        conflict.get_by_label("Ja", exact=True).check()
        expect(intensity).to_be_visible()
        intensity.get_by_label("Matig", exact=True).check()
        conflict.get_by_label("Nee", exact=True).check()
        expect(intensity).to_be_hidden()
        conflict.get_by_label("Ja", exact=True).check()
        expect(intensity).to_be_visible()
        expect(
            intensity.get_by_label("Matig", exact=True)
        ).not_to_be_checked()  # cleared when hidden
        intensity.get_by_label("Hevig", exact=True).check()
        page.get_by_role("group", name="Had je vandaag seks").get_by_label(
            "Nee", exact=True
        ).check()
        page.screenshot(path=FORM_SHOT, full_page=True)

        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_have_text(
            "Dank je wel, je antwoorden zijn ontvangen."
        )
        rows = _responses(live, partner.person_id)
        assert len(rows) == 1
        assert rows[0].answers == {
            "desire": 53.0,
            "partner_desire": 10.0,
            "relationship_satisfaction": 5,
            "conflict": "yes",
            "conflict_intensity": 4,
            "had_sex": "no",
        }
        assert page.evaluate("localStorage.length") == 0  # no draft, nothing pending
        assert problems == []  # no script error, no Content-Security-Policy violation
        assert requests and all(url.startswith(live.url) for url in requests)  # no CDN
    finally:
        context.close()


def test_required_answers_are_announced(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live, consent=True)[0].partners[1]
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/1")
        page.get_by_role("button", name="Versturen").click()
        summary = page.get_by_role("alert")
        expect(summary).to_be_visible()
        expect(summary).to_contain_text("Hoeveel verlangde je vandaag")
        expect(page.locator("#e-desire")).to_be_visible()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert _responses(live, partner.person_id) == []


def test_offline_then_online_arrives_exactly_once(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live, consent=True)[0].partners[0]
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/1")
        _move_slider(page, "desire", "End")
        _move_slider(page, "partner_desire", "ArrowLeft")
        page.context.set_offline(True)
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_contain_text("Opgeslagen op dit apparaat")
        assert _responses(live, partner.person_id) == []
        pending = page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('dyadlab:pending:'))"
            ".map(k => JSON.parse(localStorage.getItem(k)).length)"
        )
        assert pending == [1]
        page.context.set_offline(False)
        expect(page.locator("#form-status")).to_have_text(
            "Dank je wel, je antwoorden zijn ontvangen."
        )
        page.goto(f"{live.url}/s/")  # another page flushes again: nothing is left to send
        page.wait_for_timeout(300)
        rows = _responses(live, partner.person_id)
        assert len(rows) == 1
        assert rows[0].answers == {"desire": 100.0, "partner_desire": 49.0}
        assert page.evaluate("localStorage.length") == 0


ELSEWHERE = "data:text/html,<title>Elsewhere</title><p>another site</p>"
STORED = (
    "({local: Object.keys(localStorage).filter(k => k.startsWith('dyadlab:')),"
    " session: sessionStorage.length})"
)


def test_quick_exit_deletes_the_draft_and_leaves_no_way_back(
    live: LiveServer, browser: Browser
) -> None:
    partner = _couples(live, consent=True)[0].partners[0]
    context, page = _phone(browser)
    try:
        page.goto(ELSEWHERE)  # where the person was before opening the link
        before = page.evaluate("history.length")
        page.goto(partner.url)
        page.wait_for_url(f"{live.url}/s/")
        page.get_by_role("link", name="Dagelijkse vragen").click()
        page.wait_for_url(f"{live.url}/s/q/1")
        _move_slider(page, "desire", "ArrowRight")  # a draft: kept on the device
        page.get_by_label("Eerder eens", exact=True).check()
        page.get_by_role("button", name="Versturen").click()  # errors: a summary link ...
        page.get_by_role("link", name=re.compile("Hoeveel denk je")).click()  # ... followed
        assert page.url == f"{live.url}/s/q/1#item-partner_desire"
        page.evaluate("sessionStorage.setItem('probe', '1')")
        stored = page.evaluate(STORED)
        assert [k.split(":")[1] for k in stored["local"]] == ["draft"]
        assert stored["session"] == 1
        assert page.evaluate("history.length") == before + 1  # one entry for the study

        page.get_by_role("link", name="Snel weg").click()
        page.wait_for_url(f"{live.url}/exit")
        assert page.title() == "Recipes"
        assert page.evaluate(STORED) == {"local": [], "session": 0}
        assert page.evaluate("history.length") == before + 1
        page.go_back()  # Back leads to where the person was before, not into the study
        assert page.url.startswith("data:") and page.title() == "Elsewhere"
        page.go_forward()
        page.wait_for_url(f"{live.url}/exit")
        assert page.evaluate(STORED) == {"local": [], "session": 0}
        page.goto(f"{live.url}/s/q/1")  # logged out on this device
        assert page.locator("#questionnaire").count() == 0
    finally:
        context.close()


def test_quick_exit_sends_waiting_answers_once_more_then_deletes_them(
    live: LiveServer, browser: Browser
) -> None:
    partner = _couples(live, consent=True)[0].partners[1]
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/1")
        _move_slider(page, "desire", "End")
        _move_slider(page, "partner_desire", "Home")
        page.route("**/api/v1/me/responses", lambda route: route.abort())  # no connection
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_contain_text("'Snel weg' wist ze")
        kinds = sorted(k.split(":")[1] for k in page.evaluate(STORED)["local"])
        assert kinds == ["draft", "pending"]
        page.unroute("**/api/v1/me/responses")  # the connection is back ...
        page.get_by_role("link", name="Snel weg").click()  # ... and the person leaves at once
        page.wait_for_url(f"{live.url}/exit")
        assert page.evaluate(STORED) == {"local": [], "session": 0}
        for _ in range(50):  # the last attempt (fetch keepalive) outlives the page
            if _responses(live, partner.person_id):
                break
            page.wait_for_timeout(100)
        rows = _responses(live, partner.person_id)
        assert [row.answers for row in rows] == [{"desire": 100.0, "partner_desire": 0.0}]


def test_exit_page_deletes_drafts_when_the_script_had_not_run(
    live: LiveServer, browser: Browser
) -> None:
    """Following the quick-exit link before the page's script ran (a slow phone): the
    exit page itself deletes the person's drafts."""
    partner = _couples(live, consent=True)[0].partners[0]
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/1")
        _move_slider(page, "desire", "ArrowLeft")
        assert len(page.evaluate(STORED)["local"]) == 1
        page.goto(f"{live.url}/exit")  # the link followed as a plain link
        page.wait_for_load_state()
        expect(page.locator("body")).to_have_attribute("data-forget", re.compile(r"^\w{20}$"))
        page.wait_for_function("!Object.keys(localStorage).some(k => k.startsWith('dyadlab:'))")
        page.reload()  # the session has ended: nothing to name any more
        assert page.locator("body").get_attribute("data-forget") is None


def _fill_compliance(live: LiveServer) -> list[Any]:
    """Five couples over ten diary days with different answering patterns."""
    made = _couples(live, 5, consent=True)
    pattern = {0: range(1, 11), 1: range(1, 11, 2), 2: range(1, 9), 3: (), 4: range(1, 11)}
    with live.session() as db:
        for c, couple in enumerate(made):
            for p, partner in enumerate(couple.partners):
                person = db.get(Person, partner.person_id)
                days = pattern[c] if (p == 0 or c != 4) else range(1, 6)
                for day in days:
                    at = datetime(2026, 3, day, 19, 30, tzinfo=UTC)
                    submit_response(
                        db,
                        person,
                        submission_id=uuid.uuid4(),
                        questionnaire="evening",
                        answers=evening_answers(),
                        now=at,
                    )
        create_researcher(db, "lead@lab.example", "correct horse battery", role="owner")
        couple = db.get(Couple, db.get(Person, made[0].partners[0].person_id).couple_id)
        add_member(db, int(couple.study_id), "lead@lab.example", "owner")
        db.commit()
    return made


def test_researcher_login_and_compliance(live: LiveServer, browser: Browser) -> None:
    _fill_compliance(live)
    live.clock.now = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)  # days 1-10 are due
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        page.goto(f"{live.url}/r/studies")
        page.wait_for_url(f"{live.url}/r/login")
        page.get_by_label("E-mail address").fill("lead@lab.example")
        page.get_by_label("Password").fill("wrong password here")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_contain_text("Wrong e-mail address or password")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live.url}/r/studies")
        page.get_by_role("link", name="Daily intimacy in couples").last.click()
        page.get_by_role("link", name="Compliance").click()
        heatmap = page.locator("svg.heatmap")
        expect(heatmap).to_be_visible()
        status = page.get_by_role("status")
        expect(status).to_contain_text("3 of 5 couples below 80%")  # the third: 8 of 10 days
        rows = page.locator("table").nth(0).locator("tbody tr")
        expect(rows).to_have_count(5)
        assert heatmap.locator("rect").count() == 50
        page.screenshot(path=COMPLIANCE_SHOT, full_page=True)
    finally:
        context.close()


EXPRESSIONS = [
    ("${a} = 'yes'", {"a": "yes"}),
    ("${a} = 'yes'", {}),
    ("${n} >= 3 and ${n} < 10", {"n": "4"}),
    ("${n} > 3", {"n": ""}),
    ("${n} = 3", {"n": "3.0"}),
    ("not(${a} = 'no') or ${b} != 2", {"a": "no", "b": 2}),
    ("selected(${m}, 'b')", {"m": ["a", "b"]}),
    ("count-selected(${m}) <= 1", {"m": ["a", "b"]}),
    ("string-length(${t}) > 2", {"t": "abc"}),
    ("-${n} + 10 div 4 * 2", {"n": "1"}),
    ("7 mod 3 = 1", {}),
    ("${d} > '2026-03-01'", {"d": "2026-03-02"}),
    ("10 div 0 = 1", {}),
    ("true() and not(false())", {}),
]


def test_browser_skip_logic_matches_the_server(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live, consent=True)[0].partners[0]
    with _signed_in(browser, live, partner.url) as page:
        got = page.evaluate(
            "cases => cases.map(([e, v]) => window.dyadlabExpressions.truth("
            "window.dyadlabExpressions.evaluate(e, v)))",
            [list(case) for case in EXPRESSIONS],
        )
        want = [parse_expression(e).is_true(v) for e, v in EXPRESSIONS]
        assert got == want


def test_late_answer_is_refused_and_the_draft_kept(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live, consent=True)[0].partners[1]
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/1")
        _move_slider(page, "desire", "ArrowUp")
        _move_slider(page, "partner_desire", "ArrowDown")
        # the window closed at 23:00 UTC and the 120 minutes of grace have passed
        live.clock.now = EVENING_DAY3 + timedelta(hours=6)
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_contain_text("niet meer open")
        expect(page.locator("#questionnaire")).to_be_visible()
        assert _responses(live, partner.person_id) == []
        expect(page.locator("#v-desire")).to_have_text("Jouw antwoord: 51")  # still filled in
        stored = page.evaluate(
            "Object.keys(localStorage).map(k => [k.split(':')[1], localStorage.getItem(k)])"
        )
        assert [kind for kind, _ in stored] == ["draft"]  # kept; nothing left pending
        assert '"desire":"51"' in stored[0][1]


def test_keyboard_order_labels_and_language(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live, consent=True)[0].partners[0]
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/1")
        assert page.evaluate("document.documentElement.lang") == "nl"
        order = []
        for _ in range(4):
            page.keyboard.press("Tab")
            order.append(
                page.evaluate("document.activeElement.id || document.activeElement.className")
            )
        assert order == ["skip-link", "quick-exit", "f-desire", "f-partner_desire"]
        unlabeled = page.evaluate(
            """() => Array.from(document.querySelectorAll(
                   'input:not([type=hidden]), select, textarea'))
                 .filter(el => !(el.labels && el.labels.length))
                 .map(el => el.name)"""
        )
        assert unlabeled == []
        groups = page.evaluate(
            """() => Array.from(document.querySelectorAll('input[type=radio]'))
                 .filter(el => !el.closest('fieldset')
                               || !el.closest('fieldset').querySelector('legend'))
                 .length"""
        )
        assert groups == 0


def test_every_item_type_in_the_browser(live: LiveServer, browser: Browser) -> None:
    from tests.platform.test_pages_participant import all_types_protocol

    with live.session() as db:
        study = create_study(db, all_types_protocol())
        made = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)
        partner = made[0].partners[0]
        give_consent(db, db.get(Person, partner.person_id), version=1)
        db.commit()
    with _signed_in(browser, live, partner.url) as page:
        posted = _posted_answers(page)
        page.get_by_role("link", name="Extra").click()
        expect(page.locator("#v-energy")).to_have_text("Nog niet beantwoord — verschuif de schuif")
        main = page.locator("#item-main")
        moods = page.get_by_role("group", name="Stemmingen")
        moods.get_by_label("Gespannen").check()
        expect(main).to_be_hidden()
        moods.get_by_label("Blij").check()
        expect(main).to_be_visible()  # count-selected(${moods}) > 1
        main.get_by_label("Blij").check()
        page.get_by_label("Hoe vaak?").fill("4")
        page.get_by_label("Uren").fill("2,5")
        page.get_by_label("Hoe laat?").fill("07:45")
        page.get_by_label("Welke dag?").fill("2026-03-02")
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_contain_text("Dank je wel")
        rows = _responses(live, partner.person_id)
        assert [row.answers for row in rows] == [
            {
                "moods": ["tense", "happy"],
                "main": "happy",
                "count": 4,
                "hours": 2.5,
                "when": "07:45",
                "day": "2026-03-02",
            }
        ]
        assert "energy" not in posted[0]  # the untouched optional slider is not sent at all


def _posted_answers(page: Page) -> list[dict[str, Any]]:
    """The ``answers`` of every response the page posts (collected as they are sent)."""
    bodies: list[dict[str, Any]] = []

    def keep(request: Any) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/me/responses"):
            bodies.append(json.loads(request.post_data or "{}").get("answers", {}))

    page.on("request", keep)
    return bodies


def test_untouched_slider_is_never_an_answer(live: LiveServer, browser: Browser) -> None:
    partner = _couples(live, consent=True)[0].partners[0]
    with _signed_in(browser, live, partner.url) as page:
        posted = _posted_answers(page)
        page.goto(f"{live.url}/s/q/1")
        desire, clear = page.locator("#f-desire"), page.locator("#c-desire")
        assert desire.get_attribute("type") == "range"
        assert page.locator("input[name=desire]").get_attribute("type") == "hidden"
        untouched = "Nog niet beantwoord — verschuif de schuif"
        expect(desire).to_have_attribute("aria-valuetext", untouched)
        expect(page.get_by_role("slider", name="Hoeveel verlangde je vandaag")).to_have_id(
            "f-desire"
        )
        expect(page.locator("#r-desire")).to_have_text("Van 0 tot 100")
        expect(clear).to_be_hidden()

        _move_slider(page, "desire", "ArrowRight")
        expect(page.locator("#v-desire")).to_have_text("Jouw antwoord: 51")
        assert desire.get_attribute("aria-valuetext") is None
        expect(clear).to_be_visible()
        expect(clear).to_have_accessible_name(re.compile(r"^Antwoord wissen Hoeveel verlangde"))
        clear.click()  # back to "not answered", focus back on the scale
        expect(page.locator("#v-desire")).to_have_text(untouched)
        assert page.locator("input[name=desire]").input_value() == ""
        assert page.evaluate("document.activeElement.id") == "f-desire"
        expect(clear).to_be_hidden()
        draft = page.evaluate(
            "JSON.parse(localStorage.getItem(Object.keys(localStorage)"
            ".find(k => k.startsWith('dyadlab:draft:'))))"
        )
        assert "desire" not in draft["answers"]

        page.get_by_label("Eerder eens", exact=True).check()
        page.get_by_role("group", name="Hadden jij en je partner").get_by_label(
            "Nee", exact=True
        ).check()
        page.get_by_role("button", name="Versturen").click()  # both sliders untouched
        expect(page.get_by_role("alert")).to_contain_text("Nog niet beantwoord")
        expect(page.locator("#e-partner_desire")).to_be_visible()
        assert posted == [] and _responses(live, partner.person_id) == []
        page.screenshot(path="/tmp/dyadlab_slider_untouched.png", full_page=True)

        _move_slider(page, "desire", "End")
        page.locator("#f-partner_desire").tap()  # a tap on the scale is an answer
        expect(page.locator("#v-partner_desire")).to_have_text(re.compile(r"Jouw antwoord: \d+"))
        tapped = page.locator("input[name=partner_desire]").input_value()
        assert 45 <= int(tapped) <= 55  # where the tap was: the middle of the scale
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_contain_text("Dank je wel")
        assert posted[-1] == {
            "desire": "100",
            "partner_desire": tapped,
            "relationship_satisfaction": "5",
            "conflict": "no",
        }
        assert _responses(live, partner.person_id)[0].answers["partner_desire"] == int(tapped)


def test_slider_without_javascript_is_an_empty_number_field(
    live: LiveServer, browser: Browser
) -> None:
    partner = _couples(live, consent=True)[0].partners[1]
    context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        page.goto(partner.url)
        page.wait_for_url(f"{live.url}/s/")  # the opening page's meta refresh
        page.goto(f"{live.url}/s/q/1")
        desire = page.get_by_label("Hoeveel verlangde je vandaag", exact=False)
        assert desire.get_attribute("type") == "number"
        assert desire.input_value() == ""
        desire.fill("70")
        page.get_by_role("group", name="Hadden jij en je partner").get_by_label(
            "Nee", exact=True
        ).check()
        page.get_by_role("button", name="Versturen").click()  # partner_desire left empty
        assert page.url == f"{live.url}/s/q/1"  # the browser's own check stops it
        assert _responses(live, partner.person_id) == []
        page.locator("#f-partner_desire").fill("35")
        page.get_by_role("button", name="Versturen").click()
        page.wait_for_url(f"{live.url}/s/?sent=1")
        assert _responses(live, partner.person_id)[0].answers == {
            "desire": 70.0,
            "partner_desire": 35.0,
            "conflict": "no",
        }
    finally:
        context.close()


def test_server_problems_are_shown_in_the_persons_language(
    live: LiveServer, browser: Browser
) -> None:
    """Answers the browser cannot check (a range, a constraint) are refused by the server
    in English with codes; the page says them in Dutch, the protocol's own constraint
    message as it is, and marks nothing as English."""
    from dyadlab.platform.protocol import parse_protocol
    from tests.platform.test_pages_participant import all_types_protocol

    content = all_types_protocol().to_dict()
    extra = content["questionnaires"][-1]["items"]
    hours = next(i for i in extra if i["name"] == "hours")
    hours["constraint"] = ". <= 24 - ${count}"
    hours["constraint_message"] = {"en": "More than the day has.", "nl": "Meer dan de dag heeft."}
    next(i for i in extra if i["name"] == "count")["constraint"] = ". != 13"
    with live.session() as db:
        study = create_study(db, parse_protocol(content))
        made = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)
        partner = made[0].partners[0]
        give_consent(db, db.get(Person, partner.person_id), version=1)
        db.commit()
    with _signed_in(browser, live, partner.url) as page:
        page.goto(f"{live.url}/s/q/3")
        page.get_by_role("group", name="Stemmingen").get_by_label("Rustig").check()
        _move_slider(page, "energy", "ArrowRight")  # from the middle (5) by a step of 0.5
        expect(page.locator("#v-energy")).to_have_text("Jouw antwoord: 5,5")  # decimal comma
        page.locator("#c-energy").click()
        page.get_by_label("Hoe vaak?").fill("13")
        page.get_by_label("Uren").fill("23")
        page.get_by_role("button", name="Versturen").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_visible()
        expect(page.locator("#error-summary-text")).to_have_text(
            "Kijk de gemarkeerde antwoorden hieronder na."
        )
        expect(page.locator("#e-count")).to_have_text("Dit antwoord kan hier niet; kijk het na.")
        expect(page.locator("#e-hours")).to_have_text("Meer dan de dag heeft.")
        page.get_by_label("Hoe vaak?").fill("25")
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#e-count")).to_have_text("Vul een getal in van 0 tot en met 20.")
        expect(summary).to_contain_text("Hoe vaak?: Vul een getal in van 0 tot en met 20.")
        assert page.locator("main [lang]").count() == 0
        assert _responses(live, partner.person_id) == []
