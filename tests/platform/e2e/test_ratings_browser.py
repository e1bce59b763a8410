"""End-to-end continuous ratings: two partners' phones (headless Chromium) rate at once.

- scripted slider moves on both phones: the stored traces equal the scripted ones, except
  for samples within one sample period of a move;
- one phone's connection drops for 10 s: no sample is lost (no gap, none twice);
- the other phone's clock is 90 s wrong: its estimated offset is within 50 ms of the
  truth, and its trace lands on the server's time line;
- either partner starts, the other joins the same session; Stop ends it on both phones;
- the slider works by keyboard, the page is in Dutch and in English;
- a reload while the session runs goes on rating in the same session, from the value
  the slider held.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from dyadlab.platform.protocol import load_protocol
from dyadlab.platform.services.consent import give_consent
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.ratings import ratings_frame
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.tables import CoupleRatingSession, Person
from tests.platform.conftest import START, TZ
from tests.platform.e2e.conftest import LiveServer
from tests.platform.test_ratings import RATINGS_PROTOCOL

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PERIOD_MS = 100.0  # the example protocol rates at 10 Hz
#: Makes the page's clock run ``shift`` ms off (Date.now and performance.timeOrigin).
SKEW = """(() => {
  const shift = %d;
  const origin = performance.timeOrigin;
  Object.defineProperty(performance, "timeOrigin", { get: () => origin + shift });
  const now = Date.now;
  Date.now = () => now() + shift;
})();"""
SET_VALUE = """v => {
  const s = document.getElementById("rating-slider");
  s.value = v;
  s.dispatchEvent(new Event("input", { bubbles: true }));
}"""


@pytest.fixture
def real_clock(live: LiveServer) -> Iterator[None]:
    """The server on the real clock (the module's other tests use a fixed one)."""
    saved = live.app.state.clock
    live.app.state.clock = lambda: datetime.now(UTC)
    yield
    live.app.state.clock = saved


def _couple(live: LiveServer, languages: tuple[str, str] = ("nl", "nl")) -> tuple[int, Any]:
    with live.session() as db:
        study = create_study(db, load_protocol(RATINGS_PROTOCOL))
        made = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)[0]
        for partner, language in zip(made.partners, languages, strict=True):
            person = db.get(Person, partner.person_id)
            person.language = language
            give_consent(db, person, version=1)
        db.commit()
        return study.id, made


def _phone(
    browser: Browser, live: LiveServer, url: str, skew_ms: int = 0
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    if skew_ms:
        context.add_init_script(SKEW % skew_ms)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url)
    page.wait_for_url(f"{live.url}/s/")
    page.goto(f"{live.url}/s/rate/1")
    page.problems = problems  # type: ignore[attr-defined]
    return context, page


def _set(page: Page, value: float) -> tuple[float, float]:
    """Move the slider; the server-clock window (ms) in which the move happened."""
    before = time.time() * 1000
    page.evaluate(SET_VALUE, value)
    return before, time.time() * 1000


def _wait_sent(page: Page) -> None:
    expect(page.locator("#rating")).to_have_attribute("data-state", "ended", timeout=30_000)
    expect(page.locator("#rating")).to_have_attribute("data-waiting", "0", timeout=30_000)


def _check_trace(
    own: Any, started_ms: float, moves: list[tuple[float, float, float]], first: float
) -> int:
    """Compare a stored trace with the scripted moves (before_ms, after_ms, value).

    Returns the number of samples within one sample period of a move (not compared);
    every other sample must carry the value scripted for its server time."""
    skipped = 0
    for t_ms, value in zip(own["t_ms"], own["value"], strict=True):
        at = started_ms + t_ms
        if any(b - PERIOD_MS - 50 <= at <= a + PERIOD_MS + 50 for b, a, _ in moves):
            skipped += 1
            continue
        expected = first
        for _b, a, v in moves:
            if a <= at:
                expected = v
        assert value == expected, (at, value, expected)
    return skipped


