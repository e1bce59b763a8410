"""What the participant pages say about a refused answer, in the person's language.

The services report problems in English for the API, each with a stable ``code``
(:class:`~dyadlab.platform.errors.PlatformError`) and, for answers, a ``code`` and
``params`` per item (:data:`dyadlab.platform.protocol.ANSWER_ERROR_CODES`). The pages
turn those codes into the interface texts of :mod:`dyadlab.platform.i18n` (key
``answer_<code>``, and a few keys for the other problems), so that a Dutch page says
everything in Dutch. ``static/participant.js`` does the same for the answers it sends
(the same keys, given to it in the page).

A constraint's own message from the protocol (``constraint_message``), in the person's
language, is shown as it is.

Examples
--------
>>> from dyadlab.platform.i18n import translator
>>> nl = translator("nl")
>>> answer_error_text({"item": "hours", "code": "between",
...                    "params": {"min": 0, "max": 2.5}}, nl)
'Vul een getal in van 0 tot en met 2,5.'
>>> answer_error_text({"item": "desire", "code": "required"}, nl)
'Beantwoord deze vraag.'
>>> problem_text("not_open", translator("en"), kind="event")[:38]
'You have already sent this the largest'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dyadlab.platform.i18n import Translator
from dyadlab.platform.protocol import ANSWER_ERROR_CODES

__all__ = ["answer_error_text", "number_text", "problem_text"]

#: Interface text of each non-answer problem code (anything else: ``page_error``).
PROBLEM_KEYS: dict[str, str] = {
    "already_answered": "already_answered",
    "invalid_time": "invalid_time",
    "consent_required": "consent_needed",
    "consent_version": "consent_version_changed",
    "withdrawn": "withdrawn",
    "unauthorized": "no_session",
    "csrf": "csrf_failed",
}


def number_text(value: Any, language: str) -> str:
    """A number as the person writes it (Dutch: a decimal comma); other values as text.

    Examples
    --------
    >>> number_text(2.5, "nl"), number_text(2.5, "en"), number_text(100, "nl")
    ('2,5', '2.5', '100')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    text = str(int(value)) if float(value).is_integer() else f"{value:g}"
    return text.replace(".", ",") if language == "nl" else text


def answer_error_text(error: Mapping[str, Any], t: Translator) -> str:
    """The message for one answer problem (``{"item", "message", "code", "params"}``)."""
    code = str(error.get("code") or "")
    params = error.get("params") or {}
    if code == "constraint" and params.get("message"):
        return str(params["message"])
    if code == "required":
        return t("required")
    if code in ANSWER_ERROR_CODES:
        values = {k: number_text(params.get(k, ""), t.language) for k in ANSWER_ERROR_CODES[code]}
        return t(f"answer_{code}", **values)
    if error.get("item"):
        return t("answer_invalid")
    return problem_text(code, t)


def problem_text(code: str | None, t: Translator, *, kind: str | None = None) -> str:
    """The message for a refused submission or request (a closed window, no consent…).

    ``kind`` is the questionnaire's schedule type: a questionnaire reported by the
    person (``event``) is "not open" only when today's number of reports is reached.
    """
    if code == "not_open":
        return t("event_limit" if kind == "event" else "not_open")
    return t(PROBLEM_KEYS.get(code or "", "page_error"))
