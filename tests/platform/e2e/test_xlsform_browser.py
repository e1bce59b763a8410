"""End-to-end: a partner answers an XLSForm with a repeat, hints, a calculation, a
location (read on a button press), a rank and a dateTime in headless Chromium; and the
page script's expression functions give what the server's give."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from dyadlab.exceptions import DyadlabWarning
from dyadlab.platform._expressions import parse_expression
from dyadlab.platform.protocol import load_protocol
from dyadlab.platform.services.consent import give_consent
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.tables import Person, Response
from tests.platform.conftest import EVENING_DAY3, START, TZ
from tests.platform.e2e.conftest import LiveServer
from tests.platform.e2e.test_browser import PHONE
from tests.platform.test_xlsform_pages import _form

pytestmark = pytest.mark.browser
SHOT = "/tmp/dyadlab_xlsform_form.png"
TODAY = EVENING_DAY3.astimezone(ZoneInfo(TZ)).date().isoformat()
SENT = "Thank you, your answers have been received."


def _partner(live: LiveServer, tmp_path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        protocol = load_protocol(_form(tmp_path / "kids.xlsx", uploads=False))
    with live.session() as db:
        study = create_study(db, protocol)
        made = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)
        for partner in made[0].partners:
            give_consent(db, db.get(Person, partner.person_id), version=1)
        db.commit()
    return made[0].partners[0]


def test_an_xlsform_answered_on_a_phone(live: LiveServer, browser: Browser, tmp_path: Path):
    partner = _partner(live, tmp_path)
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 52.37, "longitude": 4.89, "accuracy": 12},
        permissions=["geolocation"],
        timezone_id=TZ,
    )
    page = context.new_page()
    page.clock.set_fixed_time(EVENING_DAY3)
    page.set_default_timeout(5000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(partner.url)
        page.wait_for_url(f"{live.url}/s/")
        page.goto(f"{live.url}/s/q/1")
        expect(page.get_by_text("Count every child")).to_be_visible()  # a hint
        expect(page.get_by_text("Welcome")).to_be_visible()  # a note
        kids = [page.locator(f"#item-kid_name_{k}") for k in (1, 2, 3)]
        for kid in kids:
            expect(kid).to_be_hidden()
        page.get_by_label("How many children?").fill("1")
        expect(page.get_by_label("Small", exact=True)).to_be_visible()
        expect(page.get_by_label("Big", exact=True)).to_be_hidden()  # choice_filter
        page.get_by_label("How many children?").fill("2")
        expect(page.get_by_label("Big", exact=True)).to_be_visible()
        expect(kids[0]).to_be_visible()
        expect(kids[1]).to_be_visible()
        expect(kids[2]).to_be_hidden()  # the repeat asks as many copies as the count
        expect(page.get_by_role("heading", name="Child (2)")).to_be_visible()
        expect(page.locator('input[name="double"]')).to_have_value("4")  # calculated
        expect(page.locator("#h-when")).to_have_text("For all 2 children & <you>")  # ${n_kids}
        kids[0].get_by_role("textbox").fill("Ann")
        kids[1].get_by_role("textbox").fill("Bo")
        expect(page.get_by_label("Blue (2)", exact=True)).to_be_visible()  # ${n_kids}
        page.get_by_label("Red", exact=True).check()
        page.locator("#f-when").fill("2026-03-03T20:15")
        order = page.locator("#item-order select")
        for position, select_ in zip(("2", "3", "1"), order.all(), strict=True):
            select_.select_option(position)
        page.get_by_role("button", name="Use my location").click()
        expect(page.locator("#f-where")).to_have_value("52.37 4.89 0 12")
        page.get_by_label("OK", exact=True).check()
        expect(page.locator("#f-score")).to_have_value("1.5")  # the default
        expect(page.locator("#f-day")).to_have_value(TODAY)  # today(), on the phone's clock
        page.screenshot(path=SHOT, full_page=True)
        page.get_by_role("button", name="Send").click()
        expect(page.locator("#form-status")).to_have_text(SENT)
        with live.session() as db:
            row = db.scalars(select(Response).where(Response.person_id == partner.person_id)).one()
        assert row.answers == {
            "n_kids": 2,
            "double": 4,
            "kid_name_1": "Ann",
            "kid_name_2": "Bo",
            "colour": "red",
            "when": "2026-03-03T20:15",
            "order": ["c", "a", "b"],
            "where": "52.37 4.89 0 12",
            "ok": "OK",
            "score": 1.5,
            "day": TODAY,
        }
        assert problems == []
    finally:
        context.close()


EXPRESSIONS = [
    ("if(${a} = 1, 'x', 'y')", {"a": "1"}),
    ("concat(${a}, '-', 3) = '2-3'", {"a": 2}),
    ("round(2.5) = 3 and round(-2.5) = -2 and round(1.25, 1) = 1.3", {}),
    ("int(-2.7) = -2 and floor(-2.5) = -3 and ceiling(2.1) = 3", {}),
    ("pow(2, 10) = 1024 and abs(-3) = 3", {}),
    ("max(1, ${a}) = 4 and min(1, 2, 3) = 1", {"a": "4"}),
    ("max(1, ${a})", {}),
    ("coalesce(${a}, 'none') = 'none'", {}),
    ("contains(${t}, 'ell') and starts-with(${t}, 'he') and ends-with(${t}, 'lo')", {"t": "hello"}),
    ("substr(${t}, 1, 3) = 'el' and substr(${t}, 3) = 'lo'", {"t": "hello"}),
    ("regex(${t}, '^[0-9]+$')", {"t": "123"}),
    ("regex(${t}, '(a+)+$')", {"t": "aaaa"}),
    ("selected-at(${m}, 1) = 'b'", {"m": ["a", "b"]}),
    ("number('3.5') + 1 = 4.5 and string(2) = '2' and boolean('x')", {}),
    ("string-length(today()) = 10 and string-length(now()) = 16", {}),
]


def test_the_script_computes_the_new_functions_as_the_server(
    live: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    partner = _partner(live, tmp_path)
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        page.goto(partner.url)
        page.wait_for_url(f"{live.url}/s/")
        got = page.evaluate(
            "cases => cases.map(([e, v]) => window.dyadlabExpressions.truth("
            "window.dyadlabExpressions.evaluate(e, v)))",
            [list(case) for case in EXPRESSIONS],
        )
        want = [parse_expression(e).is_true(v) for e, v in EXPRESSIONS]
        assert got == want
        assert want[0] and not want[6] and not want[11]
    finally:
        context.close()
