"""Accessibility: axe-core on every page, reflow, visible focus and keyboard-only use.

Every participant page is checked in English and Dutch at a small phone's viewport
(360 x 640), in each state it can be in (open prompts and none, every item type, the
error summary from the browser and from the server, notices, the push opt-in, the quick
exit, links that do not work); every researcher page at desktop size (1280 x 900). A
page passes when axe reports no violation of the rules tagged ``wcag2a``, ``wcag2aa``,
``wcag21a`` and ``wcag21aa`` (and, as well, ``wcag22aa`` and ``best-practice``); when at
320 CSS pixels, also with WCAG 1.4.12 text spacing, nothing outside a data table needs
sideways scrolling; and when every Tab stop shows a focus outline of at least 2 px with
3:1 contrast. The keyboard tests answer a questionnaire and log in with Tab, arrow keys,
Space and Enter only, and check that the error summary receives focus.

Automation cannot judge whether a screen reader's wording makes sense; see the docs'
"Running a study", section "Accessibility", for what is and is not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from dyadlab.platform.protocol import example_protocol, parse_protocol
from dyadlab.platform.services.access import add_member
from dyadlab.platform.services.consent import give_consent
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.researchers import create_researcher
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.services.withdrawal import withdraw
from dyadlab.platform.tables import Couple, Person, Response
from tests.platform.conftest import EVENING_DAY3, START, TZ
from tests.platform.e2e.conftest import LiveServer
from tests.platform.test_pages_participant import all_types_protocol

axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 640}
DESKTOP = {"width": 1280, "height": 900}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Checked as well: the WCAG 2.2 AA rules (target size) and axe's best practices
# (landmarks, heading order, one main landmark, a level-one heading, ...).
EXTRA_TAGS = ["wcag22aa", "best-practice"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_TAGS + EXTRA_TAGS},
    "resultTypes": ["violations"],
}
MIDDAY_DAY3 = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # the evening window is not open
RESEARCHER = ("a11y@lab.example", "correct horse battery")

_axe = axe_playwright.Axe()


# --------------------------------------------------------------------------- helpers
def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The violations axe finds on the page as it is now (WCAG 2.1 A/AA and extras)."""
    results = _axe.run(page, options=AXE_OPTIONS)
    violations: list[dict[str, Any]] = results.response["violations"]
    return violations


def violation_report(where: str, violations: list[dict[str, Any]]) -> str:
    """One line per violation (id, impact, help) and one per offending element."""
    lines = [f"{where}: {len(violations)} axe violation(s)"]
    for v in violations:
        tags = ", ".join(t for t in v["tags"] if t in WCAG_TAGS + EXTRA_TAGS)
        lines.append(f"- {v['id']} ({v['impact']}; {tags}): {v['help']} [{v['helpUrl']}]")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}  -- {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Page, where: str) -> None:
    """Fail with every violation's id, impact and offending selectors."""
    violations = axe_violations(page)
    assert violations == [], violation_report(where, violations)


