"""Notifications to participants: neutral texts and e-mail over SMTP.

Texts say that a questionnaire is waiting -- nothing about the study's topic, sex, the
partner, or whether the partner has answered -- because a message on a shared phone or
in a shared inbox can be read by someone else, the partner included. The study's title
is left out for the same reason. Texts exist in Dutch (``nl``) and English (``en``);
other languages fall back to English.

E-mail goes through :func:`send_email` with plain :mod:`smtplib` (optional STARTTLS and
login). Web Push goes through :func:`send_push` (pywebpush: the payload is encrypted for
the browser, RFC 8291, and signed with the study's VAPID key, RFC 8292); make a key pair
with :func:`vapid_keys` and give the public key to the browser's
``pushManager.subscribe``. A push service that answers 404 or 410 raises
:class:`SubscriptionGoneError`: delete that subscription.

Examples
--------
>>> subject, body = reminder_text("nl", link="https://lab.example/p/abc")
>>> subject
'Nieuwe vragenlijst'
>>> body.splitlines()[0]
'Er staat een nieuwe vragenlijst voor je klaar in je onderzoek.'
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from dyadlab.exceptions import DyadlabError

__all__ = [
    "LANGUAGES",
    "DeliveryError",
    "SmtpConfig",
    "SubscriptionGoneError",
    "push_payload",
    "reminder_text",
    "send_email",
    "send_push",
    "vapid_env_keys",
    "vapid_keys",
    "vapid_private_pem",
    "vapid_public_key",
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


# --------------------------------------------------------------------------- Web Push
class SubscriptionGoneError(DeliveryError):
    """The push service no longer knows the subscription (HTTP 404 or 410): delete it.

    Examples
    --------
    >>> issubclass(SubscriptionGoneError, DeliveryError)
    True
    """


def vapid_keys() -> tuple[str, str]:
    """Return a new VAPID key pair: (private key as PEM text, public key for the browser).

    The public key is the base64url uncompressed P-256 point that
    ``pushManager.subscribe({applicationServerKey})`` takes; keep the private key secret
    (e.g. in an environment variable).

    Examples
    --------
    >>> private, public = vapid_keys()
    >>> private.startswith("-----BEGIN PRIVATE KEY-----"), len(public)
    (True, 87)
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return private, base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def vapid_env_keys() -> tuple[str, str]:
    """Return a new VAPID key pair as one-line texts for environment variables.

    The private key is the base64url 32-byte P-256 secret (the form web-push libraries
    use); the public key is the base64url uncompressed point for the browser. Both go
    in ``DYADLAB_VAPID_PRIVATE_KEY`` and ``DYADLAB_VAPID_PUBLIC_KEY``.

    Examples
    --------
    >>> private, public = vapid_env_keys()
    >>> len(private), len(public), vapid_public_key(private) == public
    (43, 87, True)
    """
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    private = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return private, vapid_public_key(private)


