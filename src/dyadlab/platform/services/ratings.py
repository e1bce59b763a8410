"""Continuous ratings: a couple's rating session, the idempotent sample upload, the export.

The session
-----------
A protocol's ``rating_sessions`` entry is run by a couple as a
:class:`~dyadlab.platform.tables.CoupleRatingSession`. Either partner starts it
(:func:`start_session`); a second start by either partner while it runs returns the
same session (``created=False``), so both rate on one session and one clock. It runs
until a partner stops it (:func:`stop_session`) or ``max_minutes`` have passed. The
markers (``start``, ``stop``, ``stimulus``) are common to both partners. A rating whose
protocol lists a video's chapters (``stimulus: {chapters: [{label, start_s}]}``) gets a
``stimulus`` marker per chapter (source ``chapters``) when a researcher starts the
session (:func:`start_for_couple`): at that moment plus ``start_s`` on the server's
clock. The chapters after a session's end are left out of :func:`markers_frame`.

Samples and clocks
------------------
A phone samples its slider ``rate_hz`` times a second and stamps every sample with its
own clock, ``performance.timeOrigin + performance.now()`` (milliseconds; monotonic
within a page). It estimates the server's clock minus its own NTP-style (a few round
trips to ``GET /api/v1/me/clock``, the one with the shortest round trip kept: offset =
server time − the midpoint of the round trip) when the session starts and again when it
ends, and sends its latest estimate with every batch. The server keeps the device times
as they came (:class:`~dyadlab.platform.tables.RatingSample`) and aligns them at export
(:func:`clock_fit`): offset at the first estimate plus a linear drift to the last one.

Idempotency
-----------
A batch carries a client-made UUID, unique per person in the database: the same batch
again stores nothing and answers ``created=False`` (the phone keeps a batch until the
server has acknowledged it, so it resends after a dropped connection).

Privacy
-------
A session is looked up through the asking person's couple: another couple's session
is answered exactly like one that does not exist (404). The samples are each partner's
own; a partner's page never reads the other's.

Examples
--------
>>> clock_fit([(1_000.0, 90_000.0), (61_000.0, 90_006.0)])
(90000.0, 100.0, 1000.0)
"""

from __future__ import annotations

import math
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dyadlab.platform.errors import ConflictError, InvalidError, NotFoundError
from dyadlab.platform.services.consent import require_consent
from dyadlab.platform.services.participants import person_context
from dyadlab.platform.services.studies import get_study, study_protocol
from dyadlab.platform.tables import (
    Couple,
    CoupleRatingSession,
    Person,
    RatingBatch,
    RatingMarker,
    RatingSample,
    Study,
)

__all__ = [
    "EXPORT_COLUMNS",
    "MAX_SAMPLES_PER_BATCH",
    "BatchResult",
    "add_marker",
    "by_second",
    "clock_fit",
    "export_ratings",
    "get_session",
    "is_running",
    "markers_frame",
    "ratings_frame",
    "session_in_study",
    "session_overview",
    "session_state",
    "start_for_couple",
    "start_session",
    "stop_session",
    "store_batch",
]

#: The most samples one upload may carry (ten minutes at 50 Hz).
MAX_SAMPLES_PER_BATCH = 30_000
#: The columns of :func:`ratings_frame`, in order.
EXPORT_COLUMNS = (
    "dyad",
    "person",
    "role",
    "session",
    "rating",
    "t_ms",
    "value",
    "device_ms",
    "clock_offset_ms",
    "clock_drift_ppm",
    "clock_rtt_ms",
    "withdrawn",
)
# A drift is estimated only from clock estimates at least this far apart (device ms);
# over a shorter span the two estimates' errors would dominate it.
_MIN_DRIFT_SPAN_MS = 60_000.0

_INSERT_SAMPLES = insert(cast(Table, RatingSample.__table__))
_BATCHES = cast(Table, RatingBatch.__table__)
_INSERT_BATCH = insert(_BATCHES).returning(_BATCHES.c.id)
_BATCH_SIZE = select(RatingBatch.n_samples).where(
    RatingBatch.person_id == bindparam("person_id"),
    RatingBatch.batch_id == bindparam("batch_id"),
)
_SESSION_ROW = select(
    CoupleRatingSession.couple_id,
    CoupleRatingSession.rating,
    CoupleRatingSession.stopped_utc,
    CoupleRatingSession.ends_utc,
).where(CoupleRatingSession.id == bindparam("id"))