_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = Array.from(document.querySelectorAll('body *'))
    .filter(el => el.getClientRects().length && !el.closest('.table-wrap, svg'))
    .filter(el => el.getBoundingClientRect().right > width + 1)
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + (el.className && typeof el.className === 'string' ? '.' + el.className : ''));
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 10)};
}"""

# A phone's "large text" setting: twice the browser's text size (WCAG 1.4.4).
LARGE_TEXT = "html { font-size: 200% !important; }"
# WCAG 1.4.12: line height 1.5, paragraphs 2em apart, letters 0.12em, words 0.16em.
TEXT_SPACING = (
    "* { line-height: 1.5 !important; letter-spacing: 0.12em !important;"
    " word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }"
)


def _add_css(page: Page, css: str) -> None:
    page.evaluate(  # a constructed style sheet: the pages' CSP forbids inline styles
        "css => { const s = new CSSStyleSheet(); s.replaceSync(css);"
        " document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; }",
        css,
    )


def assert_reflows(page: Page, where: str, *, width: int = 320, large_text: bool = False) -> None:
    """WCAG 1.4.10 and 1.4.12: at 320 CSS pixels, also with wider text spacing, nothing
    but data tables needs scrolling sideways; with ``large_text`` also not at 360 pixels
    with the text twice as large."""
    size = page.viewport_size
    page.set_viewport_size({"width": width, "height": 640})
    try:
        plain = page.evaluate(_OVERFLOW)
        assert plain["scroll"] <= plain["width"], f"{where}: wider than {width} px: {plain}"
        _add_css(page, TEXT_SPACING)
        spaced = page.evaluate(_OVERFLOW)
        assert spaced["scroll"] <= spaced["width"], (
            f"{where}: wider than {width} px with WCAG text spacing: {spaced}"
        )
        if large_text:
            page.set_viewport_size(PHONE)
            _add_css(page, LARGE_TEXT)
            large = page.evaluate(_OVERFLOW)
            assert large["scroll"] <= large["width"], (
                f"{where}: wider than {PHONE['width']} px with text at 200%: {large}"
            )
    finally:
        if size:
            page.set_viewport_size(size)


_FOCUS = """() => {
  const el = document.activeElement;
  const s = getComputedStyle(el);
  let back = 'rgba(0, 0, 0, 0)';
  for (let up = el.parentElement; up; up = up.parentElement) {
    const c = getComputedStyle(up).backgroundColor;
    if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { back = c; break; }
  }
  const box = el.getBoundingClientRect();
  return {id: el.id, tag: el.tagName.toLowerCase(), type: el.type || '',
          key: el.tagName + '#' + el.id + '|' + (el.name || '') + '|' + (el.value || '')
               + '|' + (el.getAttribute('href') || '') + '|' + el.textContent.trim().slice(0, 40),
          outline: s.outlineStyle === 'none' ? 0 : parseFloat(s.outlineWidth),
          colour: s.outlineColor, back: back, shadow: s.boxShadow !== 'none',
          inView: box.bottom > 0 && box.top < innerHeight
                  && box.right > 0 && box.left < innerWidth};
}"""


def _rgb(css: str) -> tuple[float, float, float]:
    parts = [float(x) for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
    return parts[0], parts[1], parts[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb()`` colours."""

    def luminance(colour: str) -> float:
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
            for c in (x / 255 for x in _rgb(colour))
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _focus(page: Page) -> dict[str, Any]:
    focus: dict[str, Any] = page.evaluate(_FOCUS)
    return focus


def focus_problem(focus: dict[str, Any]) -> str | None:
    """Why the focused element's focus is not visible enough (WCAG 2.4.7, 1.4.11)."""
    if not focus["inView"]:
        return "the focused element is outside the viewport"
    if focus["shadow"]:
        return None
    if focus["outline"] < 2:
        return f"no focus outline of at least 2 px ({focus['outline']} px)"
    back = focus["back"] if "rgba(0, 0, 0, 0)" not in focus["back"] else "rgb(255, 255, 255)"
    ratio = contrast(focus["colour"], back)
    if ratio < 3:
        return f"focus outline {focus['colour']} on {back}: contrast {ratio:.2f} < 3"
    return None


def assert_focus_visible(page: Page, where: str, *, limit: int = 200) -> int:
    """Tab through the whole page: every stop shows a focus outline with enough contrast.

    Returns the number of Tab stops.
    """
    page.evaluate("document.activeElement && document.activeElement.blur(); scrollTo(0, 0)")
    seen: list[str] = []
    problems = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = _focus(page)
        if focus["tag"] == "body":
            if "body" in seen:
                break
            seen.append("body")
            continue
        if focus["key"] in seen:
            break
        seen.append(focus["key"])
        problem = focus_problem(focus)
        if problem:
            problems.append(f"{focus['tag']}#{focus['id']} ({focus['key']}): {problem}")
    assert problems == [], f"{where}: focus not visible:\n" + "\n".join(problems)
    return len([key for key in seen if key != "body"])


