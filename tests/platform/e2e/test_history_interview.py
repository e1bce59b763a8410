"""Issue 17's "done when", the platform half: an interviewer runs the history interview
on a tablet in headless Chromium — landmarks, partners, episodes per partner, a
milestone, a type change — sees the consistency question and the timeline, meets a
refusal with the field focused, and the owner downloads the episodes CSV.

The tablet is an iPad-sized touch screen (820 x 1180, portrait) and then landscape; the
interview page passes axe (WCAG 2.1 AA and best practice) and needs no sideways
scrolling outside the timeline.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from dyadlab.platform.protocol import example_protocol
from dyadlab.platform.services.access import add_member
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.researchers import create_researcher
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.tables import HistoryCalendarDay, HistoryEdit, HistoryEpisode, Person
from tests.platform.conftest import START, TZ
from tests.platform.e2e.conftest import LiveServer
from tests.platform.e2e.test_accessibility import (
    assert_accessible,
    assert_focus_visible,
    assert_reflows,
)

pytestmark = pytest.mark.browser

TABLET = {"width": 820, "height": 1180}
INTERVIEWER = ("ines@lab.example", "a long interviewer passphrase")
OWNER = ("lead17@lab.example", "a long owner passphrase")


@pytest.fixture(scope="module")
def history_study(live: LiveServer) -> Iterator[tuple[int, int]]:
    """A study with one couple, an owner and an interviewer; (study id, person id)."""
    with live.session() as db:
        create_researcher(db, *OWNER, role="owner")
        create_researcher(db, *INTERVIEWER, role="analyst")
        study = create_study(db, example_protocol())
        made = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)
        add_member(db, study.id, OWNER[0], "owner")
        add_member(db, study.id, INTERVIEWER[0], "interviewer")
        person = made[0].partners[0].person_id
        db.get(Person, person).language = "en"
        db.commit()
        yield study.id, person


def _log_in(page: Page, live: LiveServer, who: tuple[str, str]) -> None:
    page.goto(f"{live.url}/r/login")
    page.locator("#email").fill(who[0])
    page.locator("#password").fill(who[1])
    page.locator("#password").press("Enter")
    page.wait_for_url(f"{live.url}/r/studies")


def _add(page: Page, form: str, **fields: str) -> None:
    """Fill the form ``#form`` by tapping and typing, and send it with Enter."""
    for name, value in fields.items():
        field = page.locator(f"#{form}-{name}")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.tap()
        else:
            field.tap()
            field.fill(value)
    with page.expect_navigation():
        page.locator(f"#{form} button[type=submit]").tap()


