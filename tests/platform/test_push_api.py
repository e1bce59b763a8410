"""The participant's Web Push subscription routes, the VAPID settings and `push-keys`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from dyadlab.exceptions import OptionError
from dyadlab.platform.notify import vapid_env_keys
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import PushSubscription
from tests.platform.test_notify import _b64, _browser_subscription

pytest.importorskip("pywebpush")

VAPID = vapid_env_keys()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Test settings with Web Push on; the stub push service runs on 127.0.0.1."""
    return Settings(
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-" + "x" * 32,
        vapid_private_key=VAPID[0],
        vapid_public_key=VAPID[1],
        vapid_subject="mailto:lab@uni.example",
        push_hosts="127.0.0.1,fcm.googleapis.com",
    )


def _subscription(endpoint: str = "https://fcm.googleapis.com/fcm/send/abc") -> dict:
    sub, _key, _auth = _browser_subscription(endpoint)
    return {**sub, "expirationTime": None}


def test_status_save_replace_delete(client, couple, db):
    me = couple.headers(0)
    status = client.get("/api/v1/me/push", headers=me).json()
    assert status == {"available": True, "public_key": VAPID[1], "subscriptions": 0}
    sub = _subscription()
    r = client.put("/api/v1/me/push", json=sub, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["endpoint"] == sub["endpoint"] and "keys" not in r.json()
    newer = {**_subscription(), "endpoint": sub["endpoint"]}  # the browser renewed its keys
    assert client.put("/api/v1/me/push", json=newer, headers=me).status_code == 200
    rows = db.scalars(select(PushSubscription)).all()
    assert [(r.person_id, r.p256dh, r.auth) for r in rows] == [
        (couple.person_ids[0], newer["keys"]["p256dh"], newer["keys"]["auth"])
    ]
    second = _subscription("https://fcm.googleapis.com/fcm/send/laptop")
    assert client.put("/api/v1/me/push", json=second, headers=me).status_code == 200
    assert client.get("/api/v1/me/push", headers=me).json()["subscriptions"] == 2
    r = client.delete("/api/v1/me/push", params={"endpoint": sub["endpoint"]}, headers=me)
    assert r.status_code == 204 and r.content == b""
    r = client.delete("/api/v1/me/push", params={"endpoint": sub["endpoint"]}, headers=me)
    assert r.status_code == 404
    assert client.get("/api/v1/me/push", headers=me).json()["subscriptions"] == 1


def test_push_off_without_keys(app, client, couple):
    app.state.settings = app.state.settings.model_copy(
        update={"vapid_private_key": None, "vapid_public_key": None}
    )
    me = couple.headers(0)
    assert client.get("/api/v1/me/push", headers=me).json() == {
        "available": False,
        "public_key": None,
        "subscriptions": 0,
    }
    r = client.put("/api/v1/me/push", json=_subscription(), headers=me)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "push_off"
    assert "DYADLAB_VAPID_PUBLIC_KEY" in r.json()["error"]["message"]


def test_token_needed(client, couple):
    assert client.get("/api/v1/me/push").status_code == 401
    assert client.put("/api/v1/me/push", json=_subscription()).status_code == 401
    r = client.delete("/api/v1/me/push", params={"endpoint": "https://fcm.googleapis.com/x"})
    assert r.status_code == 401


def _bad(sub: dict, **change: object) -> dict:
    out = json.loads(json.dumps(sub))
    for path, value in change.items():
        target, *rest = path.split("__")
        if rest:
            out[target][rest[0]] = value
        elif value is None:
            out.pop(target)
        else:
            out[target] = value
    return out


@pytest.mark.parametrize(
    ("change", "item", "words"),
    [
        ({"keys": None}, "keys", "Field required"),
        ({"endpoint": "ftp://push.example/x"}, "endpoint", "https:// address"),
        ({"endpoint": "https://intranet.example/fcm"}, "endpoint", "DYADLAB_PUSH_HOSTS"),
        ({"endpoint": "http://fcm.googleapis.com/x"}, "endpoint", "push service"),
        ({"endpoint": "https://fcm.googleapis.com:8443/x"}, "endpoint", "push service"),
        ({"keys__p256dh": _b64(b"\x04" + b"\x01" * 10)}, "keys.p256dh", "65 bytes in base64url"),
        ({"keys__p256dh": _b64(b"\x04" + b"\x01" * 64)}, "keys.p256dh", "not a point"),
        ({"keys__p256dh": "not base64!"}, "keys.p256dh", "base64url"),
        ({"keys__auth": _b64(b"x" * 8)}, "keys.auth", "16 bytes"),
        ({"keys__extra": "x"}, "keys.extra", "Extra inputs"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
    ],
)
def test_bad_subscriptions_are_422_naming_the_field(client, couple, db, change, item, words):
    body = _bad(_subscription(), **change)
    r = client.put("/api/v1/me/push", json=body, headers=couple.headers(0))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["message"].startswith(f"{item}: ")
    assert words in error["message"]
    assert db.scalars(select(PushSubscription)).all() == []


def test_a_partner_cannot_touch_the_others_subscription(client, couple, db):
    a, b = couple.headers(0), couple.headers(1)
    sub = _subscription()
    assert client.put("/api/v1/me/push", json=sub, headers=a).status_code == 200
    assert client.get("/api/v1/me/push", headers=b).json()["subscriptions"] == 0
    partner = client.delete("/api/v1/me/push", params={"endpoint": sub["endpoint"]}, headers=b)
    missing = client.delete(
        "/api/v1/me/push", params={"endpoint": sub["endpoint"] + "-none"}, headers=b
    )
    assert partner.status_code == missing.status_code == 404
    assert partner.content == missing.content
    assert db.scalars(select(PushSubscription.person_id)).all() == [couple.person_ids[0]]


def test_a_shared_browser_moves_to_whoever_subscribes_last(client, couple, db):
    a, b = couple.headers(0), couple.headers(1)
    sub = _subscription()
    first = client.put("/api/v1/me/push", json=sub, headers=a)
    again = client.put("/api/v1/me/push", json=sub, headers=b)
    assert first.status_code == again.status_code == 200
    assert first.json().keys() == again.json().keys()
    assert db.scalars(select(PushSubscription.person_id)).all() == [couple.person_ids[1]]
    assert client.get("/api/v1/me/push", headers=a).json()["subscriptions"] == 0


@pytest.mark.parametrize("delete_data", [False, True])
def test_withdrawal_deletes_the_subscriptions(client, couple, db, delete_data):
    a, b = couple.headers(0), couple.headers(1)
    client.put("/api/v1/me/push", json=_subscription(), headers=a)
    client.put("/api/v1/me/push", json=_subscription("https://fcm.googleapis.com/x/2"), headers=a)
    client.put("/api/v1/me/push", json=_subscription("https://fcm.googleapis.com/x/3"), headers=b)
    r = client.post("/api/v1/me/withdraw", json={"delete_data": delete_data}, headers=a)
    assert r.status_code == 200
    db.expire_all()
    assert db.scalars(select(PushSubscription.person_id)).all() == [couple.person_ids[1]]
    r = client.put("/api/v1/me/push", json=_subscription(), headers=a)
    assert r.status_code == 409 and r.json()["error"]["code"] == "withdrawn"


def test_the_private_key_is_never_in_an_answer(app, client, couple):
    me = couple.headers(0)
    texts = [
        client.get("/api/v1/me/push", headers=me).text,
        client.put("/api/v1/me/push", json=_subscription(), headers=me).text,
        client.put("/api/v1/me/push", json={"endpoint": "x"}, headers=me).text,
        client.get("/api/v1/openapi.json").text,
        client.get("/s/", headers=me).text,
    ]
    assert all(VAPID[0] not in text for text in texts)
    assert VAPID[0] not in repr(app.state.settings)


# ----------------------------------------------------------------- settings and CLI
def test_settings_need_both_matching_keys():
    private, public = vapid_env_keys()
    assert Settings.from_env({}).push_enabled is False
    on = Settings.from_env(
        {"DYADLAB_VAPID_PRIVATE_KEY": private, "DYADLAB_VAPID_PUBLIC_KEY": public}
    )
    assert on.push_enabled and private not in repr(on)
    with pytest.raises(OptionError, match="both DYADLAB_VAPID_PRIVATE_KEY") as info:
        Settings.from_env({"DYADLAB_VAPID_PRIVATE_KEY": private})
    assert private not in str(info.value)
    with pytest.raises(OptionError, match="does not belong") as info:
        Settings.from_env(
            {"DYADLAB_VAPID_PRIVATE_KEY": private, "DYADLAB_VAPID_PUBLIC_KEY": VAPID[1]}
        )
    assert private not in str(info.value)
    broken = private[:-4] + "zzzz!"
    with pytest.raises(OptionError, match="VAPID private key is not valid") as info:
        Settings.from_env({"DYADLAB_VAPID_PRIVATE_KEY": broken, "DYADLAB_VAPID_PUBLIC_KEY": public})
    assert private[:20] not in str(info.value)
    with pytest.raises(OptionError, match="DYADLAB_VAPID_SUBJECT"):
        Settings.from_env({"DYADLAB_VAPID_SUBJECT": "lab@uni.example"})


def test_a_pem_key_works_too():
    from dyadlab.platform.notify import vapid_keys

    pem, public = vapid_keys()
    one_line = pem.replace("\n", "\\n")  # how it fits on one environment line
    settings = Settings.from_env(
        {"DYADLAB_VAPID_PRIVATE_KEY": one_line, "DYADLAB_VAPID_PUBLIC_KEY": public}
    )
    assert settings.push_enabled


def test_a_secret_setting_is_not_echoed_in_errors():
    with pytest.raises(OptionError, match=r"DYADLAB_SMTP_PASSWORD=\(hidden\) is not") as info:
        Settings.from_env({}, smtp_password=31337)
    assert "31337" not in str(info.value)
    with pytest.raises(OptionError, match="DYADLAB_SMTP_PORT='abc'"):  # others are shown
        Settings.from_env({"DYADLAB_SMTP_PORT": "abc"})


def test_push_hosts():
    s = Settings(push_hosts="fcm.googleapis.com, 127.0.0.1")
    assert s.push_host_allowed("https://fcm.googleapis.com/fcm/send/x")
    assert s.push_host_allowed("https://a.fcm.googleapis.com/x")
    assert s.push_host_allowed("http://127.0.0.1:8123/push/x")
    assert not s.push_host_allowed("https://evilfcm.googleapis.com.example/x")
    assert not s.push_host_allowed("https://updates.push.services.mozilla.com/x")
    assert not s.push_host_allowed("http://fcm.googleapis.com/x")
    assert not s.push_host_allowed("https://[::1")
    default = Settings()
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/x",
        "https://updates.push.services.mozilla.com/wpush/v2/x",
        "https://web.push.apple.com/x",
        "https://wns2-par02p.notify.windows.com/w/?token=x",
    ):
        assert default.push_host_allowed(endpoint), endpoint
    assert not default.push_host_allowed("http://127.0.0.1:9/x")


@pytest.mark.parametrize("as_json", [False, True])
def test_cli_push_keys_prints_a_working_pair(capsys, as_json):
    from dyadlab.cli import main

    args = ["reminders", "push-keys", "--subject", "mailto:lab@uni.example"]
    assert main([*args, "--json"] if as_json else args) == 0
    out = capsys.readouterr().out
    if as_json:
        env = json.loads(out)["env"]
    else:
        lines = [line for line in out.splitlines() if line and not line.startswith("#")]
        env = dict(line.split("=", 1) for line in lines)
    assert set(env) == {
        "DYADLAB_VAPID_PRIVATE_KEY",
        "DYADLAB_VAPID_PUBLIC_KEY",
        "DYADLAB_VAPID_SUBJECT",
    }
    settings = Settings.from_env(env)
    assert settings.push_enabled and settings.push_subject == "mailto:lab@uni.example"
    assert main(["reminders", "push-keys", "--subject", "lab"]) == 1
    assert "mailto:" in capsys.readouterr().err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_push_operations_conform_to_the_openapi_document_with_push_on(app, client, db, couple):
    """Schemathesis over the push routes with Web Push on (the general run has it off)."""
    schemathesis = pytest.importorskip("schemathesis")
    from tests.platform.test_openapi_fuzz import _check

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    seen = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == "/api/v1/me/push":
            seen.append(operation.method.upper())
            _check(operation, couple.headers(1))
    assert sorted(seen) == ["DELETE", "GET", "PUT"]


def test_a_vapid_private_key_is_redacted_from_logs():
    from dyadlab.platform.notify import vapid_keys
    from dyadlab.platform.security import redact

    pem, _ = vapid_keys()
    assert redact(f"DYADLAB_VAPID_PRIVATE_KEY={VAPID[0]} set") == (
        "DYADLAB_VAPID_PRIVATE_KEY=[redacted] set"
    )
    assert VAPID[0] not in redact(f"settings: {{'vapid_private_key': '{VAPID[0]}'}}")
    cleaned = redact(f"loaded {pem} and {pem.replace(chr(10), chr(92) + 'n')}")
    assert "PRIVATE KEY-----" not in cleaned and pem.splitlines()[1] not in cleaned
