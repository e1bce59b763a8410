"""Notifications to participants: neutral texts and e-mail over SMTP.

Texts say that a questionnaire is waiting -- nothing about the study's topic, sex, the
partner, or whether the partner has answered -- because a message on a shared phone or
in a shared inbox can be read by someone else, the partner included. The study's title
is left out for the same reason. Texts exist in Dutch (``nl``) and English (``en``);
other languages fall back to English.

E-mail goes through :func:`send_email` with plain :mod:`smtplib` (optional STARTTLS and
login). Web Push is not implemented: it needs pywebpush, VAPID keys and a stored push
subscription per device, which the platform does not have yet.

Examples
--------
>>> subject, body = reminder_text("nl", link="https://lab.example/p/abc")
>>> subject
'Nieuwe vragenlijst'
>>> body.splitlines()[0]
'Er staat een nieuwe vragenlijst voor je klaar in je onderzoek.'
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from dyadlab.exceptions import DyadlabError

__all__ = [
    "LANGUAGES",
    "DeliveryError",
    "SmtpConfig",
    "reminder_text",
    "send_email",
]

#: Languages with their own notification texts.
LANGUAGES: tuple[str, ...] = ("en", "nl")

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "new_subject": "New questionnaire",
        "new": "You have a new questionnaire in your study.",
        "reminder_subject": "Reminder: questionnaire",
        "reminder": "A questionnaire in your study is still open.",
        "open": "Open it here:",
        "footer": (
            "You receive this message because you take part in a research study.\n"
            "Reply to this e-mail if you no longer want to receive these messages."
        ),
    },
    "nl": {
        "new_subject": "Nieuwe vragenlijst",
        "new": "Er staat een nieuwe vragenlijst voor je klaar in je onderzoek.",
        "reminder_subject": "Herinnering: vragenlijst",
        "reminder": "Er staat nog een vragenlijst voor je open in je onderzoek.",
        "open": "Open de vragenlijst hier:",
        "footer": (
            "Je krijgt dit bericht omdat je meedoet aan een wetenschappelijk onderzoek.\n"
            "Beantwoord deze e-mail als je deze berichten niet meer wilt ontvangen."
        ),
    },
}


class DeliveryError(DyadlabError):
    """A message could not be handed to the mail server (the caller may retry later).

    Examples
    --------
    >>> issubclass(DeliveryError, DyadlabError)
    True
    """


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send e-mail.

    Attributes
    ----------
    host : str
    port : int
    sender : str
        The ``From`` address.
    user, password : str or None
        Log in when ``user`` is given (the password is never shown in ``repr``).
    starttls : bool
        Upgrade the connection with STARTTLS (certificate checked) before logging in.
    timeout : float
        Seconds to wait for the server.
    """

    host: str
    port: int = 25
    sender: str = "dyadlab@localhost"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> SmtpConfig:
        """Build from an object with ``smtp_host``, ``smtp_port``, ``smtp_from``, …

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> SmtpConfig.from_settings(SimpleNamespace(smtp_host="mail", smtp_port=587,
        ...     smtp_from="lab@x", smtp_user=None, smtp_password=None, smtp_starttls=True))
        SmtpConfig(host='mail', port=587, sender='lab@x', user=None, starttls=True, timeout=10.0)
        """
        host = getattr(settings, "smtp_host", None)
        if not host:
            raise DeliveryError(
                "send_email(): no SMTP server is configured; set DYADLAB_SMTP_HOST "
                "(and DYADLAB_SMTP_PORT, DYADLAB_SMTP_FROM) to send e-mail."
            )
        return cls(
            host=str(host),
            port=int(getattr(settings, "smtp_port", 25)),
            sender=str(getattr(settings, "smtp_from", "dyadlab@localhost")),
            user=getattr(settings, "smtp_user", None),
            password=getattr(settings, "smtp_password", None),
            starttls=bool(getattr(settings, "smtp_starttls", False)),
        )


def reminder_text(
    language: str, *, link: str | None = None, reminder: bool = False
) -> tuple[str, str]:
    """Return a neutral ``(subject, body)`` telling that a questionnaire is waiting.

    Parameters
    ----------
    language : str
        ``"en"`` or ``"nl"`` (others fall back to English).
    link : str, optional
        The person's own link to the questionnaire.
    reminder : bool
        False for the notice when the questionnaire opens, True for a later reminder.

    Examples
    --------
    >>> print(reminder_text("en", reminder=True, link="https://lab.example/p/x")[1])
    A questionnaire in your study is still open.
    <BLANKLINE>
    Open it here:
    https://lab.example/p/x
    <BLANKLINE>
    You receive this message because you take part in a research study.
    Reply to this e-mail if you no longer want to receive these messages.
    <BLANKLINE>
    """
    texts = _TEXTS.get(language, _TEXTS["en"])
    kind = "reminder" if reminder else "new"
    lines = [texts[kind], ""]
    if link:
        lines += [texts["open"], link, ""]
    lines.append(texts["footer"])
    return texts[f"{kind}_subject"], "\n".join(lines) + "\n"


def send_email(smtp: SmtpConfig | Any, *, to: str, subject: str, body: str) -> str:
    """Send a plain-text e-mail; return its ``Message-ID``.

    Parameters
    ----------
    smtp : SmtpConfig or settings-like
        An :class:`SmtpConfig`, or an object with ``smtp_host``, ``smtp_port``,
        ``smtp_from``, ``smtp_user``, ``smtp_password``, ``smtp_starttls`` (the
        platform's ``Settings``).
    to : str
        The recipient's address.
    subject, body : str
        Use :func:`reminder_text` for participants.

    Returns
    -------
    str
        The message's ``Message-ID`` (store it with the delivery).

    Raises
    ------
    DeliveryError
        If the server cannot be reached or refuses the message; the message names the
        server and the reason, never the password or the text.

    Examples
    --------
    >>> try:
    ...     send_email(SmtpConfig(host="127.0.0.1", port=1), to="a@b.c", subject="s", body="b")
    ... except DeliveryError as exc:
    ...     print(str(exc)[:62])
    send_email(): could not deliver to the SMTP server 127.0.0.1:1
    """
    config = smtp if isinstance(smtp, SmtpConfig) else SmtpConfig.from_settings(smtp)
    if "@" not in to or any(c in to for c in "\r\n,;"):
        raise DeliveryError(f"send_email(): {to!r} is not one e-mail address.")
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = config.sender.rsplit("@", 1)[-1] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(body)
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as server:
            if config.starttls:
                server.starttls(context=ssl.create_default_context())
            if config.user:
                server.login(config.user, config.password or "")
            refused = server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"send_email(): could not deliver to the SMTP server {config.host}:{config.port} "
            f"({type(exc).__name__}: {exc})."
        ) from None
    if refused:
        raise DeliveryError(f"send_email(): the SMTP server refused the recipient {to!r}.")
    return str(message["Message-ID"])
