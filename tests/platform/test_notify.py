"""Neutral notification texts and e-mail delivery against a local aiosmtpd sink."""

from __future__ import annotations

import asyncio
import email
import re
import socket
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
    reminder_text,
    send_email,
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