def _context(browser: Browser, *, phone: bool, lang: str) -> BrowserContext:
    if phone:
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="nl-NL" if lang == "nl" else "en-GB",
        )
    else:
        context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(5000)
    return context


def _page(context: BrowserContext) -> Page:
    page = context.new_page()
    page.clock.set_fixed_time(EVENING_DAY3 + timedelta(seconds=30))
    return page


def _daily_only_protocol() -> Any:
    data = example_protocol().to_dict()
    data["schedule"] = [s for s in data["schedule"] if s["type"] == "daily"]
    return parse_protocol(data)


def _partner(live: LiveServer, lang: str, *, consent: bool = True, protocol: Any = None) -> Any:
    """A new couple's first partner, speaking ``lang`` (consent given unless told)."""
    with live.session() as db:
        study = create_study(db, protocol or all_types_protocol())
        made = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)
        partner = made[0].partners[0]
        person = db.get(Person, partner.person_id)
        person.language = lang
        if consent:
            give_consent(db, person, version=1)
        db.commit()
    return partner


def _log_in(page: Page, live: LiveServer, partner: Any) -> None:
    page.goto(partner.url)
    page.wait_for_url(f"{live.url}/s/")


# --------------------------------------------------------------------------- participant
def _opening(live: LiveServer, page: Page, lang: str) -> None:
    partner = _partner(live, lang)
    # keep the page that opens a personal link on screen: stop its move on to /s/
    page.route(f"{live.url}/s/", lambda route: route.abort("aborted"))
    # wait for the aborted move on to /s/ itself (a fixed pause was too short on a busy machine)
    with page.expect_event("requestfailed", lambda r: r.url == f"{live.url}/s/"):
        page.goto(partner.url, wait_until="commit")
    expect(page.locator("h1")).to_be_visible()
    assert page.url == partner.url
    page.unroute(f"{live.url}/s/")


def _link_invalid(live: LiveServer, page: Page, lang: str) -> None:
    page.goto(f"{live.url}/p/not-a-valid-link-{'x' * 20}")


def _no_session(live: LiveServer, page: Page, lang: str) -> None:
    page.goto(f"{live.url}/s/")


def _exit(live: LiveServer, page: Page, lang: str) -> None:
    page.goto(f"{live.url}/exit")


def _consent(live: LiveServer, page: Page, lang: str) -> None:
    partner = _partner(live, lang, consent=False)
    page.goto(partner.url)
    page.wait_for_url(f"{live.url}/s/consent")


