"""End-to-end: a busy server (503 with ``Retry-After``) in headless Chromium.

The participant page keeps the answer queued, waits ``Retry-After`` seconds plus up to
half again (jitter), not the 15 s of its ordinary retry round, sends it again with the
same ``submission_id`` and it is stored once (issue 10, item 3).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from dyadlab.platform.admission import overloaded_body
from tests.platform.e2e.conftest import LiveServer
from tests.platform.e2e.test_browser import _couples, _move_slider, _responses, _signed_in

pytestmark = pytest.mark.browser

RETRY_AFTER_S = 1


def test_busy_server_is_retried_after_retry_after_and_stored_once(
    live: LiveServer, browser: Any
) -> None:
    partner = _couples(live, consent=True)[0].partners[0]
    calls: list[tuple[float, str]] = []

    def busy_once(route: Route) -> None:
        sent = json.loads(route.request.post_data or "{}")
        calls.append((time.monotonic(), sent.get("submission_id", "")))
        if len(calls) == 1:  # the server's own 503 (dyadlab.platform.admission)
            route.fulfill(
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"},
                content_type="application/json",
                body=overloaded_body(RETRY_AFTER_S),
            )
        else:
            route.continue_()

    with _signed_in(browser, live, partner.url) as page:
        page.route("**/api/v1/me/responses", busy_once)
        page.goto(f"{live.url}/s/q/1")
        _move_slider(page, "desire", "End")
        _move_slider(page, "partner_desire", "ArrowLeft")
        page.get_by_role("button", name="Versturen").click()
        expect(page.locator("#form-status")).to_contain_text("Opgeslagen op dit apparaat")
        pending = page.evaluate(
            "Object.keys(localStorage).filter(k => k.startsWith('dyadlab:pending:'))"
            ".map(k => JSON.parse(localStorage.getItem(k)).length)"
        )
        assert pending == [1]  # kept in the queue after the 503
        assert _responses(live, partner.person_id) == []
        expect(page.locator("#form-status")).to_have_text(
            "Dank je wel, je antwoorden zijn ontvangen.", timeout=8000
        )
        assert page.evaluate("localStorage.length") == 0
    assert len(calls) == 2
    waited = calls[1][0] - calls[0][0]
    # Retry-After honoured (never sooner), with jitter of at most half again; well before
    # the page's ordinary 15 s retry round.
    assert RETRY_AFTER_S * 0.95 <= waited <= RETRY_AFTER_S * 1.5 + 1.0
    assert calls[0][1] == calls[1][1]  # the same submission_id
    rows = _responses(live, partner.person_id)
    assert len(rows) == 1
    assert rows[0].answers == {"desire": 100.0, "partner_desire": 49.0}
