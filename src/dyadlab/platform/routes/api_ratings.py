"""The participant's continuous-rating API: ``/api/v1/me/rating-sessions`` and the clock.

::

    POST /api/v1/me/rating-sessions                  {"rating": NAME} -> 201 new, 200 joined
    GET  /api/v1/me/rating-sessions/{id}             the session's state
    POST /api/v1/me/rating-sessions/{id}/samples     {"batch_id", "samples", "clock"}
                                                     -> 201 stored, 200 stored before
    POST /api/v1/me/rating-sessions/{id}/stop        ends it for both partners
    GET  /api/v1/me/clock                            {"server_ms": ...}

and for the researcher (the study's ``run_sessions`` permission: owners and
collaborators, who run the study)::

    POST /api/v1/studies/{study_id}/couples/{couple_id}/rating-sessions
                                                     {"rating": NAME} -> 201 new, 200 running
    POST /api/v1/studies/{study_id}/rating-sessions/{session_id}/markers
                                                     {"kind": "stimulus"|"stop", "label": ...}

A session of another couple answers 404, exactly as one that does not exist
(:mod:`dyadlab.platform.services.ratings`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status

from dyadlab.platform.routes.deps import CurrentPerson, DbSession, Now, RunSessionsStudy
from dyadlab.platform.schemas import (
    ErrorOut,
    RatingBatchIn,
    RatingBatchOut,
    RatingMarkerIn,
    RatingMarkerOut,
    RatingSessionIn,
    RatingSessionOut,
    ServerClockOut,
)
from dyadlab.platform.services import ratings

__all__ = ["researcher_router", "router"]

router = APIRouter(prefix="/api/v1/me", tags=["participant"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No or an invalid personal token."},
    403: {"model": ErrorOut, "description": "No consent given yet."},
    404: {"model": ErrorOut, "description": "Not found (or not this couple's)."},
    409: {"model": ErrorOut, "description": "Not possible now (withdrawn)."},
    422: {"model": ErrorOut, "description": "Invalid content; the message names it."},
}


def _json(model: Any, code: int) -> Response:
    return Response(model.model_dump_json().encode("utf-8"), code, media_type="application/json")


@router.post(
    "/rating-sessions",
    response_model=RatingSessionOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": RatingSessionOut, "description": "Joined the running one."},
        **_ERRORS,
    },
)
def start_rating_session(
    body: RatingSessionIn, session: DbSession, person: CurrentPerson, now: Now
) -> Response:
    """Start the couple's session of ``rating`` (201), or join the one that runs (200)."""
    row, created = ratings.start_session(session, person, body.rating, now=now)
    out = RatingSessionOut.model_validate(ratings.session_state(session, row, now=now))
    session.commit()
    return _json(out, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.get("/rating-sessions/{session_id}", response_model=RatingSessionOut, responses=_ERRORS)
def read_rating_session(
    session_id: str, session: DbSession, person: CurrentPerson, now: Now
) -> RatingSessionOut:
    """The couple's session: its times and whether it still runs."""
    row = ratings.get_session(session, person, session_id)
    return RatingSessionOut.model_validate(ratings.session_state(session, row, now=now))


@router.post(
    "/rating-sessions/{session_id}/samples",
    response_model=RatingBatchOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": RatingBatchOut, "description": "Stored before (a resend)."},
        **_ERRORS,
    },
)
def post_rating_samples(
    session_id: str, body: RatingBatchIn, session: DbSession, person: CurrentPerson, now: Now
) -> Response:
    """Store a batch of this person's samples: 201 when new, 200 when ``batch_id`` was
    stored before (nothing is duplicated); 422 naming a value outside the range."""
    result = ratings.store_batch(
        session,
        person,
        session_id,
        batch_id=body.batch_id,
        samples=body.samples,
        clock=body.clock.model_dump(),
        now=now,
    )
    out = RatingBatchOut(batch_id=result.batch_id, stored=result.stored, running=result.running)
    session.commit()
    return _json(out, status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


@router.post(
    "/rating-sessions/{session_id}/stop", response_model=RatingSessionOut, responses=_ERRORS
)
def stop_rating_session(
    session_id: str, session: DbSession, person: CurrentPerson, now: Now
) -> RatingSessionOut:
    """End the couple's session for both partners (a ``stop`` marker)."""
    row = ratings.stop_session(session, person, session_id, now=now)
    out = RatingSessionOut.model_validate(ratings.session_state(session, row, now=now))
    session.commit()
    return out


@router.get("/clock", response_model=ServerClockOut, responses=_ERRORS)
async def server_clock(request: Request, person: CurrentPerson) -> ServerClockOut:
    """The server's clock (Unix milliseconds), read after the token check, for the
    phone's NTP-style offset estimate."""
    now: datetime = request.app.state.clock()
    return ServerClockOut(server_ms=now.timestamp() * 1000.0)


researcher_router = APIRouter(prefix="/api/v1", tags=["researcher"])

_R_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Not logged in."},
    403: {"model": ErrorOut, "description": "Your role in this study does not allow it."},
    404: {"model": ErrorOut, "description": "No such study, couple or session (or not yours)."},
    409: {"model": ErrorOut, "description": "The session has ended."},
    422: {"model": ErrorOut, "description": "Invalid content; the message names it."},
}


@researcher_router.post(
    "/studies/{study_id}/couples/{couple_id}/rating-sessions",
    response_model=RatingSessionOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": RatingSessionOut, "description": "It runs already."}, **_R_ERRORS},
)
def researcher_start_rating_session(
    couple_id: int, body: RatingSessionIn, study: RunSessionsStudy, session: DbSession, now: Now
) -> Response:
    """Start a couple's session of ``rating`` for both partners (in the lab); 200 with
    the running one when a partner started it already."""
    row, created = ratings.start_for_couple(session, study, couple_id, body.rating, now=now)
    out = RatingSessionOut.model_validate(ratings.session_state(session, row, now=now))
    session.commit()
    return _json(out, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@researcher_router.post(
    "/studies/{study_id}/rating-sessions/{session_id}/markers",
    response_model=RatingMarkerOut,
    status_code=status.HTTP_201_CREATED,
    responses=_R_ERRORS,
)
def researcher_add_rating_marker(
    session_id: str, body: RatingMarkerIn, study: RunSessionsStudy, session: DbSession, now: Now
) -> RatingMarkerOut:
    """Mark a moment of a running session for both partners (a stimulus, or the stop)."""
    marker = ratings.add_marker(
        session, study, session_id, kind=body.kind, label=body.label, now=now
    )
    session.commit()
    return RatingMarkerOut.model_validate(marker)
