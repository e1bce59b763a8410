"""The continuous-rating pages: the participant's ``GET /s/rate/{n}`` (the protocol's n-th
rating session, 1-based; the address does not name the rating).

The page needs JavaScript (``static/rating.js``): a large one-thumb slider (also moved
with the arrow keys, Page Up/Down, Home and End) sampled ``rate_hz`` times a second on
the device's monotonic clock, the clock offset to the server estimated NTP-style at the
start and the end, and uploads every two seconds kept in the browser until the server
acknowledges them (:mod:`dyadlab.platform.routes.api_ratings`); reloaded while the
couple's session runs, it goes on rating in that session. Like every participant
page it is in the person's language, titled "Study", has the quick exit, and shows
only this person's own trace.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from dyadlab.platform.errors import ConflictError, InvalidError, NotFoundError
from dyadlab.platform.i18n import label_in, translator
from dyadlab.platform.routes._pages import render
from dyadlab.platform.routes._traces import LINE_STYLES, traces_svg
from dyadlab.platform.routes.deps import DbSession, Now
from dyadlab.platform.routes.pages_participant import (
    CurrentPersonOrNone,
    _context,
    _gate,
    _message,
    _no_session,
    _number_in_path,
)
from dyadlab.platform.routes.pages_researcher import (
    PostedForm,
    ResearcherOrNone,
    _client,
    _form_refused,
    _page,
    _study_or_page,
    _text,
    _to_login,
)
from dyadlab.platform.services import access, ratings, researchers
from dyadlab.platform.services.participants import person_context
from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.tables import Researcher, Study

__all__ = ["RATING_TEXTS", "rating_links", "researcher_router", "router"]

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


# --------------------------------------------------------------------------- researchers
#: The researcher's pages of a study's rating sessions (after the fact, never live):
#: ``GET /r/studies/{id}/ratings`` lists them, ``GET /r/studies/{id}/ratings/{sid}``
#: draws the two traces, ``GET /r/studies/{id}/ratings/export`` downloads the export.
#: All need the ``export`` permission (they show the data); viewing traces and
#: downloading are written to the audit log.
researcher_router = APIRouter(prefix="/r", include_in_schema=False)


def _ratings_list(
    request: Request,
    session: DbSession,
    researcher: Researcher,
    study: Study,
    now: datetime,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    role = access.member_roles(session, researcher.id).get(study.id)
    return _page(
        request,
        "researcher/ratings.html",
        researcher,
        status_code=status_code,
        study=study,
        sessions=ratings.session_overview(session, study.id, now=now),
        names=[r.name for r in study_protocol(study).rating_sessions],
        can_run=access.allowed(role, "run_sessions"),
        error=error,
        notice=notice,
    )


@researcher_router.get("/studies/{study_id}/ratings", response_class=HTMLResponse)
def ratings_list_page(
    study_id: int, request: Request, session: DbSession, researcher: ResearcherOrNone, now: Now
) -> Response:
    """The study's rating sessions: couple, rating, start, length, samples per partner;
    for owners and collaborators also forms to start a couple's session and to mark a
    running one (a stimulus, or the stop)."""
    if researcher is None:
        return _to_login()
    study = _study_or_page(request, session, researcher, study_id, "export")
    if not isinstance(study, Study):
        return study
    return _ratings_list(request, session, researcher, study, now)


@researcher_router.post("/studies/{study_id}/ratings/start", response_class=HTMLResponse)
def ratings_start_post(
    study_id: int,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Start a couple's session for both partners (owners and collaborators)."""
    if researcher is None:
        return _to_login()
    refused = _form_refused(request, session, researcher, study_id, form, "run_sessions")
    if refused is not None:
        return refused
    study = access.study_for(session, researcher, study_id, "run_sessions")
    couple, rating = _text(form, "couple"), _text(form, "rating")
    try:
        if not couple.isdigit() or len(couple) > 9:
            raise InvalidError(f"Couple {couple!r} is not a couple's number (e.g. 12).")
        row, created = ratings.start_for_couple(session, study, int(couple), rating, now=now)
    except NotFoundError:
        message = f"Study {study.id} has no couple {couple}; see the compliance page."
        return _ratings_list(
            request, session, researcher, study, now, error=message, status_code=422
        )
    except InvalidError as exc:
        return _ratings_list(
            request, session, researcher, study, now, error=exc.message, status_code=422
        )
    session.commit()
    done = "started" if created else "was running already"
    notice = f"Session {row.id} ({row.rating}) for couple {couple} {done}."
    return _ratings_list(request, session, researcher, study, now, notice=notice)


