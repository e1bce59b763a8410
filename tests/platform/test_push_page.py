"""The Web Push opt-in on the participant overview and the service worker route."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from dyadlab.platform.app import CSP
from dyadlab.platform.i18n import translate
from dyadlab.platform.notify import vapid_env_keys
from dyadlab.platform.routes._pages import CSRF_COOKIE
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Person, PushSubscription
from tests.platform.conftest import make_study
from tests.platform.test_notify import _browser_subscription
from tests.platform.test_pages_participant import _consented

VAPID = vapid_env_keys()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-" + "x" * 32,
        vapid_private_key=VAPID[0],
        vapid_public_key=VAPID[1],
    )


@pytest.fixture
def pair(db, protocol_path):
    return make_study(db, protocol_path)[0]


def _home(client, pair, language: str = "en") -> str:
    _consented(client, pair.tokens[0])
    r = client.patch(
        "/api/v1/me",
        json={"language": language},
        headers={"X-CSRF-Token": client.cookies.get(CSRF_COOKIE)},
    )
    assert r.status_code == 200, r.text
    r = client.get("/s/")
    assert r.status_code == 200
    return r.text


@pytest.mark.parametrize("language", ["en", "nl"])
def test_the_opt_in_is_on_the_overview_hidden_until_the_script_checks(client, pair, language):
    html = _home(client, pair, language)
    section = re.search(r'<section id="push-optin"[^>]*>', html)
    assert section, "no opt-in on the overview"
    tag = section.group(0)
    assert " hidden" in tag  # shown by push.js only where push works
    assert f'data-key="{VAPID[1]}"' in tag
    assert 'data-worker="/s/push-sw.js"' in tag and 'data-scope="/s/"' in tag
    assert f'<html lang="{language}">' in html
    assert translate(language, "push_turn_on") in html
    assert 'id="push-toggle"' in html and 'type="button"' in html
    assert 'role="status"' in html
    assert "/static/push.js" in html
    assert VAPID[0] not in html


def test_no_opt_in_without_server_keys(app, client, pair):
    app.state.settings = app.state.settings.model_copy(
        update={"vapid_private_key": None, "vapid_public_key": None}
    )
    html = _home(client, pair)
    assert "push-optin" not in html and "push.js" not in html


def test_the_page_stores_a_subscription_through_the_cookie_bridge(client, pair, db):
    _home(client, pair)
    sub, _, _ = _browser_subscription("https://fcm.googleapis.com/fcm/send/from-page")
    r = client.put("/api/v1/me/push", json=sub)  # what push.js sends, without the header
    assert r.status_code == 403  # CSRF header needed with the session cookie
    csrf = client.cookies.get(CSRF_COOKIE)
    r = client.put("/api/v1/me/push", json=sub, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    rows = db.scalars(select(PushSubscription.person_id)).all()
    assert rows == [pair.person_ids[0]]
    person = db.get(Person, pair.person_ids[0])
    assert person is not None and person.status == "active"


def test_service_worker_is_served_with_its_scope(client):
    r = client.get("/s/push-sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["service-worker-allowed"] == "/s/"
    assert r.headers["cache-control"] == "no-cache"
    assert "showNotification" in r.text and "notificationclick" in r.text
    assert "worker-src 'self'" in r.headers["content-security-policy"]
    assert "worker-src 'self'" in CSP


def test_scripts_are_served(client):
    r = client.get("/static/push.js")
    assert r.status_code == 200 and "pushManager" in r.text
