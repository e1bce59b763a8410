"""End-to-end: turning on Web Push reminders in headless Chromium, with the keyboard.

Headless Chromium has no push service, so ``PushManager.prototype.subscribe`` and
``getSubscription`` are replaced (before the page's scripts run) by a stand-in that
returns a fake subscription with real keys; everything else is real: the service worker
registers at ``/s/push-sw.js`` with scope ``/s/``, the browser's notification
permission is granted to the site, and the page stores the subscription through the
participant API with the session cookie and the CSRF header.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from dyadlab.platform.i18n import translate
from dyadlab.platform.notify import vapid_env_keys
from dyadlab.platform.protocol import example_protocol
from dyadlab.platform.services.consent import give_consent
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.tables import Person, PushSubscription
from tests.platform.conftest import START, TZ
from tests.platform.e2e.conftest import LiveServer, _require_chromium
from tests.platform.test_notify import _browser_subscription

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
VAPID = vapid_env_keys()
ENDPOINT = "https://fcm.googleapis.com/fcm/send/e2e-fake-device"

_FAKE_PUSH = """
(() => {
  const fake = %s;
  let current = null;
  const make = () => ({
    endpoint: fake.endpoint,
    expirationTime: null,
    options: {},
    toJSON() { return JSON.parse(JSON.stringify(fake)); },
    getKey() { return null; },
    unsubscribe() { current = null; return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function (options) {
    window.__pushOptions = {
      userVisibleOnly: options.userVisibleOnly,
      keyLength: new Uint8Array(options.applicationServerKey).length,
    };
    current = make();
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The platform with Web Push on (VAPID keys), one server for this module."""
    _require_chromium()
    server = LiveServer(tmp_path_factory.mktemp("e2e-push"))
    server.app.state.settings = server.app.state.settings.model_copy(
        update={"vapid_private_key": VAPID[0], "vapid_public_key": VAPID[1]}
    )
    server.start()
    yield server
    server.stop()


def _person(live: LiveServer, language: str) -> tuple[int, str]:
    with live.session() as db:
        study = create_study(db, example_protocol())
        (couple,) = invite_couples(db, study.id, 1, base_url=live.url, start_date=START, tz=TZ)
        partner = couple.partners[0]
        person = db.get(Person, partner.person_id)
        assert person is not None
        give_consent(db, person, version=1)
        person.language = language
        db.commit()
    return partner.person_id, partner.token


def _phone(browser: Browser, live: LiveServer, fake: dict[str, Any]) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    context.grant_permissions(["notifications"], origin=live.url)
    context.add_init_script(_FAKE_PUSH % json.dumps(fake))
    page = context.new_page()
    page.set_default_timeout(5000)
    return context, page


def _subscriptions(live: LiveServer) -> list[tuple[int, str, str, str]]:
    with live.session() as db:
        rows = db.scalars(select(PushSubscription).order_by(PushSubscription.id))
        return [(r.person_id, r.endpoint, r.p256dh, r.auth) for r in rows]


def _tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element has the keyboard focus (as a keyboard user would)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"#{element_id} is not reachable with the Tab key")


@pytest.mark.parametrize("language", ["en", "nl"])
def test_turn_reminders_on_and_off_with_the_keyboard(browser, live, language):
    person_id, token = _person(live, language)
    sub, _, _ = _browser_subscription(ENDPOINT + "-" + language)
    context, page = _phone(browser, live, sub)
    try:
        page.goto(f"{live.url}/p/{token}")
        page.wait_for_url(f"{live.url}/s/")
        optin = page.locator("#push-optin")
        expect(optin).to_be_visible()
        button = page.locator("#push-toggle")
        expect(button).to_have_text(translate(language, "push_turn_on"))
        expect(page.get_by_role("heading", name=translate(language, "push_title"))).to_be_visible()

        # the service worker is registered for the participant pages
        scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        assert scope == f"{live.url}/s/"
        assert any(w.url == f"{live.url}/s/push-sw.js" for w in context.service_workers)

        _tab_to(page, "push-toggle")
        page.keyboard.press("Enter")
        status = page.locator("#push-status")
        expect(status).to_have_text(translate(language, "push_on"))
        expect(button).to_have_text(translate(language, "push_turn_off"))
        assert page.evaluate("document.activeElement.id") == "push-toggle"  # focus kept
        assert page.evaluate("window.__pushOptions") == {"userVisibleOnly": True, "keyLength": 65}
        assert _subscriptions(live)[-1] == (
            person_id,
            sub["endpoint"],
            sub["keys"]["p256dh"],
            sub["keys"]["auth"],
        )

        page.keyboard.press("Space")  # a button works with Space too: turn it off again
        expect(status).to_have_text(translate(language, "push_off"))
        expect(button).to_have_text(translate(language, "push_turn_on"))
        assert all(row[1] != sub["endpoint"] for row in _subscriptions(live))
    finally:
        context.close()


def test_a_failed_turn_off_says_off_failed(browser, live):
    _person_id, token = _person(live, "nl")
    sub, _, _ = _browser_subscription(ENDPOINT + "-off-fails")
    context, page = _phone(browser, live, sub)
    try:
        page.goto(f"{live.url}/p/{token}")
        page.wait_for_url(f"{live.url}/s/")
        _tab_to(page, "push-toggle")
        page.keyboard.press("Enter")
        status = page.locator("#push-status")
        expect(status).to_have_text(translate("nl", "push_on"))

        def refuse_delete(route: Any) -> None:
            if route.request.method == "DELETE":
                route.fulfill(status=503, body="")
            else:
                route.continue_()

        page.route("**/api/v1/me/push*", refuse_delete)
        page.keyboard.press("Enter")
        expect(status).to_have_text(translate("nl", "push_failed_off"))
    finally:
        context.close()


def test_denied_permission_says_so_and_stores_nothing(browser, live):
    _person_id, token = _person(live, "en")
    sub, _, _ = _browser_subscription(ENDPOINT + "-denied")
    context = browser.new_context(viewport=PHONE)  # no notification permission granted
    context.add_init_script(_FAKE_PUSH % json.dumps(sub))
    page = context.new_page()
    page.set_default_timeout(5000)
    # headless Chromium answers the permission prompt itself; make it a refusal
    page.add_init_script(
        "Notification.requestPermission = () => Promise.resolve('denied');"
        "Object.defineProperty(Notification, 'permission', {get: () => 'denied'});"
    )
    try:
        page.goto(f"{live.url}/p/{token}")
        page.wait_for_url(f"{live.url}/s/")
        page.locator("#push-toggle").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#push-status")).to_have_text(translate("en", "push_denied"))
        assert all(row[1] != sub["endpoint"] for row in _subscriptions(live))
    finally:
        context.close()


# The worker's own push handler, fed a synthetic push event. What it would show is
# recorded by stubbing showNotification: whether headless Chromium then draws a notice
# is the browser's business (and was flaky to observe), what the notice says is ours.
_SHOW_PUSH = """
async (payload) => {
  const shown = [];
  self.registration.showNotification = (title, options) => {
    shown.push({title: title, body: options.body, url: options.data && options.data.url,
                icon: options.icon || '', image: options.image || ''});
    return Promise.resolve();
  };
  try {
    self.dispatchEvent(new PushEvent('push', {data: JSON.stringify(payload)}));
  } catch (e) {
    /* waitUntil refuses a synthetic event; the handler has run by then */
  } finally {
    delete self.registration.showNotification;  // the prototype's method again
  }
  return shown;
}
"""


def test_the_service_worker_shows_the_neutral_notice(browser, live):
    from dyadlab.platform.notify import push_payload

    _person_id, token = _person(live, "nl")
    sub, _, _ = _browser_subscription(ENDPOINT + "-show")
    context, page = _phone(browser, live, sub)
    try:
        page.goto(f"{live.url}/p/{token}")
        page.wait_for_url(f"{live.url}/s/")
        page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
        workers = [w for w in context.service_workers if w.url.endswith("/s/push-sw.js")]
        worker = workers[0] if workers else context.wait_for_event("serviceworker")
        assert worker.url.endswith("/s/push-sw.js")
        payload = push_payload("nl", link=f"{live.url}/s/", reminder=True)
        shown = worker.evaluate(_SHOW_PUSH, payload)
        assert shown == [
            {
                "title": "Herinnering: vragenlijst",
                "body": "Er staat nog een vragenlijst voor je open in je onderzoek.",
                "url": f"{live.url}/s/",
                "icon": "",
                "image": "",
            }
        ]
        # a link to another site is never opened: the notice falls back to the scope
        shown = worker.evaluate(_SHOW_PUSH, {**payload, "url": "https://elsewhere.example/x"})
        assert [n["url"] for n in shown] == [f"{live.url}/s/"]
    finally:
        context.close()


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_opt_in_passes_axe_wcag21_aa(browser, live, language):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    options = {
        "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"],
    }
    _person_id, token = _person(live, language)
    sub, _, _ = _browser_subscription(ENDPOINT + "-axe-" + language)
    context, page = _phone(browser, live, sub)
    page.set_viewport_size({"width": 360, "height": 640})
    try:
        page.goto(f"{live.url}/p/{token}")
        page.wait_for_url(f"{live.url}/s/")
        expect(page.locator("#push-optin")).to_be_visible()
        for state in ("off", "on"):
            violations = axe_module.Axe().run(page, options=options).response["violations"]
            assert violations == [], [
                (v["id"], [n["target"] for n in v["nodes"]]) for v in violations
            ]
            if state == "off":
                page.locator("#push-toggle").focus()
                page.keyboard.press("Enter")
                expect(page.locator("#push-status")).to_have_text(translate(language, "push_on"))
    finally:
        context.close()
