"""One typed settings object for the platform, read from the environment.

Every setting has an environment variable ``DYADLAB_<NAME>``; :meth:`Settings.from_env`
reads them. Nothing here is a secret that gets logged: ``secret_key`` and
``smtp_password`` are excluded from ``repr``.

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

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dyadlab.exceptions import OptionError

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

DEFAULT_DATABASE_URL = "sqlite:///dyadlab.db"


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
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

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
            name = str(first["loc"][0]) if first.get("loc") else "?"
            raise OptionError(
                f"Settings.from_env(): DYADLAB_{name.upper()}={values.get(name)!r} is not "
                f"valid: {first['msg']}. Fix or unset the environment variable."
            ) from None