def is_running(row: CoupleRatingSession, now: datetime) -> bool:
    """Whether a session still runs at ``now`` (not stopped, ``max_minutes`` not over)."""
    return row.stopped_utc is None and now < row.ends_utc


def _running_for(
    session: Session, couple_id: int, rating: str, now: datetime
) -> CoupleRatingSession | None:
    return session.scalars(
        select(CoupleRatingSession)
        .where(
            CoupleRatingSession.couple_id == couple_id,
            CoupleRatingSession.rating == rating,
            CoupleRatingSession.stopped_utc.is_(None),
            CoupleRatingSession.ends_utc > now,
        )
        .order_by(CoupleRatingSession.id)
    ).first()


def start_session(
    session: Session, person: Person, rating: str, *, now: datetime
) -> tuple[CoupleRatingSession, bool]:
    """Start the couple's session of ``rating``, or join the one that runs.

    Returns the session and whether it was made now. Raises
    :class:`~dyadlab.platform.errors.InvalidError` (``unknown_rating``) for a name the
    protocol does not have, and the consent errors of
    :func:`~dyadlab.platform.services.consent.require_consent`.
    """
    require_consent(session, person)
    couple, study = person_context(session, person)
    return _start(session, couple.id, study, rating, now=now, source="partner")


def start_for_couple(
    session: Session, study: Study, couple_id: int, rating: str, *, now: datetime
) -> tuple[CoupleRatingSession, bool]:
    """The researcher starts (or finds running) couple ``couple_id``'s session of
    ``rating``; 404 for a couple that is not in ``study``.

    When the protocol gives the rating's stimulus chapters, this press is the video's
    start: each chapter becomes a ``stimulus`` marker at ``now`` plus its ``start_s``
    (once per session: pressing again for a running session adds none).
    """
    couple = session.get(Couple, couple_id) if 1 <= couple_id < 2**31 else None
    if couple is None or couple.study_id != study.id:
        raise NotFoundError()
    row, created = _start(session, couple.id, study, rating, now=now, source="researcher")
    stimulus = study_protocol(study).rating_session(rating).stimulus
    if stimulus is not None and stimulus.chapters:
        marked = session.scalar(
            select(func.count())
            .select_from(RatingMarker)
            .where(RatingMarker.session_id == row.id, RatingMarker.source == "chapters")
        )
        if not marked:
            for chapter in stimulus.chapters:
                at = now + timedelta(seconds=chapter.start_s)
                session.add(
                    RatingMarker(
                        session_id=row.id,
                        kind="stimulus",
                        label=chapter.label,
                        source="chapters",
                        at_utc=at,
                    )
                )
            session.flush()
    return row, created


def _start(
    session: Session, couple_id: int, study: Study, rating: str, *, now: datetime, source: str
) -> tuple[CoupleRatingSession, bool]:
    protocol = study_protocol(study)
    names = [r.name for r in protocol.rating_sessions]
    if rating not in names:
        raise InvalidError(
            f"rating {rating!r} is not one of this study's rating sessions "
            f"({', '.join(names) or 'it has none'}).",
            code="unknown_rating",
        )
    spec = protocol.rating_session(rating)
    # Take the couple's row for writing before looking (a no-op UPDATE: a row lock on
    # PostgreSQL, the write lock on SQLite, whose driver opens a transaction only at the
    # first write), so two partners pressing Start at once find each other's session
    # instead of making two (tests: test_partners_starting_at_the_same_moment_...).
    session.execute(update(Couple).where(Couple.id == couple_id).values(seed=Couple.seed))
    found = _running_for(session, couple_id, rating, now)
    if found is not None:
        return found, False
    row = CoupleRatingSession(
        couple_id=couple_id,
        rating=rating,
        started_utc=now,
        ends_utc=now + timedelta(minutes=spec.max_minutes),
    )
    session.add(row)
    session.flush()
    session.add(RatingMarker(session_id=row.id, kind="start", source=source, at_utc=now))
    session.flush()
    return row, True


