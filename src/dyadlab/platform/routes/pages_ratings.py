"""The participant's continuous-rating page: ``GET /s/rate/{n}`` (the protocol's n-th
rating session, 1-based; the address does not name the rating).

The page needs JavaScript (``static/rating.js``): a large one-thumb slider (also moved
with the arrow keys, Page Up/Down, Home and End) sampled ``rate_hz`` times a second on
the device's monotonic clock, the clock offset to the server estimated NTP-style at the
start and the end, and uploads every two seconds kept in the browser until the server
acknowledges them (:mod:`dyadlab.platform.routes.api_ratings`). Like every participant
page it is in the person's language, titled "Study", has the quick exit, and shows
only this person's own trace.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dyadlab.platform.i18n import label_in, translator
from dyadlab.platform.routes._pages import render
from dyadlab.platform.routes.deps import DbSession
from dyadlab.platform.routes.pages_participant import (
    CurrentPersonOrNone,
    _context,
    _gate,
    _message,
    _no_session,
    _number_in_path,
)
from dyadlab.platform.services.participants import person_context
from dyadlab.platform.services.studies import study_protocol

__all__ = ["RATING_TEXTS", "rating_links", "router"]

router = APIRouter(include_in_schema=False)

#: The interface texts the rating script shows (:mod:`dyadlab.platform.i18n` keys).
RATING_TEXTS = (
    "rating_start",
    "rating_stop",
    "rating_preparing",
    "rating_running",
    "rating_waiting",
    "rating_sending_last",
    "rating_ended",
    "rating_ended_waiting",
    "rating_value",
    "rating_failed",
)


def rating_links(protocol: Any, language: str) -> list[dict[str, Any]]:
    """The home page's links to the protocol's rating sessions: number and label."""
    return [
        {"number": i + 1, "label": label_in(r.label, language, protocol.default_language)}
        for i, r in enumerate(protocol.rating_sessions)
    ]


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


@router.get("/s/rate/{number}", response_class=HTMLResponse)
def rating_page(
    number: str, request: Request, session: DbSession, person: CurrentPersonOrNone
) -> Response:
    """The rating page of the protocol's rating session ``number``."""
    blocked = _gate(request, session, person)
    if blocked is not None or person is None:
        return blocked or _no_session(request)
    _couple, study = person_context(session, person)
    protocol = study_protocol(study)
    index = _number_in_path(number)
    if not 1 <= index <= len(protocol.rating_sessions):
        return _message(request, person, "site_title", "questionnaire_closed", status_code=404)
    spec = protocol.rating_sessions[index - 1]
    t = translator(person.language)
    lang, default = t.language, protocol.default_language
    anchors = {end: label_in(text, lang, default) for end, text in spec.anchors.items()}
    config = {
        "rating": spec.name,
        "min": _number(spec.min),
        "max": _number(spec.max),
        "rate_hz": _number(spec.rate_hz),
        "orientation": spec.orientation,
        "texts": {key: t(key) for key in RATING_TEXTS},
    }
    return render(
        request,
        "participant/rating.html",
        _context(
            request,
            person,
            label=label_in(spec.label, lang, default),
            anchors=anchors,
            spec=spec,
            low=_number(spec.min),
            high=_number(spec.max),
            config=config,
        ),
    )