@researcher_router.post(
    "/studies/{study_id}/ratings/{session_id}/markers", response_class=HTMLResponse
)
def ratings_marker_post(
    study_id: int,
    session_id: str,
    request: Request,
    form: PostedForm,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """Mark a running session for both partners: a stimulus (with its label) or the stop."""
    if researcher is None:
        return _to_login()
    refused = _form_refused(request, session, researcher, study_id, form, "run_sessions")
    if refused is not None:
        return refused
    study = access.study_for(session, researcher, study_id, "run_sessions")
    kind = _text(form, "kind")
    label = _text(form, "label")[:200] or None
    try:
        if kind not in ("stimulus", "stop"):
            raise InvalidError(f"A marker is a stimulus or a stop, not {kind[:40]!r}.")
        marker = ratings.add_marker(session, study, session_id, kind=kind, label=label, now=now)
    except (NotFoundError, ConflictError, InvalidError) as exc:
        status_code = 404 if isinstance(exc, NotFoundError) else 422
        message = exc.message if not isinstance(exc, NotFoundError) else "No such session."
        return _ratings_list(
            request, session, researcher, study, now, error=message, status_code=status_code
        )
    session.commit()
    seconds = marker["t_ms"] / 1000
    notice = f"Marked {kind} in session {marker['session_id']} at {seconds:.1f} s."
    return _ratings_list(request, session, researcher, study, now, notice=notice)


@researcher_router.get("/studies/{study_id}/ratings/export", response_class=Response)
def ratings_export_download(
    study_id: int, request: Request, session: DbSession, researcher: ResearcherOrNone, now: Now
) -> Response:
    """A ZIP of the study's ratings export (``ratings.csv`` and ``ratings_markers.csv``,
    as ``dyadlab export STUDY --ratings`` writes them), written to the audit log."""
    if researcher is None:
        return _to_login()
    study = _study_or_page(request, session, researcher, study_id, "export")
    if not isinstance(study, Study):
        return study
    with tempfile.TemporaryDirectory(prefix="dyadlab-ratings-") as tmp:
        result = ratings.export_ratings(session, study.id, Path(tmp) / "ratings.csv", now=now)
        researchers.audit(
            session,
            "export",
            researcher_id=researcher.id,
            study_id=study.id,
            client=_client(request),
            detail={"format": "ratings", "file": ".csv", "rows": result["n_rows"]},
        )
        session.commit()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in result["files"]:
                archive.write(name, arcname=Path(name).name)
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="study{study.id}_ratings.zip"',
            "Cache-Control": "no-store",
        },
    )


@researcher_router.get("/studies/{study_id}/ratings/{session_id}", response_class=HTMLResponse)
def rating_traces_page(
    study_id: int,
    session_id: str,
    request: Request,
    session: DbSession,
    researcher: ResearcherOrNone,
    now: Now,
) -> Response:
    """One session's two traces (SVG and a table by second), its markers and clocks."""
    if researcher is None:
        return _to_login()
    study = _study_or_page(request, session, researcher, study_id, "export")
    if not isinstance(study, Study):
        return study
    found = ratings.session_in_study(session, study.id, session_id)
    if found is None:
        return _page(
            request, "researcher/missing.html", researcher, status_code=404, study_id=study_id
        )
    spec = study_protocol(study).rating_session(found.rating)
    frame = ratings.ratings_frame(session, study.id, session_id=found.id)
    researchers.audit(  # the page shows the samples themselves, as an export does
        session,
        "view_ratings",
        researcher_id=researcher.id,
        study_id=study.id,
        subject=f"rating_session:{found.id}",
        client=_client(request),
        detail={"samples": len(frame)},
    )
    session.commit()
    markers = ratings.markers_frame(session, study.id, now=now)
    markers = markers[markers["session"] == found.id]
    marks = [(str(k), float(t)) for k, t in zip(markers["kind"], markers["t_ms"], strict=True)]
    svg = traces_svg(
        frame,
        low=spec.min,
        high=spec.max,
        markers=marks,
        title=f"Ratings of session {found.id} ({found.rating})",
    )
    clocks = [
        {
            "person": int(cast(int, person)),
            "role": own["role"].iloc[0] or "–",
            "samples": len(own),
            "offset": f"{own['clock_offset_ms'].iloc[0]:.1f}",
            "drift": f"{own['clock_drift_ppm'].iloc[0]:.1f}",
            "rtt": f"{own['clock_rtt_ms'].iloc[0]:.1f}",
        }
        for person, own in frame.groupby("person", sort=True)
    ]
    return _page(
        request,
        "researcher/rating_traces.html",
        researcher,
        study=study,
        rating=found,
        svg=Markup(svg),  # built from numbers and escaped text only
        clocks=clocks,
        markers=marks,
        seconds=ratings.by_second(frame),
        styles=LINE_STYLES,
    )