def add_marker(
    session: Session,
    study: Study,
    session_id: str | int,
    *,
    kind: str,
    label: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The researcher marks a moment of a running session for both partners:
    ``stimulus`` (``label`` names it, e.g. a film's chapter) or ``stop`` (ends the
    session). 404 for a session that is not the study's, 409 once it has ended."""
    row = session_in_study(session, study.id, session_id)
    if row is None:
        raise NotFoundError()
    if not is_running(row, now):
        raise ConflictError(
            f"rating session {row.id} has ended; markers can only be set while it runs.",
            code="session_ended",
        )
    if kind == "stop":
        row.stopped_utc = now
    marker = RatingMarker(
        session_id=row.id, kind=kind, label=label, source="researcher", at_utc=now
    )
    session.add(marker)
    session.flush()
    return {
        "session_id": row.id,
        "kind": kind,
        "label": label,
        "source": "researcher",
        "at": now,
        "t_ms": round((now - row.started_utc).total_seconds() * 1000.0, 1),
    }


def _session_number(session_id: str | int) -> int | None:
    """The id in an address, or None when it cannot be a session's id."""
    text = str(session_id)
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number < 2**31 else None


def get_session(session: Session, person: Person, session_id: str | int) -> CoupleRatingSession:
    """The couple's session ``session_id``; 404 for any other (or a malformed id)."""
    number = _session_number(session_id)
    if number is None:
        raise NotFoundError()
    row = session.get(CoupleRatingSession, number)
    if row is None or row.couple_id != person.couple_id:
        raise NotFoundError()
    return row


def stop_session(
    session: Session, person: Person, session_id: str | int, *, now: datetime
) -> CoupleRatingSession:
    """Stop the couple's session for both partners (a ``stop`` marker); a session that
    has ended already is left as it is."""
    require_consent(session, person)
    row = get_session(session, person, session_id)
    if is_running(row, now):
        row.stopped_utc = now
        session.add(RatingMarker(session_id=row.id, kind="stop", source="partner", at_utc=now))
        session.flush()
    return row


def session_state(session: Session, row: CoupleRatingSession, *, now: datetime) -> dict[str, Any]:
    """A session as the participant API shows it: times, whether it runs, the scale."""
    couple = session.get(Couple, row.couple_id)
    assert couple is not None  # a foreign key
    study = get_study(session, couple.study_id)
    spec = study_protocol(study).rating_session(row.rating)
    return {
        "session_id": row.id,
        "rating": row.rating,
        "started_at": row.started_utc,
        "ends_at": row.ends_utc,
        "stopped_at": row.stopped_utc,
        "running": is_running(row, now),
        "min": spec.min,
        "max": spec.max,
        "rate_hz": spec.rate_hz,
    }


@dataclass(frozen=True)
class BatchResult:
    """What :func:`store_batch` did: ``created`` (False for a repeated batch), how many
    samples the batch holds, and whether the session still runs."""

    batch_id: uuid.UUID
    created: bool
    stored: int
    running: bool


def _check_samples(samples: Sequence[Sequence[float]], low: float, high: float) -> None:
    if len(samples) > MAX_SAMPLES_PER_BATCH:
        raise InvalidError(
            f"samples: {len(samples)} samples in one batch; send at most "
            f"{MAX_SAMPLES_PER_BATCH} (a batch every few seconds).",
            code="too_many_samples",
        )
    for i, pair in enumerate(samples):
        t_ms, value = pair
        if not math.isfinite(t_ms) or not math.isfinite(value):
            raise InvalidError(
                f"samples[{i}]: [{t_ms}, {value}] is not a pair of finite numbers [t_ms, value].",
                code="invalid_sample",
            )
        if not low <= value <= high:
            raise InvalidError(
                f"samples[{i}]: value {value:g} is outside the rating's range {low:g} to {high:g}.",
                code="out_of_range",
                details=[{"item": f"samples[{i}]", "message": "out of range", "code": "between"}],
            )


def store_batch(
    session: Session,
    person: Person,
    session_id: str | int,
    *,
    batch_id: uuid.UUID,
    samples: Sequence[Sequence[float]],
    clock: dict[str, float],
    now: datetime,
) -> BatchResult:
    """Store one upload of samples; a ``batch_id`` seen before stores nothing.

    Samples are ``[device_ms, value]`` pairs. Raises
    :class:`~dyadlab.platform.errors.NotFoundError` for a session that is not the
    couple's, :class:`~dyadlab.platform.errors.InvalidError` for a value outside the
    rating's range (naming the sample) or a value that is not a finite number.
    Samples that arrive after the session ended are stored too (a phone that was offline
    sends them late; the export places them by their own times).
    """
    require_consent(session, person)
    number = _session_number(session_id)
    found = session.execute(_SESSION_ROW, {"id": number}).first() if number else None
    if found is None or found.couple_id != person.couple_id:
        raise NotFoundError()
    running = found.stopped_utc is None and now < found.ends_utc
    _couple, study = person_context(session, person)
    spec = study_protocol(study).rating_session(found.rating)
    _check_samples(samples, spec.min, spec.max)
    # Insert first and let the unique constraint find a repeated batch: a resend is rare,
    # so the common path saves the look-up (Core statements: no ORM objects per batch).
    try:
        batch_pk = session.execute(
            _INSERT_BATCH,
            {
                "session_id": number,
                "person_id": person.id,
                "batch_id": batch_id,
                "n_samples": len(samples),
                "received_utc": now,
                "clock_offset_ms": clock.get("offset_ms"),
                "clock_rtt_ms": clock.get("rtt_ms"),
                "clock_at_ms": clock.get("at_ms"),
            },
        ).scalar_one()
    except IntegrityError:  # stored before (a resend, or the same batch racing itself)
        session.rollback()
        stored = session.scalar(_BATCH_SIZE, {"person_id": person.id, "batch_id": batch_id})
        if stored is None:
            raise
        return BatchResult(batch_id, False, int(stored), running)
    if samples:
        session.execute(
            _INSERT_SAMPLES,
            [
                {
                    "batch_pk": batch_pk,
                    "session_id": number,
                    "person_id": person.id,
                    "device_ms": float(t_ms),
                    "value": float(value),
                }
                for t_ms, value in samples
            ],
        )
    return BatchResult(batch_id, True, len(samples), running)


# --------------------------------------------------------------------------- export
def clock_fit(estimates: Sequence[tuple[float, float]]) -> tuple[float, float, float]:
    """The clock alignment of one phone from its offset estimates.

    Parameters
    ----------
    estimates : sequence of (at_ms, offset_ms)
        Each estimate of server clock − device clock and the device time it was made
        at (the round trip's midpoint), in any order.

    Returns
    -------
    offset_ms, drift_ppm, at_ms
        The offset at ``at_ms`` (the first estimate) and the drift in parts per million:
        the server time of device time ``d`` is ``d + offset_ms + drift_ppm * 1e-6 *
        (d - at_ms)``. The drift is the slope from the first estimate to the last when
        they are at least a minute apart, else 0.

    Examples
    --------
    >>> clock_fit([(0.0, 5.0)])
    (5.0, 0.0, 0.0)
    """
    ordered = sorted(estimates)
    if not ordered:
        return 0.0, 0.0, 0.0
    first_at, first_offset = ordered[0]
    last_at, last_offset = ordered[-1]
    span = last_at - first_at
    drift = (last_offset - first_offset) / span * 1e6 if span >= _MIN_DRIFT_SPAN_MS else 0.0
    return first_offset, drift, first_at


def ratings_frame(
    session: Session, study_id: int, *, session_id: int | None = None
) -> pd.DataFrame:
    """All continuous ratings of a study in long format, one row per sample.

    Columns (:data:`EXPORT_COLUMNS`): ``dyad`` (couple id), ``person``, ``role``,
    ``session`` (the rating session's id), ``rating`` (its protocol name), ``t_ms``
    (server-aligned milliseconds since the session's start), ``value``, ``device_ms``
    (the phone's own time stamp), ``clock_offset_ms`` (server − phone clock applied to
    this sample), ``clock_drift_ppm``, ``clock_rtt_ms`` (the round trip of the
    start's estimate: the offset is good to about half of it) and ``withdrawn`` (the
    person has left the study; their samples until then stay unless they asked for
    deletion). Rows are sorted by
    session, person and ``t_ms``; a batch sent twice is stored once. A person without
    a clock estimate gets offset 0 (the phone's own clock). ``session_id``: only that
    session's rows.
    """
    get_study(session, study_id)
    only = () if session_id is None else (CoupleRatingSession.id == session_id,)
    sessions = session.execute(
        select(
            CoupleRatingSession.id,
            CoupleRatingSession.couple_id,
            CoupleRatingSession.rating,
            CoupleRatingSession.started_utc,
        )
        .join(Couple, Couple.id == CoupleRatingSession.couple_id)
        .where(Couple.study_id == study_id, *only)
        .order_by(CoupleRatingSession.id)
    ).all()
    frames: list[pd.DataFrame] = []
    people = session.execute(
        select(Person.id, Person.role, Person.status)
        .join(Couple, Couple.id == Person.couple_id)
        .where(Couple.study_id == study_id)
    ).all()
    roles = {pid: role for pid, role, _status in people}
    withdrawn = {pid: status == "withdrawn" for pid, _role, status in people}
    for sid, couple_id, rating, started in sessions:
        clocks: dict[int, list[tuple[float, float, float]]] = {}
        for person_id, at_ms, offset, rtt in session.execute(
            select(
                RatingBatch.person_id,
                RatingBatch.clock_at_ms,
                RatingBatch.clock_offset_ms,
                RatingBatch.clock_rtt_ms,
            ).where(RatingBatch.session_id == sid)
        ):
            if at_ms is not None and offset is not None:
                clocks.setdefault(person_id, []).append((at_ms, offset, rtt or 0.0))
        samples = pd.DataFrame(
            session.execute(
                select(RatingSample.person_id, RatingSample.device_ms, RatingSample.value).where(
                    RatingSample.session_id == sid
                )
            ).all(),
            columns=["person", "device_ms", "value"],
        )
        if samples.empty:
            continue
        start_ms = started.timestamp() * 1000.0
        parts = []
        for key, own in samples.groupby("person", sort=True):
            estimates = clocks.get(int(cast(int, key)), [])
            offset, drift, at = clock_fit([(a, o) for a, o, _ in estimates])
            rtt = min(estimates)[2] if estimates else float("nan")
            own = own.copy()
            applied = offset + drift * 1e-6 * (own["device_ms"] - at)
            own["clock_offset_ms"] = applied.round(3)
            own["clock_drift_ppm"] = round(drift, 3)
            own["clock_rtt_ms"] = rtt
            own["t_ms"] = (own["device_ms"] + applied - start_ms).round(1)
            parts.append(own)
        frame = pd.concat(parts)
        frame["dyad"] = couple_id
        frame["session"] = sid
        frame["rating"] = rating
        frame["role"] = frame["person"].map(roles)
        frame["withdrawn"] = frame["person"].map(withdrawn).astype(bool)
        frames.append(frame)
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in EXPORT_COLUMNS})
    out = pd.concat(frames, ignore_index=True)
    out = out.sort_values(["session", "person", "t_ms"], kind="stable").reset_index(drop=True)
    return out[list(EXPORT_COLUMNS)]