def test_an_interviewer_runs_the_interview_on_a_tablet(
    live: LiveServer, browser: Browser, history_study: tuple[int, int]
) -> None:
    study, person = history_study
    context = browser.new_context(
        viewport=TABLET, is_mobile=True, has_touch=True, device_scale_factor=2, locale="en-GB"
    )
    context.set_default_timeout(8000)
    page = context.new_page()
    try:
        _log_in(page, live, INTERVIEWER)
        page.locator(f'a[href="/r/studies/{study}"]').first.tap()
        page.get_by_role("link", name="History interviews").tap()
        page.wait_for_url(f"{live.url}/r/studies/{study}/history")
        page.locator(f"#birth-{person}").fill("2003-05")
        page.get_by_role("button", name=f"Start the interview Respondent {person}").tap()
        base = f"{live.url}/r/studies/{study}/history/{person}"
        page.wait_for_url(base)
        expect(page.get_by_role("heading", level=1)).to_contain_text("History interview")

        # 1. landmarks first
        _add(
            page,
            "add-landmark",
            kind="school",
            label="Secondary school",
            start="2015-09",
            end="2021-06",
        )
        expect(page.locator("#landmarks ~ ul, section .items").first).to_contain_text(
            "Secondary school"
        )
        # 2. partners (a full name is refused, the field focused)
        _add(page, "add-partner", pseudonym="Emma Jansen")
        expect(page.get_by_role("alert")).to_contain_text("looks like a full name")
        assert page.evaluate("document.activeElement.id") == "add-partner-pseudonym"
        _add(page, "add-partner", pseudonym="P1")
        _add(page, "add-partner", pseudonym="the neighbour")
        ids = page.locator("form[id^=add-episode-]").evaluate_all("fs => fs.map(f => f.id)")
        first, second = ids
        # 3. episodes per partner; an end before the start is refused
        _add(page, first, type="dating", start="2019-06", end="2019-03")
        expect(page.locator("#error-summary")).to_contain_text("is before the start")
        assert page.evaluate("document.activeElement.id") == f"{first}-end"
        _add(
            page,
            first,
            type="dating",
            start="summer 2019",
            end="",
            ongoing="on",
            certainty="4",
            notes="met at a festival",
        )
        page.locator("summary", has_text="Add an episode with the neighbour").tap()
        _add(page, second, type="casual", start="2019-10", end="2019-11")
        # the question to ask, worked out on the server
        probes = page.locator("#probes [role=status]")
        expect(probes).to_contain_text("overlap: were they at the same time?")
        # a change of type is a new spell
        spell = page.locator("form[id^=spell-episode-]").first
        spell_id = spell.get_attribute("id")
        page.locator(f"#{spell_id}").locator("xpath=ancestor::details/summary").tap()
        _add(page, spell_id, type="romantic", when="2020-01")
        # 4. a milestone
        _add(page, "add-milestone", kind="first_kiss", when="2019-07")
        timeline = page.get_by_role("img", name="Timeline of respondent")
        expect(timeline).to_be_visible()
        assert timeline.locator("g.episode").count() == 3
        assert_accessible(page, "interview page (tablet, portrait)")
        assert_reflows(page, "interview page", width=TABLET["width"])
        page.set_viewport_size({"width": 1180, "height": 820})  # landscape
        assert_accessible(page, "interview page (tablet, landscape)")
        assert assert_focus_visible(page, "interview page", limit=400) > 20
        # With a keyboard only: Tab to the partner form, type, Enter.
        page.evaluate("document.activeElement && document.activeElement.blur(); scrollTo(0, 0)")
        for _ in range(400):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "add-partner-pseudonym":
                break
        page.keyboard.type("P3")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(page.locator(".item-row .what", has_text="3. P3")).to_be_visible()
        # 5. the Timeline Followback calendar of the last 30 days
        page.get_by_role("link", name="5. Calendar of the last days").tap()
        page.wait_for_url(f"{base}/tlfb")
        cell = page.get_by_label("P1, Sun 2026-03-01")
        cell.tap()
        cell.fill("2")
        page.get_by_label("Someone else, Fri 2026-02-27").fill("1")
        with page.expect_navigation():
            page.get_by_role("button", name="Save the calendar").tap()
        expect(page.get_by_role("status")).to_have_text("Saved.")
        expect(page.get_by_label("P1, Sun 2026-03-01")).to_have_value("2")
        assert_accessible(page, "calendar page (tablet, landscape)")
        page.goto(base)
        page.get_by_role("link", name="Show the timeline alone").tap()
        page.wait_for_url(f"{base}/timeline")
        expect(page.get_by_role("img", name="Timeline of respondent")).to_be_visible()
        assert_accessible(page, "timeline alone (tablet, landscape)")
        page.goto(f"{base}/edits")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Edit log")
        assert_accessible(page, "edit log (tablet, landscape)")
    finally:
        context.close()

    with live.session() as db:
        spells = db.scalars(select(HistoryEpisode).order_by(HistoryEpisode.id)).all()
        got = [(s.type, s.start_value, s.end_value, s.ongoing) for s in spells]
        assert got == [
            ("dating", "2019-summer", "2020-01", False),
            ("casual", "2019-10", "2019-11", False),
            ("romantic", "2020-01", None, True),
        ]
        assert len(db.scalars(select(HistoryEdit)).all()) == 11
        cells = db.scalars(select(HistoryCalendarDay).order_by(HistoryCalendarDay.day)).all()
        assert [(c.day.isoformat(), c.contacts) for c in cells] == [
            ("2026-02-27", 1),
            ("2026-03-01", 2),
        ]

    # The owner downloads the episodes CSV that dyadlab.history reads.
    with httpx.Client(base_url=live.url) as http:
        page_text = http.get("/r/login").text
        csrf = page_text.split('name="csrf" value="')[1].split('"')[0]
        r = http.post("/r/login", data={"csrf": csrf, "email": OWNER[0], "password": OWNER[1]})
        assert r.status_code in (200, 303)
        export = http.get(f"/r/studies/{study}/history-export")
    assert export.status_code == 200
    rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["type"], r["start"], r["end"], r["start_precision"]) for r in rows] == [
        ("dating", "2019-07", "2020-01", "season"),
        ("romantic", "2020-01", "", "month"),
        ("casual", "2019-10", "2019-11", "month"),
    ]