def _load_vapid_private(key: str) -> Any:
    """The private key object of PEM text or a base64url raw key (``DeliveryError`` if
    neither; the message never contains the key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = key.strip().replace("\\n", "\n")
    problem = (
        "the VAPID private key is not valid: give the PEM text or the one-line base64url "
        "key that `dyadlab reminders push-keys` prints (DYADLAB_VAPID_PRIVATE_KEY)."
    )
    try:
        if text.startswith("-----BEGIN"):
            loaded = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        else:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            if len(raw) != 32:
                raise ValueError("not 32 bytes")
            loaded = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except (ValueError, TypeError, UnicodeError):
        raise DeliveryError(problem) from None
    if not isinstance(loaded, ec.EllipticCurvePrivateKey) or not isinstance(
        loaded.curve, ec.SECP256R1
    ):
        raise DeliveryError(problem + " It must be a P-256 (prime256v1) key.")
    return loaded


def vapid_private_pem(key: str) -> str:
    """Return the VAPID private key as PEM text (what :func:`send_push` takes).

    ``key`` is PEM text (``\\n`` escapes allowed, for one-line environment variables)
    or the base64url 32-byte key of :func:`vapid_env_keys`.

    Raises
    ------
    DeliveryError
        If ``key`` is neither (the message does not repeat the key).

    Examples
    --------
    >>> private, _ = vapid_env_keys()
    >>> vapid_private_pem(private).startswith("-----BEGIN PRIVATE KEY-----")
    True
    """
    from cryptography.hazmat.primitives import serialization

    loaded = _load_vapid_private(key)
    pem: bytes = loaded.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode("ascii")


def vapid_public_key(private_key: str) -> str:
    """Return the browser's public key (base64url point) that belongs to ``private_key``.

    Examples
    --------
    >>> private, public = vapid_keys()
    >>> vapid_public_key(private) == public
    True
    """
    from cryptography.hazmat.primitives import serialization

    point = (
        _load_vapid_private(private_key)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def push_payload(
    language: str, *, link: str | None = None, reminder: bool = False
) -> dict[str, str]:
    """Return the neutral notification a service worker shows: ``title``, ``body``, ``url``.

    Examples
    --------
    >>> push_payload("en", link="https://lab.example/p/x")
    {'title': 'New questionnaire', 'body': 'You have a new questionnaire in your study.', \
'url': 'https://lab.example/p/x'}
    """
    subject, body = reminder_text(language, reminder=reminder)
    payload = {"title": subject, "body": body.splitlines()[0]}
    if link:
        payload["url"] = link
    return payload


def send_push(
    subscription: Mapping[str, Any],
    payload: Mapping[str, str],
    *,
    vapid_private_key: str,
    vapid_subject: str,
    ttl: int = 4 * 3600,
    timeout: float = 10.0,
) -> int:
    """Send one Web Push message; return the push service's HTTP status (201).

    Parameters
    ----------
    subscription : mapping
        The browser's ``PushSubscription.toJSON()``: ``endpoint`` and ``keys`` with
        ``p256dh`` and ``auth``.
    payload : mapping
        What the service worker shows, e.g. :func:`push_payload`.
    vapid_private_key : str
        The PEM text from :func:`vapid_keys`.
    vapid_subject : str
        A contact for the push service: ``"mailto:lab@example.org"`` or an https URL.
    ttl : int
        Seconds the push service keeps the message for an offline device (set it to
        the time left in the answer window, so no notice arrives after it closes).
    timeout : float
        Seconds to wait for the push service.

    Raises
    ------
    SubscriptionGoneError
        The subscription has expired or was withdrawn (404, 410): delete it.
    DeliveryError
        The push service could not be reached or refused the message.
    """
    try:
        from py_vapid import Vapid02
        from pywebpush import WebPushException, webpush
        from requests import RequestException
    except ImportError as exc:  # pragma: no cover - the platform extra brings it
        raise DeliveryError(
            "send_push(): Web Push needs pywebpush: pip install 'dyadlab[platform]'"
        ) from exc
    endpoint = str(subscription.get("endpoint", ""))
    keys = subscription.get("keys")
    if not endpoint.startswith(("https://", "http://")) or not isinstance(keys, Mapping):
        raise DeliveryError(
            "send_push(): the subscription needs an endpoint URL and keys (p256dh, auth), "
            "as PushSubscription.toJSON() gives them."
        )
    if not vapid_subject.startswith(("mailto:", "https://")):
        raise DeliveryError(
            f"send_push(): vapid_subject={vapid_subject!r} must be a mailto: address or "
            "an https:// URL."
        )
    host = endpoint.split("/")[2]
    try:
        response = webpush(
            dict(subscription),
            data=json.dumps(dict(payload), ensure_ascii=False),
            vapid_private_key=Vapid02.from_pem(vapid_private_key.encode("ascii")),
            vapid_claims={"sub": vapid_subject},
            ttl=ttl,
            timeout=timeout,
        )
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            raise SubscriptionGoneError(
                f"send_push(): the push service {host} no longer knows this subscription "
                f"(HTTP {status}); delete it."
            ) from None
        raise DeliveryError(
            f"send_push(): the push service {host} refused the message (HTTP {status})."
        ) from None
    except (RequestException, ValueError, TypeError) as exc:
        raise DeliveryError(
            f"send_push(): could not deliver to the push service {host} "
            f"({type(exc).__name__}: {exc})."
        ) from None
    return int(response.status_code)
