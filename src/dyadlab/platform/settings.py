"""One typed settings object for the platform, read from the environment.

Every setting has an environment variable ``DYADLAB_<NAME>``; :meth:`Settings.from_env`
reads them. Nothing here is a secret that gets logged: ``secret_key``, ``smtp_password``
and ``vapid_private_key`` are excluded from ``repr`` and from error messages.

Examples
--------
>>> s = Settings.from_env({"DYADLAB_DATABASE_URL": "sqlite:///study.db"})
>>> s.database_url
'sqlite:///study.db'
>>> s.https
False
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dyadlab.exceptions import OptionError

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///dyadlab.db"

#: The browsers' push services (host names and their subdomains): Chrome and Edge on
#: Android (FCM), Firefox, Safari, Edge on Windows.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com,push.services.mozilla.com,push.apple.com,notify.windows.com"
)
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]"})


def _random_key() -> str:
    return secrets.token_urlsafe(32)


class Settings(BaseModel):
    """The platform's configuration.

    Attributes
    ----------
    database_url : str
        SQLAlchemy URL; ``sqlite:///dyadlab.db`` (the embedded default) or
        ``postgresql+psycopg://user@host/db`` (``postgresql://`` is read as psycopg 3).
    base_url : str
        Public address of the server; invitation links are ``{base_url}/p/{token}``.
        Security headers add HSTS when it starts with ``https://``.
    secret_key : str
        Signs researcher session tokens. Set ``DYADLAB_SECRET_KEY`` in production; the
        default is random per process (sessions end when the server restarts).
    smtp_host : str or None
        Outgoing e-mail server for reminders; None means no e-mail is sent.
    smtp_port : int
        Its port (default 25).
    smtp_from : str
        Sender address of reminders.
    smtp_user : str or None
        SMTP login, if the server needs one.
    smtp_password : str or None
        SMTP password (never shown in ``repr``).
    smtp_starttls : bool
        Upgrade the SMTP connection with STARTTLS.
    session_max_age_s : int
        Lifetime of a researcher session.
    login_max_failures : int
        Rate limit: after this many failed logins for one e-mail address or one client
        address within ``login_window_s``, logins are refused with 429 until the window
        passes.
    login_window_s : int
        The rate limit's window in seconds.
    submission_grace_min : int
        A response finished (client clock) inside its answer window but received later,
        e.g. after the phone was offline, is accepted up to this many minutes late.
    compliance_threshold : float
        Couples whose share of complete couple-days is below this are flagged.
    default_tz : str
        Time zone of new participants until they choose their own.
    default_language : str
        Language of new participants until they choose their own.
    vapid_private_key : str or None
        The VAPID private key for Web Push reminders (never shown in ``repr`` or error
        messages): PEM text or the one-line key ``dyadlab reminders push-keys`` prints.
        Without it (and ``vapid_public_key``) Web Push is off.
    vapid_public_key : str or None
        The matching public key (base64url) that browsers subscribe with.
    vapid_subject : str or None
        A contact for the push services, ``mailto:…`` or ``https://…``; default
        ``base_url`` under HTTPS, else ``mailto:`` + ``smtp_from``.
    push_hosts : str
        Comma-separated push-service hosts a browser subscription may point to (a host
        and its subdomains); the server posts reminders only there. Default: the push
        services of Chrome, Edge, Firefox and Safari. A loopback host listed here may use
        ``http://`` (for tests).
    max_concurrent_requests : int
        Requests that use the database running at once in one server process (default
        16); the connection pool and the thread pool are sized from it
        (:mod:`dyadlab.platform.admission`). ``DYADLAB_MAX_CONCURRENT_REQUESTS``.
    admission_wait_s : float
        Seconds a request waits for a place among those before it is answered
        ``503 Service Unavailable`` with ``Retry-After`` (default 2).
    retry_after_s : int
        The ``Retry-After`` seconds of that 503 (default 2); the participant page waits
        that long, plus up to half again at random, before it sends again.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    database_url: str = DEFAULT_DATABASE_URL
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = Field(default_factory=_random_key, repr=False)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "dyadlab@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_starttls: bool = False
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=15 * 60, ge=1)
    submission_grace_min: int = Field(default=120, ge=0)
    compliance_threshold: float = Field(default=0.8, ge=0, le=1)
    default_tz: str = "Europe/Amsterdam"
    default_language: str = "en"
    vapid_private_key: str | None = Field(default=None, repr=False)
    vapid_public_key: str | None = None
    vapid_subject: str | None = None
    push_hosts: str = DEFAULT_PUSH_HOSTS
    max_concurrent_requests: int = Field(default=16, ge=1, le=1000)
    admission_wait_s: float = Field(default=2.0, ge=0, le=60)
    retry_after_s: int = Field(default=2, ge=1, le=3600)

    @model_validator(mode="after")
    def _check_push_keys(self) -> Settings:
        private, public = self.vapid_private_key, self.vapid_public_key
        if bool(private) != bool(public):
            raise ValueError(
                "Web Push needs both DYADLAB_VAPID_PRIVATE_KEY and DYADLAB_VAPID_PUBLIC_KEY "
                "(make a pair with `dyadlab reminders push-keys`), or neither"
            )
        if private and public:
            from dyadlab.platform.notify import DeliveryError, vapid_public_key

            try:
                derived = vapid_public_key(private)
            except DeliveryError as exc:
                raise ValueError(str(exc).removeprefix("the ")) from None
            if derived != public.strip():
                raise ValueError(
                    "DYADLAB_VAPID_PUBLIC_KEY does not belong to DYADLAB_VAPID_PRIVATE_KEY; "
                    "set both from the same `dyadlab reminders push-keys` output"
                )
        subject = self.vapid_subject
        if subject and not subject.startswith(("mailto:", "https://")):
            raise ValueError(
                f"DYADLAB_VAPID_SUBJECT={subject!r} must be a mailto: address or an https:// URL"
            )
        return self

    @property
    def push_enabled(self) -> bool:
        """Whether Web Push reminders are on (both VAPID keys are set)."""
        return bool(self.vapid_private_key and self.vapid_public_key)

    @property
    def push_subject(self) -> str:
        """The VAPID contact: ``vapid_subject``, else ``base_url`` (HTTPS) or ``mailto:``.

        Examples
        --------
        >>> Settings(smtp_from="lab@uni.example").push_subject
        'mailto:lab@uni.example'
        """
        if self.vapid_subject:
            return self.vapid_subject
        return self.base_url if self.https else f"mailto:{self.smtp_from}"

    def push_host_allowed(self, endpoint: str) -> bool:
        """Whether a subscription's endpoint URL points to an allowed push service.

        Examples
        --------
        >>> s = Settings()
        >>> s.push_host_allowed("https://fcm.googleapis.com/fcm/send/abc")
        True
        >>> s.push_host_allowed("https://intranet.example/fcm.googleapis.com")
        False
        """
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(endpoint)
            host = (parts.hostname or "").lower()
            port = parts.port
        except ValueError:
            return False
        allowed = {h.strip().lower() for h in self.push_hosts.split(",") if h.strip()}
        listed = any(host == h or host.endswith("." + h) for h in allowed)
        if parts.scheme == "https":
            return listed and port in (None, 443)
        shown = f"[{host}]" if ":" in host else host
        return parts.scheme == "http" and listed and shown in _LOOPBACK

    @property
    def https(self) -> bool:
        """Whether the public address uses HTTPS (then HSTS and secure cookies are on)."""
        return self.base_url.lower().startswith("https://")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ``DYADLAB_*`` variables (``os.environ`` by default); keywords win.

        Raises :class:`~dyadlab.exceptions.OptionError` naming the variable when a value
        is not valid (the command line prints it as one line).

        Examples
        --------
        >>> Settings.from_env({}, base_url="https://lab.example").https
        True
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = env.get(f"DYADLAB_{name.upper()}")
            if raw is not None and raw != "":
                values[name] = raw
        values.update(overrides)
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            first = exc.errors()[0]
            if not first.get("loc"):  # a rule across settings (e.g. the two VAPID keys)
                message = str(first["msg"]).removeprefix("Value error, ")
                raise OptionError(f"Settings.from_env(): {message}.") from None
            name = str(first["loc"][0])
            field = cls.model_fields.get(name)
            shown = "(hidden)" if field is not None and not field.repr else repr(values.get(name))
            raise OptionError(
                f"Settings.from_env(): DYADLAB_{name.upper()}={shown} is not "
                f"valid: {first['msg']}. Fix or unset the environment variable."
            ) from None