def test_two_phones_rate_together(live: LiveServer, browser: Browser, real_clock: None) -> None:
    study_id, couple = _couple(live)
    a_url, b_url = couple.partners[0].url, couple.partners[1].url
    ctx_a, page_a = _phone(browser, live, a_url, skew_ms=-90_000)  # 90 s behind
    ctx_b, page_b = _phone(browser, live, b_url)
    try:
        expect(page_a.locator("h1")).to_have_text("Hoe seksueel opgewonden voel je je nu?")
        page_a.get_by_role("button", name="Starten").click()
        expect(page_a.locator("#rating")).to_have_attribute("data-state", "running")
        page_b.get_by_role("button", name="Starten").click()
        expect(page_b.locator("#rating")).to_have_attribute("data-state", "running")
        session = page_a.locator("#rating").get_attribute("data-session")
        assert page_b.locator("#rating").get_attribute("data-session") == session

        moves: dict[str, list[tuple[float, float, float]]] = {"a": [], "b": []}
        script = [(20, 90), (45, 70), (60, 55), (80, 30), (35, 10), (50, 65), (5, 95), (70, 40)]
        offline_window = (0.0, 0.0)
        for step, (va, vb) in enumerate(script):
            if step == 2:
                ctx_b.set_offline(True)
                offline_window = (time.time() * 1000, 0.0)
            b, a = _set(page_a, va)
            moves["a"].append((b, a, va))
            b, a = _set(page_b, vb)
            moves["b"].append((b, a, vb))
            time.sleep(1.5)
            if step == 4:  # 3 steps of 1.5 s + the moves: about 10 s offline
                time.sleep(max(0.0, 10.0 - (time.time() * 1000 - offline_window[0]) / 1000))
                waiting = int(page_b.locator("#rating").get_attribute("data-waiting") or 0)
                assert waiting >= 3  # kept on the device meanwhile
                ctx_b.set_offline(False)
                offline_window = (offline_window[0], time.time() * 1000)
        page_a.get_by_role("button", name="Stoppen").click()
        _wait_sent(page_a)
        _wait_sent(page_b)  # ended by the partner's stop, on its own
        expect(page_b.locator("#rating-status")).to_have_text(
            "De sessie is afgelopen. Dank je wel!"
        )
        assert page_a.problems == [] and page_b.problems == []  # type: ignore[attr-defined]
    finally:
        ctx_a.close()
        ctx_b.close()

    with live.session() as db:
        row = db.get(CoupleRatingSession, int(session or 0))
        started_ms = row.started_utc.timestamp() * 1000
        frame = ratings_frame(db, study_id)
    persons = couple.partners[0].person_id, couple.partners[1].person_id
    for key, person, skew in (("a", persons[0], -90_000), ("b", persons[1], 0)):
        own = frame[frame["person"] == person].reset_index(drop=True)
        # the clock: server minus device, estimated within 50 ms of the truth
        assert abs(own["clock_offset_ms"].iloc[0] - (-skew)) < 50, own["clock_offset_ms"].iloc[0]
        # no sample lost or stored twice: one every 100 ms from start to stop
        steps = own["device_ms"].diff().dropna()
        assert steps.between(PERIOD_MS - 0.01, PERIOD_MS + 0.01).all(), steps.describe()
        assert own["device_ms"].is_unique
        assert own["t_ms"].iloc[0] < 2_000  # rating began within 2 s of the session's start
        skipped = _check_trace(own, started_ms, moves[key], first=0.0)
        assert skipped <= len(moves[key]) * 6, skipped  # only around the moves
    b_times = started_ms + frame[frame["person"] == persons[1]]["t_ms"]
    covered = b_times[(b_times > offline_window[0]) & (b_times < offline_window[1])]
    assert len(covered) >= (offline_window[1] - offline_window[0]) / PERIOD_MS - 2


