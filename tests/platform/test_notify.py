"""Neutral notification texts and e-mail delivery against a local aiosmtpd sink."""

from __future__ import annotations

import asyncio
import base64
import email
import http.server
import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from dyadlab.platform.notify import (
    LANGUAGES,
    DeliveryError,
    SmtpConfig,
    SubscriptionGoneError,
    push_payload,
    reminder_text,
    send_email,
    send_push,
    vapid_keys,
)

aiosmtpd_controller = pytest.importorskip("aiosmtpd.controller")


@dataclass
class _Sink:
    messages: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _server(handler: _Sink, **options: Any) -> Iterator[int]:
    """Run an aiosmtpd server on 127.0.0.1 (a free port) with its own, closed, event loop."""
    port = _free_port()
    loop = asyncio.new_event_loop()
    controller = aiosmtpd_controller.Controller(
        handler, hostname="127.0.0.1", port=port, loop=loop, **options
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
        loop.close()


@pytest.fixture
def sink() -> Iterator[tuple[_Sink, int]]:
    handler = _Sink()
    with _server(handler) as port:
        yield handler, port


def test_send_email_to_sink(sink: tuple[_Sink, int]) -> None:
    handler, port = sink
    subject, body = reminder_text("nl", link="https://lab.example/p/token123")
    message_id = send_email(
        SmtpConfig(host="127.0.0.1", port=port, sender="lab@uni.example"),
        to="person@example.org",
        subject=subject,
        body=body,
    )
    (envelope,) = handler.messages
    assert envelope.mail_from == "lab@uni.example"
    assert envelope.rcpt_tos == ["person@example.org"]
    parsed = email.message_from_bytes(envelope.content)
    assert parsed["Subject"] == "Nieuwe vragenlijst"
    assert parsed["Message-ID"] == message_id and message_id.endswith("@uni.example>")
    text = parsed.get_payload(decode=True).decode("utf-8")
    assert "Er staat een nieuwe vragenlijst voor je klaar in je onderzoek." in text
    assert "https://lab.example/p/token123" in text


def test_send_email_from_settings_like_object(sink: tuple[_Sink, int]) -> None:
    handler, port = sink
    settings = SimpleNamespace(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="study@lab.example",
        smtp_user=None,
        smtp_password=None,
        smtp_starttls=False,
    )
    send_email(settings, to="p@example.org", subject="s", body="b")
    assert handler.messages[0].mail_from == "study@lab.example"


def test_starttls_against_a_server_without_it_is_a_delivery_error(
    sink: tuple[_Sink, int],
) -> None:
    handler, port = sink
    config = SmtpConfig(host="127.0.0.1", port=port, starttls=True, password="hunter2")
    with pytest.raises(DeliveryError) as info:
        send_email(config, to="p@example.org", subject="s", body="b")
    assert f"127.0.0.1:{port}" in str(info.value)
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(config)
    assert handler.messages == []


def test_login_when_a_user_is_given() -> None:
    from aiosmtpd.smtp import AuthResult

    seen: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        seen.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"secret")

    handler = _Sink()
    with _server(handler, authenticator=authenticator, auth_require_tls=False) as port:
        config = SmtpConfig(host="127.0.0.1", port=port, user="lab", password="secret")
        send_email(config, to="p@example.org", subject="s", body="b")
        assert seen == [("lab", "secret")] and len(handler.messages) == 1


def test_unreachable_server_and_bad_address() -> None:
    config = SmtpConfig(host="127.0.0.1", port=_free_port(), timeout=2)
    with pytest.raises(DeliveryError, match="could not deliver"):
        send_email(config, to="p@example.org", subject="s", body="b")
    with pytest.raises(DeliveryError, match="not one e-mail address"):
        send_email(config, to="a@b.c\r\nBcc: x@y.z", subject="s", body="b")
    with pytest.raises(DeliveryError, match="DYADLAB_SMTP_HOST"):
        send_email(SimpleNamespace(smtp_host=None), to="p@example.org", subject="s", body="b")


# Words that must never appear in a notification: the topic, the partner, answers.
_FORBIDDEN = re.compile(
    r"sex|seks|intim|partner|desire|verlang|lust|orgasm|relation|relatie|answer(ed)?\b|"
    r"antwoord(de)?\b|couple|stel\b|koppel|love|liefde",
    re.IGNORECASE,
)