def _consent_error(live: LiveServer, page: Page, lang: str) -> None:
    _consent(live, page, lang)
    page.eval_on_selector("form[action='/s/consent']", "f => { f.noValidate = true; }")
    page.locator("form[action='/s/consent'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _home_open(live: LiveServer, page: Page, lang: str) -> None:
    _log_in(page, live, _partner(live, lang))
    expect(page.locator(".prompts a").first).to_be_visible()


def _home_sent(live: LiveServer, page: Page, lang: str) -> None:
    _log_in(page, live, _partner(live, lang))
    page.goto(f"{live.url}/s/?sent=1")


def _home_none(live: LiveServer, page: Page, lang: str) -> None:
    live.clock.now = MIDDAY_DAY3
    _log_in(page, live, _partner(live, lang, protocol=_daily_only_protocol()))
    expect(page.locator(".prompts")).to_have_count(0)


def _questionnaire(number: int) -> Callable[[LiveServer, Page, str], None]:
    def go(live: LiveServer, page: Page, lang: str) -> None:
        _log_in(page, live, _partner(live, lang))
        page.goto(f"{live.url}/s/q/{number}")
        expect(page.locator("#questionnaire")).to_be_visible()

    return go


def _evening_branch(live: LiveServer, page: Page, lang: str) -> None:
    """The evening questions with the follow-up question shown (skip logic)."""
    _questionnaire(1)(live, page, lang)
    page.locator("#item-conflict input[value=yes]").check()
    expect(page.locator("#item-conflict_intensity")).to_be_visible()


def _errors_in_browser(live: LiveServer, page: Page, lang: str) -> None:
    _questionnaire(1)(live, page, lang)
    page.locator("#questionnaire button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()


def _errors_extra_in_browser(live: LiveServer, page: Page, lang: str) -> None:
    """Every input type with an error message (out-of-range and badly written answers)."""
    _questionnaire(3)(live, page, lang)
    page.locator("#f-count").fill("99")
    page.locator("#f-hours").fill("many")
    page.locator("#questionnaire button[type=submit]").click()
    expect(page.locator("#error-summary")).to_be_visible()


def _sent(live: LiveServer, page: Page, lang: str) -> None:
    _questionnaire(3)(live, page, lang)
    page.locator("#item-moods input[value=calm]").check()
    page.locator("#questionnaire button[type=submit]").click()
    expect(page.locator("#form-status")).to_be_visible()
    expect(page.locator("#questionnaire")).to_be_hidden()


def _settings(live: LiveServer, page: Page, lang: str) -> None:
    _log_in(page, live, _partner(live, lang))
    page.goto(f"{live.url}/s/settings")


def _settings_saved(live: LiveServer, page: Page, lang: str) -> None:
    _settings(live, page, lang)
    page.locator("form[action='/s/settings'] button[type=submit]").click()
    expect(page.locator(".notice")).to_be_visible()


def _settings_error(live: LiveServer, page: Page, lang: str) -> None:
    _settings(live, page, lang)
    page.locator("#tz").fill("Mars/Olympus_Mons")
    page.locator("form[action='/s/settings'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _withdraw(live: LiveServer, page: Page, lang: str) -> None:
    _log_in(page, live, _partner(live, lang))
    page.goto(f"{live.url}/s/withdraw")


def _withdrawn(live: LiveServer, page: Page, lang: str) -> None:
    partner = _partner(live, lang)
    with live.session() as db:
        withdraw(db, db.get(Person, partner.person_id), delete_data=False)
        db.commit()
    page.goto(partner.url)
    page.wait_for_url(f"{live.url}/s/")


PARTICIPANT_PAGES: dict[str, Callable[[LiveServer, Page, str], None]] = {
    "personal-link landing": _opening,
    "link invalid": _link_invalid,
    "no session": _no_session,
    "quick exit": _exit,
    "consent": _consent,
    "consent not ticked": _consent_error,
    "home, prompts open": _home_open,
    "home, answers sent": _home_sent,
    "home, nothing open": _home_none,
    "q1 slider, Likert, yes/no": _questionnaire(1),
    "q1 with the follow-up shown": _evening_branch,
    "q2 slider, Likert, text": _questionnaire(2),
    "q3 multiple, single, integer, decimal, time, date": _questionnaire(3),
    "q1 error summary": _errors_in_browser,
    "q3 error summary": _errors_extra_in_browser,
    "answers received": _sent,
    "settings": _settings,
    "settings saved": _settings_saved,
    "settings error": _settings_error,
    "withdraw": _withdraw,
    "withdrawn": _withdrawn,
}


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("name", list(PARTICIPANT_PAGES))
def test_participant_page_meets_wcag_21_aa(
    live: LiveServer, browser: Browser, name: str, lang: str
) -> None:
    context = _context(browser, phone=True, lang=lang)
    page = _page(context)
    try:
        PARTICIPANT_PAGES[name](live, page, lang)
        assert_accessible(page, f"participant page {name!r} ({lang}, 360x640)")
        page.set_viewport_size(DESKTOP)
        assert_accessible(page, f"participant page {name!r} ({lang}, 1280x900)")
        page.set_viewport_size(PHONE)
        assert_reflows(page, f"participant page {name!r} ({lang})", large_text=True)
        stops = assert_focus_visible(page, f"participant page {name!r} ({lang})")
        assert stops > 0 or name == "quick exit", f"{name}: Tab reached nothing"
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_server_side_error_summary_meets_wcag_21_aa(
    live: LiveServer, browser: Browser, lang: str
) -> None:
    """Without the page's script the server shows the errors (the page a POST returns)."""
    partner = _partner(live, lang)
    context = _context(browser, phone=True, lang=lang)
    # as without JavaScript: the form posts to the server (axe itself needs JavaScript)
    context.route("**/participant.js", lambda route: route.abort())
    page = _page(context)
    try:
        _log_in(page, live, partner)
        page.goto(f"{live.url}/s/q/3")
        page.locator("#f-count").fill("99")
        page.locator("#f-hours").fill("many")
        # the browser's own checks would stop the post: let the server judge the answers
        page.eval_on_selector("#questionnaire", "f => { f.noValidate = true; }")
        page.locator("#questionnaire button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("#error-summary")).to_be_visible()
        assert_accessible(page, f"server-rendered error summary ({lang}, no page script)")
    finally:
        context.close()


@pytest.fixture
def push_on(live: LiveServer) -> Iterator[None]:
    """The server with VAPID keys, as when Web Push reminders are configured."""
    from dyadlab.platform.notify import vapid_env_keys

    private, public = vapid_env_keys()
    before = live.app.state.settings
    live.app.state.settings = before.model_copy(
        update={
            "vapid_private_key": private,
            "vapid_public_key": public,
            "vapid_subject": "mailto:lab@uni.example",
        }
    )
    yield
    live.app.state.settings = before


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_push_opt_in_meets_wcag_21_aa(
    live: LiveServer, browser: Browser, push_on: None, lang: str
) -> None:
    """The overview with the "reminders on this device" opt-in shown."""
    context = _context(browser, phone=True, lang=lang)
    page = _page(context)
    try:
        _log_in(page, live, _partner(live, lang))
        expect(page.locator("#push-optin")).to_be_visible()
        assert_accessible(page, f"home with the push opt-in ({lang}, 360x640)")
        assert_reflows(page, f"home with the push opt-in ({lang})", large_text=True)
        assert_focus_visible(page, f"home with the push opt-in ({lang})")
        stops = _tab_to(page, "push-toggle")
        assert stops[-1]["tag"] == "button"
    finally:
        context.close()


# --------------------------------------------------------------------------- researcher
@pytest.fixture(scope="module")
def researcher_study(live: LiveServer) -> Iterator[int]:
    """A study with answers over several days, and an owner account."""
    from tests.platform.e2e.test_browser import _fill_compliance

    made = _fill_compliance(live)  # also creates lead@lab.example
    with live.session() as db:
        create_researcher(db, *RESEARCHER, role="owner")
        couple = db.get(Couple, db.get(Person, made[0].partners[0].person_id).couple_id)
        study_id = int(couple.study_id)
        add_member(db, study_id, RESEARCHER[0], "owner")
        db.commit()
    yield study_id


def _logged_in(live: LiveServer, page: Page) -> None:
    page.goto(f"{live.url}/r/login")
    page.locator("#email").fill(RESEARCHER[0])
    page.locator("#password").fill(RESEARCHER[1])
    page.locator("form[action='/r/login'] button[type=submit]").click()
    page.wait_for_url(f"{live.url}/r/studies")


def _r_login(live: LiveServer, page: Page, study: int) -> None:
    page.goto(f"{live.url}/r/login")


def _r_login_error(live: LiveServer, page: Page, study: int) -> None:
    page.goto(f"{live.url}/r/login")
    page.locator("#email").fill(RESEARCHER[0])
    page.locator("#password").fill("not the password")
    page.locator("form[action='/r/login'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _r_studies(live: LiveServer, page: Page, study: int) -> None:
    _logged_in(live, page)


def _r_studies_error(live: LiveServer, page: Page, study: int) -> None:
    _logged_in(live, page)
    page.locator("#protocol").set_input_files(
        files=[{"name": "broken.yaml", "mimeType": "text/yaml", "buffer": b"study: [\n"}]
    )
    page.locator("form[action='/r/studies'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _r_study(live: LiveServer, page: Page, study: int) -> None:
    _logged_in(live, page)
    page.goto(f"{live.url}/r/studies/{study}")


def _r_invited(live: LiveServer, page: Page, study: int) -> None:
    _r_study(live, page, study)
    page.locator("#couples").fill("2")
    page.locator("form[action$='/invite'] button[type=submit]").click()
    expect(page.locator("#links-title")).to_be_visible()


def _r_invite_error(live: LiveServer, page: Page, study: int) -> None:
    _r_study(live, page, study)
    page.locator("#tz").fill("Nowhere/Atlantis")
    page.locator("form[action$='/invite'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _r_missing(live: LiveServer, page: Page, study: int) -> None:
    _logged_in(live, page)
    page.goto(f"{live.url}/r/studies/999999")


def _r_compliance(live: LiveServer, page: Page, study: int) -> None:
    live.clock.now = datetime(2026, 3, 11, 12, 0, tzinfo=UTC)
    _logged_in(live, page)
    page.goto(f"{live.url}/r/studies/{study}/compliance")
    expect(page.locator("svg.heatmap")).to_be_visible()
    page.locator("details.heatmap-table summary").click()  # the heat map as a table
    expect(page.locator("details.heatmap-table table")).to_be_visible()


def _r_analyses(live: LiveServer, page: Page, study: int) -> None:
    _logged_in(live, page)
    page.goto(f"{live.url}/r/studies/{study}/analyses")
    expect(page.locator("#plan-title")).to_be_visible()


def _index(live: LiveServer, page: Page, study: int) -> None:
    page.goto(f"{live.url}/")


RESEARCHER_PAGES: dict[str, Callable[[LiveServer, Page, int], None]] = {
    "server start page": _index,
    "login": _r_login,
    "login error": _r_login_error,
    "studies": _r_studies,
    "studies, upload error": _r_studies_error,
    "study": _r_study,
    "study, links of invited couples": _r_invited,
    "study, invitation error": _r_invite_error,
    "study not found": _r_missing,
    "compliance heat map": _r_compliance,
    "analyses": _r_analyses,
}


@pytest.mark.parametrize("name", list(RESEARCHER_PAGES))
def test_researcher_page_meets_wcag_21_aa(
    live: LiveServer, browser: Browser, researcher_study: int, name: str
) -> None:
    context = _context(browser, phone=False, lang="en")
    page = _page(context)
    try:
        RESEARCHER_PAGES[name](live, page, researcher_study)
        assert_accessible(page, f"researcher page {name!r} (1280x900)")
        page.set_viewport_size(PHONE)  # a researcher may look at compliance on a phone
        assert_accessible(page, f"researcher page {name!r} (360x640)")
        page.set_viewport_size(DESKTOP)
        assert_reflows(page, f"researcher page {name!r}")
        assert assert_focus_visible(page, f"researcher page {name!r}") > 0
    finally:
        context.close()


def test_researcher_pages_have_titles_naming_their_purpose(
    live: LiveServer, browser: Browser, researcher_study: int
) -> None:
    """WCAG 2.4.2: each page's title differs and comes first (no study topic in it)."""
    context = _context(browser, phone=False, lang="en")
    page = _page(context)
    try:
        titles = {}
        for name in ("login", "studies", "study", "study not found", "compliance heat map"):
            RESEARCHER_PAGES[name](live, page, researcher_study)
            titles[name] = page.title()
        assert len(set(titles.values())) == len(titles), titles
        assert titles["login"] == "Log in – Study – research team"
        assert titles["compliance heat map"] == (
            f"Compliance of study {researcher_study} – Study – research team"
        )
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_language_names_are_marked_with_their_language(
    live: LiveServer, browser: Browser, lang: str
) -> None:
    """WCAG 3.1.2: "English" on a Dutch page (and "Nederlands" on an English one) is
    marked, so that a screen reader pronounces it in its own language."""
    context = _context(browser, phone=True, lang=lang)
    page = _page(context)
    try:
        _settings(live, page, lang)
        marks = page.eval_on_selector_all(
            "#language option", "options => options.map(o => [o.value, o.lang])"
        )
        assert sorted(marks) == [["en", "en"], ["nl", "nl"]]
        assert page.evaluate("document.documentElement.lang") == lang
    finally:
        context.close()


# --------------------------------------------------------------------------- keyboard
def _tab_to(page: Page, element_id: str, *, limit: int = 40) -> list[dict[str, Any]]:
    """Press Tab until ``element_id`` has focus; every stop must show its focus."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focus = _focus(page)
        stops.append(focus)
        problem = focus_problem(focus)
        assert problem is None, f"focus not visible on {focus}: {problem}"
        if focus["id"] == element_id:
            return stops
    raise AssertionError(f"Tab never reached #{element_id}; stops: {stops}")


def test_questionnaire_by_keyboard_only(live: LiveServer, browser: Browser) -> None:
    partner = _partner(live, "en")
    context = _context(browser, phone=True, lang="en")
    page = _page(context)
    try:
        _log_in(page, live, partner)
        page.goto(f"{live.url}/s/q/1")
        # the skip link is the first stop and moves focus to the content
        page.keyboard.press("Tab")
        assert _focus(page)["id"] == "skip-link" or page.evaluate(
            "document.activeElement.classList.contains('skip-link')"
        )
        page.keyboard.press("Enter")
        assert _focus(page)["id"] == "main"
        # sending with nothing answered: focus moves to the error summary
        submit = page.locator("#questionnaire button[type=submit]")
        submit.evaluate("b => b.id = b.id || 'send'")
        _tab_to(page, "send")
        page.keyboard.press("Enter")
        expect(page.locator("#error-summary")).to_be_visible()
        focus = _focus(page)
        assert focus["id"] == "error-summary"
        assert focus_problem(focus) is None, f"the error summary's focus is not shown: {focus}"
        # the summary's first link leads to the first question in error
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.getAttribute('href')") == "#item-desire"
        page.keyboard.press("Enter")
        focus = _focus(page)  # the link put focus in the question's field
        assert focus["id"] == "f-desire", focus
        assert focus_problem(focus) is None, focus
        # answer everything with Tab, arrow keys and Space
        page.keyboard.press("ArrowRight")
        _tab_to(page, "f-partner_desire")
        page.keyboard.press("ArrowLeft")
        _tab_to(page, "f-relationship_satisfaction-1")  # into the Likert group
        page.keyboard.press("ArrowRight")  # moves to and selects the second option
        _tab_to(page, "f-conflict-1")  # yes / no: "yes" shows the follow-up question
        page.keyboard.press("Space")
        expect(page.locator("#item-conflict_intensity")).to_be_visible()
        _tab_to(page, "f-conflict_intensity-1")
        page.keyboard.press("Space")
        _tab_to(page, "f-had_sex-1")
        page.keyboard.press("ArrowRight")
        _tab_to(page, "send")
        page.keyboard.press("Enter")
        expect(page.locator("#form-status")).to_contain_text("received")
        with live.session() as db:
            rows = db.scalars(select(Response).where(Response.person_id == partner.person_id))
            answers = [row.answers for row in rows]
        assert answers == [
            {
                "desire": 51.0,
                "partner_desire": 49.0,
                "relationship_satisfaction": 2,
                "conflict": "yes",
                "conflict_intensity": 1,
                "had_sex": "no",
            }
        ]
    finally:
        context.close()


def test_researcher_login_by_keyboard_only(
    live: LiveServer, browser: Browser, researcher_study: int
) -> None:
    context = _context(browser, phone=False, lang="en")
    page = _page(context)
    try:
        page.goto(f"{live.url}/r/login")
        _tab_to(page, "email")
        page.keyboard.type(RESEARCHER[0])
        _tab_to(page, "password")
        page.keyboard.type(RESEARCHER[1])
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live.url}/r/studies")
        stops = _tab_to(page, "protocol", limit=300)  # past every study made in this module
        assert any(stop["tag"] == "a" for stop in stops)  # the studies' links on the way
    finally:
        context.close()