def markers_frame(session: Session, study_id: int, *, now: datetime) -> pd.DataFrame:
    """The markers of a study's rating sessions, one row each: ``dyad, session, rating,
    kind`` (``start``, ``stop``, ``stimulus``), ``label``, ``source`` (``partner``,
    ``researcher``, ``timeout``, ``chapters``), ``t_ms`` (server milliseconds since the
    session's start) and ``at`` (UTC). A session that ran out of time without a stop gets
    its ``stop`` at ``max_minutes`` (source ``timeout``) once that time has passed. A
    chapter's marker appears once its time has come, and not when the session ended
    before it."""
    get_study(session, study_id)
    rows = session.execute(
        select(
            CoupleRatingSession.couple_id,
            CoupleRatingSession.id,
            CoupleRatingSession.rating,
            CoupleRatingSession.started_utc,
            CoupleRatingSession.ends_utc,
            CoupleRatingSession.stopped_utc,
            RatingMarker.kind,
            RatingMarker.label,
            RatingMarker.source,
            RatingMarker.at_utc,
        )
        .join(Couple, Couple.id == CoupleRatingSession.couple_id)
        .join(RatingMarker, RatingMarker.session_id == CoupleRatingSession.id)
        .where(Couple.study_id == study_id)
        .order_by(CoupleRatingSession.id, RatingMarker.at_utc, RatingMarker.id)
    ).all()
    records: list[dict[str, Any]] = []
    timed_out: dict[int, tuple[int, str, datetime, datetime]] = {}
    for couple_id, sid, rating, started, ends, stopped, kind, label, source, at in rows:
        if source == "chapters" and at > min(stopped or ends, ends, now):
            continue  # not played (yet): the session ended before this chapter
        records.append(
            {
                "dyad": couple_id,
                "session": sid,
                "rating": rating,
                "kind": kind,
                "label": label,
                "source": source,
                "t_ms": round((at - started).total_seconds() * 1000.0, 1),
                "at": at,
            }
        )
        if stopped is None and ends <= now:
            timed_out[sid] = (couple_id, rating, started, ends)
    for sid, (couple_id, rating, started, ends) in timed_out.items():
        records.append(
            {
                "dyad": couple_id,
                "session": sid,
                "rating": rating,
                "kind": "stop",
                "label": None,
                "source": "timeout",
                "t_ms": round((ends - started).total_seconds() * 1000.0, 1),
                "at": ends,
            }
        )
    columns = ["dyad", "session", "rating", "kind", "label", "source", "t_ms", "at"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.sort_values(["session", "t_ms"], kind="stable").reset_index(drop=True)


def export_ratings(
    session: Session, study_id: int, out: str | os.PathLike[str], *, now: datetime
) -> dict[str, Any]:
    """Write a study's continuous ratings (:func:`ratings_frame`) to ``out`` (``.csv`` or
    ``.parquet``) and their markers (:func:`markers_frame`) beside it
    (``ratings.csv`` gives ``ratings_markers.csv``).

    Returns ``{"n_rows": …, "n_sessions": …, "files": [...]}``.
    """
    from dyadlab.io import write_table

    path = Path(out)
    if path.suffix.lower() not in (".csv", ".parquet"):
        raise InvalidError(
            f"--out {path.name!r}: the ratings are written as .csv or .parquet; "
            "give a file name ending in one of them.",
            code="bad_format",
        )
    frame = ratings_frame(session, study_id)
    markers = markers_frame(session, study_id, now=now)
    marker_path = path.with_name(f"{path.stem}_markers{path.suffix}")
    write_table(frame, path)
    write_table(markers, marker_path)
    return {
        "n_rows": len(frame),
        "n_sessions": int(frame["session"].nunique()) if len(frame) else 0,
        "files": [str(path), str(marker_path)],
    }


def session_in_study(
    session: Session, study_id: int, session_id: str | int
) -> CoupleRatingSession | None:
    """The rating session ``session_id`` if it belongs to a couple of ``study_id``."""
    number = _session_number(session_id)
    if number is None:
        return None
    return session.scalars(
        select(CoupleRatingSession)
        .join(Couple, Couple.id == CoupleRatingSession.couple_id)
        .where(CoupleRatingSession.id == number, Couple.study_id == study_id)
    ).first()


def session_overview(session: Session, study_id: int, *, now: datetime) -> list[dict[str, Any]]:
    """One row per rating session of a study: ``session, dyad, rating, started, minutes``
    (until the stop, the time limit or now), ``running`` and ``samples`` (person ->
    number of samples stored)."""
    get_study(session, study_id)
    rows = session.scalars(
        select(CoupleRatingSession)
        .join(Couple, Couple.id == CoupleRatingSession.couple_id)
        .where(Couple.study_id == study_id)
        .order_by(CoupleRatingSession.id)
    ).all()
    counts: dict[int, dict[int, int]] = {}
    for sid, person_id, n in session.execute(
        select(RatingBatch.session_id, RatingBatch.person_id, func.sum(RatingBatch.n_samples))
        .join(CoupleRatingSession, CoupleRatingSession.id == RatingBatch.session_id)
        .join(Couple, Couple.id == CoupleRatingSession.couple_id)
        .where(Couple.study_id == study_id)
        .group_by(RatingBatch.session_id, RatingBatch.person_id)
    ):
        counts.setdefault(sid, {})[person_id] = int(n or 0)
    out = []
    for row in rows:
        end = row.stopped_utc or min(row.ends_utc, now)
        out.append(
            {
                "session": row.id,
                "dyad": row.couple_id,
                "rating": row.rating,
                "started": row.started_utc,
                "minutes": round(max(0.0, (end - row.started_utc).total_seconds()) / 60, 1),
                "running": is_running(row, now),
                "samples": counts.get(row.id, {}),
            }
        )
    return out


def by_second(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The traces of :func:`ratings_frame` as a table by whole second: ``second`` and one
    mean value per person (``values``: person -> mean, or None when the person has no
    sample in that second).

    Examples
    --------
    >>> frame = pd.DataFrame({"person": [1, 1, 2], "t_ms": [100, 1500, 200],
    ...                       "value": [10, 30, 50]})
    >>> by_second(frame)
    [{'second': 0, 'values': {1: 10.0, 2: 50.0}}, {'second': 1, 'values': {1: 30.0, 2: None}}]
    """
    if frame.empty:
        return []
    second = (frame["t_ms"] // 1000).astype(int).rename("second")
    table = frame.groupby([second, frame["person"]])["value"].mean().unstack("person")
    return [
        {
            "second": int(cast(int, sec)),
            "values": {
                int(cast(int, p)): (None if pd.isna(v) else round(float(v), 1))
                for p, v in row.items()
            },
        }
        for sec, row in table.iterrows()
    ]