@pytest.mark.parametrize("language", [*LANGUAGES, "de"])
@pytest.mark.parametrize("reminder", [False, True])
def test_texts_are_neutral(language: str, reminder: bool) -> None:
    subject, body = reminder_text(language, link="https://lab.example/p/abc", reminder=reminder)
    body_without_reply_line = "\n".join(
        line for line in body.splitlines() if not line.startswith(("Reply", "Beantwoord"))
    )
    assert not _FORBIDDEN.search(subject), subject
    assert not _FORBIDDEN.search(body_without_reply_line), body
    assert "https://lab.example/p/abc" in body


def test_texts_in_both_languages() -> None:
    assert reminder_text("en")[1].startswith("You have a new questionnaire in your study.")
    assert reminder_text("nl", reminder=True)[0] == "Herinnering: vragenlijst"
    assert reminder_text("de") == reminder_text("en")
    assert reminder_text("en")[1] != reminder_text("nl")[1]


# --------------------------------------------------------------------------- Web Push
@dataclass
class _PushService:
    """A stand-in push service on 127.0.0.1 that records requests and answers ``status``."""

    status: int = 201
    requests: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def _push_service(service: _PushService) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            service.requests.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
            )
            self.send_response(service.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _browser_subscription(endpoint: str) -> tuple[dict[str, Any], Any, bytes]:
    """A subscription as a browser makes it, with the keys to decrypt what it receives."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    keys = {"p256dh": _b64(point), "auth": _b64(auth)}
    return {"endpoint": endpoint, "keys": keys}, key, auth


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_send_push_is_encrypted_signed_and_neutral() -> None:
    pytest.importorskip("pywebpush")
    import http_ece

    private, public = vapid_keys()
    service = _PushService()
    with _push_service(service) as base:
        subscription, key, auth = _browser_subscription(f"{base}/push/abc123")
        payload = push_payload("nl", link="https://lab.example/p/tok")
        status = send_push(
            subscription,
            payload,
            vapid_private_key=private,
            vapid_subject="mailto:lab@uni.example",
            ttl=600,
        )
    assert status == 201
    (request,) = service.requests
    assert request["path"] == "/push/abc123"
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["content-encoding"] == "aes128gcm" and headers["ttl"] == "600"
    assert b"vragenlijst" not in request["body"]  # encrypted
    clear = http_ece.decrypt(request["body"], private_key=key, auth_secret=auth)
    assert json.loads(clear) == {
        "title": "Nieuwe vragenlijst",
        "body": "Er staat een nieuwe vragenlijst voor je klaar in je onderzoek.",
        "url": "https://lab.example/p/tok",
    }
    scheme, _, params = headers["authorization"].partition(" ")
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == public
    claims = json.loads(_unb64(fields["t"].split(".")[1]))
    assert claims["sub"] == "mailto:lab@uni.example" and claims["aud"] == base


@pytest.mark.parametrize(("status", "error"), [(410, "no longer knows"), (404, "no longer")])
def test_send_push_gone_subscription(status: int, error: str) -> None:
    pytest.importorskip("pywebpush")
    private, _ = vapid_keys()
    with _push_service(_PushService(status=status)) as base:
        subscription, _, _ = _browser_subscription(f"{base}/push/old")
        with pytest.raises(SubscriptionGoneError, match=error):
            send_push(
                subscription,
                push_payload("en"),
                vapid_private_key=private,
                vapid_subject="mailto:lab@uni.example",
            )


def test_send_push_other_failures() -> None:
    pytest.importorskip("pywebpush")
    private, _ = vapid_keys()
    options: dict[str, Any] = {"vapid_private_key": private, "vapid_subject": "mailto:a@b.c"}
    with _push_service(_PushService(status=500)) as base:
        subscription, _, _ = _browser_subscription(f"{base}/push/x")
        with pytest.raises(DeliveryError, match=r"refused the message \(HTTP 500\)") as info:
            send_push(subscription, push_payload("en"), **options)
        assert not isinstance(info.value, SubscriptionGoneError)
    dead, _, _ = _browser_subscription(f"http://127.0.0.1:{_free_port()}/push/x")
    with pytest.raises(DeliveryError, match="could not deliver to the push service"):
        send_push(dead, push_payload("en"), timeout=2, **options)
    with pytest.raises(DeliveryError, match="endpoint URL and keys"):
        send_push({"endpoint": "nowhere"}, push_payload("en"), **options)
    with pytest.raises(DeliveryError, match="mailto"):
        send_push(subscription, push_payload("en"), vapid_private_key=private, vapid_subject="x")


@pytest.mark.parametrize("language", ["en", "nl"])
def test_push_payload_is_neutral(language: str) -> None:
    payload = push_payload(language, reminder=True)
    assert set(payload) == {"title", "body"}
    assert not _FORBIDDEN.search(payload["title"] + " " + payload["body"])