def test_keyboard_and_english(live: LiveServer, browser: Browser, real_clock: None) -> None:
    study_id, couple = _couple(live, languages=("en", "en"))
    ctx, page = _phone(browser, live, couple.partners[1].url)
    try:
        expect(page.locator("h1")).to_have_text("How sexually aroused do you feel right now?")
        page.get_by_role("button", name="Start").click()
        expect(page.locator("#rating")).to_have_attribute("data-state", "running")
        slider = page.get_by_role("slider", name="How sexually aroused do you feel right now?")
        expect(slider).to_be_focused()
        for _ in range(3):
            page.keyboard.press("ArrowUp")
        expect(page.locator("#rating-value")).to_have_text("Value: 3")
        time.sleep(0.5)
        page.keyboard.press("End")
        time.sleep(0.5)
        session = page.locator("#rating").get_attribute("data-session")
        page.reload()  # mid-session: the page goes on in the same session
        expect(page.locator("#rating")).to_have_attribute("data-state", "running")
        assert page.locator("#rating").get_attribute("data-session") == session
        expect(page.locator("#rating-value")).to_have_text("Value: 100")
        expect(page.get_by_role("button", name="Start")).to_be_hidden()
        expect(slider).to_be_focused()
        page.keyboard.press("ArrowDown")
        time.sleep(2.5)  # at least one batch after the reload
        page.get_by_role("button", name="Stop").click()
        _wait_sent(page)
        expect(page.locator("#rating-status")).to_have_text("The session has ended. Thank you!")
        page.get_by_role("link", name="Back to the overview").click()
        page.wait_for_url(f"{live.url}/s/")
        expect(page.get_by_role("link", name="How sexually aroused")).to_be_visible()
    finally:
        ctx.close()
    with live.session() as db:
        frame = ratings_frame(db, study_id)
        sessions = db.scalars(
            select(CoupleRatingSession.id).where(CoupleRatingSession.couple_id == couple.couple_id)
        ).all()
    assert {0.0, 3.0, 100.0, 99.0} <= set(frame["value"])
    assert sessions == [int(session or 0)] and set(frame["session"]) == set(sessions)
    # one trace across the reload: the times go on from before it, none twice
    assert frame["device_ms"].is_monotonic_increasing and frame["device_ms"].is_unique
    assert frame["value"].iloc[-1] == 99.0


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_rating_pages_meet_wcag_21_aa(
    live: LiveServer, browser: Browser, real_clock: None, lang: str
) -> None:
    """axe (WCAG 2.1 A/AA, 2.2 AA, best practice), reflow at 320 px and visible focus on
    the rating page before and while rating, and on the researcher's two pages."""
    a11y = pytest.importorskip("tests.platform.e2e.test_accessibility")
    from dyadlab.platform.services.access import add_member
    from dyadlab.platform.services.researchers import create_researcher

    study_id, couple = _couple(live, languages=(lang, lang))
    context = a11y._context(browser, phone=True, lang=lang)
    page = a11y._page(context)
    try:
        page.goto(couple.partners[0].url)
        page.wait_for_url(f"{live.url}/s/")
        page.goto(f"{live.url}/s/rate/1")
        for state in ("idle", "running"):
            where = f"rating page, {state} ({lang})"
            a11y.assert_accessible(page, where)
            a11y.assert_reflows(page, where, large_text=True)
            assert a11y.assert_focus_visible(page, where) > 0
            if state == "idle":
                page.locator("#rating-start").click()
                expect(page.locator("#rating")).to_have_attribute("data-state", "running")
                page.evaluate(SET_VALUE, 70)
        page.locator("#rating-stop").click()
        _wait_sent(page)
        a11y.assert_accessible(page, f"rating page, ended ({lang})")
    finally:
        context.close()

    email = f"ratings-{lang}@lab.example"
    with live.session() as db:
        create_researcher(db, email, "correct horse battery", role="owner")
        add_member(db, study_id, email, "owner")
        db.commit()
    context = a11y._context(browser, phone=False, lang="en")
    page = a11y._page(context)
    try:
        page.goto(f"{live.url}/r/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill("correct horse battery")
        page.locator("form[action='/r/login'] button[type=submit]").click()
        page.wait_for_url(f"{live.url}/r/studies")
        page.goto(f"{live.url}/r/studies/{study_id}/ratings")
        page.get_by_role("link", name=re.compile(r"^\d+$")).first.click()
        expect(page.locator("svg[role=img]")).to_be_visible()
        for where in ("traces", "list"):
            a11y.assert_accessible(page, f"researcher ratings {where}")
            page.set_viewport_size(a11y.PHONE)
            a11y.assert_accessible(page, f"researcher ratings {where} (phone)")
            page.set_viewport_size(a11y.DESKTOP)
            a11y.assert_reflows(page, f"researcher ratings {where}")
            assert a11y.assert_focus_visible(page, f"researcher ratings {where}") > 0
            page.goto(f"{live.url}/r/studies/{study_id}/ratings")
    finally:
        context.close()


def test_quick_exit_deletes_unsent_ratings(
    live: LiveServer, browser: Browser, real_clock: None
) -> None:
    """While uploads fail, batches wait on the device; the quick exit deletes them (the
    partner who picks up the phone finds nothing) and lands on the neutral exit page."""
    _study_id, couple = _couple(live, languages=("en", "en"))
    context, page = _phone(browser, live, couple.partners[0].url)
    try:
        page.get_by_role("button", name="Start").click()
        expect(page.locator("#rating")).to_have_attribute("data-state", "running")
        page.route("**/samples", lambda route: route.abort("internetdisconnected"))
        page.evaluate(SET_VALUE, 42)
        expect(page.locator("#rating")).not_to_have_attribute("data-waiting", "0", timeout=10_000)
        keys = page.evaluate("Object.keys(localStorage)")
        assert any(k.startswith("dyadlab:rating:") for k in keys), keys
        page.get_by_role("link", name="Quick exit").click()
        page.wait_for_url(f"{live.url}/exit")
        keys = page.evaluate("Object.keys(localStorage)")
        assert not any(k.startswith("dyadlab:rating:") for k in keys), keys
    finally:
        context.close()
