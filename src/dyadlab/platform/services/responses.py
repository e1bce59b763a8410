"""Answering: the prompts open to a person now, and the idempotent response post.

Idempotency
-----------
A submission carries a client-made UUID (``submission_id``), unique per person in the
database. Posting the same id again returns the stored response (``created=False``)
and stores nothing. Two identical posts racing each other are settled by the unique
constraint: the loser's insert fails, its transaction is rolled back and the winner's
row is returned (a loser that finds the prompt already answered also looks for the
winner's row before refusing). One answer per prompt is enforced the same way
(``prompt_key`` unique per person); two *different* event reports racing for the same
event number are both kept: the loser takes the next number.

Late answers
------------
An answer is accepted while its prompt is open (:func:`dyadlab.platform.schedule.open_prompts`).
A phone that was offline may deliver it later: if the client says when it was finished
(``finished_at``) and that moment is at most ``grace_min`` minutes ago, the prompt is
looked up at that moment and the response is stored with status ``late``. Otherwise the
answer is refused with 409 ``not_open`` and a message saying the answers were not stored
(the client keeps its draft).

Privacy
-------
Every query is filtered by the asking person's id; a response of someone else, the
partner included, is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import base64
import functools
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast
from typing import Protocol as TypingProtocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, CursorResult, Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from dyadlab.platform._inputs import readable, time_problem
from dyadlab.platform.errors import ConflictError, InvalidError
from dyadlab.platform.security import hash_token
from dyadlab.platform.services.consent import require_consent
from dyadlab.platform.services.participants import person_context
from dyadlab.platform.services.studies import study_protocol
from dyadlab.platform.tables import Couple, Person, Response, Study, Upload, utcnow

__all__ = [
    "CoreStore",
    "LeanStore",
    "PsycopgStore",
    "SubmitResult",
    "check_times",
    "get_response",
    "list_responses",
    "open_prompts_for",
    "response_to_dict",
    "study_uploads",
    "submit_lean",
    "submit_response",
    "upload_in_study",
]

CLOCK_SKEW = timedelta(minutes=5)


def _entry_kinds(protocol: Any) -> dict[str, str]:
    return {entry.questionnaire: entry.type for entry in protocol.schedule}


# Statements on the submission path, built once (building one, and its cache key, costs
# more CPU than running it).
# A response's columns the schedule needs (and the submission id, to spot a retry).
_SCHEDULE_COLUMNS = (
    Response.person_id,
    Response.prompt_key,
    Response.questionnaire,
    Response.kind,
    Response.diary_day,
    Response.finished_utc,
    Response.submission_id,
)
_COUPLE_RESPONSES = (
    select(*_SCHEDULE_COLUMNS)
    .join(Person, Person.id == Response.person_id)
    .where(Person.couple_id == bindparam("couple_id"))
)
_INSERT = insert(cast(Table, Response.__table__))
_BY_SUBMISSION = select(Response).where(
    Response.person_id == bindparam("person_id"),
    Response.submission_id == bindparam("submission_id"),
)


def _couple_rows(session: Session, couple: Couple) -> Sequence[Any]:
    return session.execute(_COUPLE_RESPONSES, {"couple_id": couple.id}).all()


def _state_of(
    person_id: int, tz: str, start_date: date, protocol: Any, now: datetime, rows: Sequence[Any]
) -> tuple[set[str], dict[str, int], dict[str, datetime]]:
    """Answered prompt keys, event counts on today's diary day, and the cross-partner
    triggers (questionnaire -> time of the partner's latest triggering submission), from
    the couple's responses ``rows`` (:data:`_COUPLE_RESPONSES`): plain values, no ORM
    objects (the lean path has none)."""
    from dyadlab.platform.schedule import diary_day

    today = diary_day(start_date, tz, now)
    triggers = {
        e.questionnaire: e.triggers_partner for e in protocol.schedule if e.triggers_partner
    }
    answered: set[str] = set()
    events: Counter[str] = Counter()
    triggered: dict[str, datetime] = {}
    for row_person, key, questionnaire, kind, day, finished, _submission in rows:
        if row_person == person_id:
            answered.add(key)
            if kind == "event" and day == today:
                events[questionnaire] += 1
        elif questionnaire in triggers and finished <= now:
            name = str(triggers[questionnaire])
            if name not in triggered or finished > triggered[name]:
                triggered[name] = finished
    return answered, dict(events), triggered


def open_prompts_for(
    session: Session,
    person: Person,
    *,
    now: datetime | None = None,
    context: tuple[Couple, Study] | None = None,
    _rows: Sequence[Any] | None = None,
) -> list[Any]:
    """The prompts (:class:`dyadlab.platform.schedule.Prompt`) open to ``person`` at ``now``.

    Empty for a person who has not consented or has withdrawn. ``context`` is the
    person's ``(couple, study)`` when the caller has it already (saves a query).
    """
    now = now or utcnow()
    if person.status != "active":
        return []
    couple, study = context or person_context(session, person)
    protocol = study_protocol(study)
    if _rows is None:
        _rows = _couple_rows(session, couple)
    return _open_now(protocol, person.id, person.tz, couple.start_date, couple.seed, now, _rows)


def _open_now(
    protocol: Any,
    person_id: int,
    tz: str,
    start_date: date,
    seed: int,
    now: datetime,
    rows: Sequence[Any],
    questionnaire: str | None = None,
) -> list[Any]:
    """:func:`open_prompts_for` from plain values and the couple's responses ``rows``
    (only ``questionnaire``'s prompts if given)."""
    from dyadlab.platform.schedule import open_prompts

    answered, events, triggered = _state_of(person_id, tz, start_date, protocol, now, rows)
    return list(
        open_prompts(
            protocol,
            start_date=start_date,
            tz=tz,
            now=now,
            answered=answered,
            events_today=events,
            triggered=triggered,
            seed=seed,
            questionnaire=questionnaire,
        )
    )


@dataclass(frozen=True)
class SubmitResult:
    """The stored response and whether this call created it (False: a retry)."""

    response: Response
    created: bool


def _stored(session: Session, person: Person, submission_id: uuid.UUID) -> Response | None:
    return session.scalars(
        _BY_SUBMISSION, {"person_id": person.id, "submission_id": submission_id}
    ).first()


def check_times(started_at: datetime | None, finished_at: datetime | None, now: datetime) -> None:
    """Refuse (422 ``invalid_time``, naming the field) a client time without an offset,
    before 2000 or more than a day after ``now`` (:func:`dyadlab.platform._inputs.
    time_problem`), and a ``started_at`` after ``finished_at``."""
    for name, value in (("started_at", started_at), ("finished_at", finished_at)):
        problem = None if value is None else time_problem(value, now)
        if problem is not None:
            raise InvalidError(f"{name} {problem}.", code="invalid_time")
    if started_at is not None and finished_at is not None and started_at > finished_at:
        raise InvalidError(
            f"started_at ({started_at.isoformat()}) lies after finished_at "
            f"({finished_at.isoformat()}); a questionnaire is started before it is finished.",
            code="invalid_time",
        )


def _effective_time(now: datetime, finished_at: datetime | None, grace_min: int) -> datetime:
    if finished_at is None:
        return now
    if finished_at > now + CLOCK_SKEW:
        raise InvalidError("finished_at lies in the future.", code="invalid_time")
    return max(min(finished_at, now), now - timedelta(minutes=grace_min))


def submit_response(
    session: Session,
    person: Person,
    *,
    submission_id: uuid.UUID,
    questionnaire: str,
    answers: dict[str, Any],
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    now: datetime | None = None,
    grace_min: int = 120,
) -> SubmitResult:
    """Store a response, or return the one already stored under ``submission_id``.

    Raises
    ------
    InvalidError
        Unknown questionnaire (``unknown_questionnaire``) or an invalid answer
        (``invalid_answer``, ``details`` lists each item and what is wrong), or a
        client time out of range or out of order (``invalid_time``, see
        :func:`check_times`).
    ConflictError
        The questionnaire is not open now (``not_open``), or this prompt was already
        answered under another submission id (``already_answered``).
    ForbiddenError
        No consent yet (``consent_required``).
    """
    from dyadlab.platform.protocol import AnswerError

    now = now or utcnow()
    couple, study = person_context(session, person)  # no query after the token lookup
    # The couple's responses, read once: to find an earlier post of this submission (a
    # retry) and, below, for the schedule (one round trip fewer than a separate SELECT).
    couple_rows = _couple_rows(session, couple)
    if any(r.person_id == person.id and r.submission_id == submission_id for r in couple_rows):
        existing = _stored(session, person, submission_id)
        if existing is not None:
            return SubmitResult(existing, created=False)
    check_times(started_at, finished_at, now)
    require_consent(session, person)
    protocol = study_protocol(study)
    kinds = _entry_kinds(protocol)
    names = [q.name for q in protocol.questionnaires]
    if questionnaire not in names:
        raise InvalidError(
            f"questionnaire {questionnaire!r} is not part of this study; choose one of {names}.",
            code="unknown_questionnaire",
        )
    try:
        # a constraint's own message (constraint_message) in the person's language
        cleaned = protocol.validate_answers(questionnaire, answers, language=person.language)
    except AnswerError as exc:
        raise InvalidError(str(exc), code="invalid_answer", details=list(exc.errors)) from exc
    cleaned, files = _split_uploads(protocol, questionnaire, cleaned, person, submission_id, now)
    at = _effective_time(now, finished_at, grace_min)
    rows: Sequence[Any] | None = couple_rows
    attempt = 0
    while True:
        attempt += 1
        opened = open_prompts_for(session, person, now=at, context=(couple, study), _rows=rows)
        rows = None  # a further attempt (after a rollback) reads them again
        prompts = [p for p in opened if p.questionnaire == questionnaire]
        if not prompts:
            # A concurrent post of this very submission may have just answered the prompt.
            raced = _stored(session, person, submission_id)
            if raced is not None:
                return SubmitResult(raced, created=False)
            raise ConflictError(_not_open_message(kinds.get(questionnaire)), code="not_open")
        values = _new_row(
            person.id,
            person.tz,
            prompts[0],
            submission_id,
            questionnaire,
            cleaned,
            started_at=started_at,
            finished=at if finished_at else now,
            now=now,
        )
        try:
            # A Core insert: the ORM's unit of work cost more CPU than the rest of the
            # submission; the returned Response is a plain (transient) copy of the row.
            inserted = cast(CursorResult[Any], session.execute(_INSERT, values))
        except IntegrityError:
            # A concurrent post won the race (same submission id), or took this prompt
            # (another event report got the same number). Roll back this attempt; return
            # the stored response, or take the next event number.
            session.rollback()
            stored = _stored(session, person, submission_id)
            if stored is not None:
                return SubmitResult(stored, created=False)
            if values["kind"] == "event" and attempt < 3:
                continue
            raise ConflictError(
                "This questionnaire has already been answered for this moment.",
                code="already_answered",
            ) from None
        key = inserted.inserted_primary_key
        if files:
            session.execute(insert(cast(Table, Upload.__table__)), files)
        return SubmitResult(Response(id=key[0] if key else None, **values), created=True)


# The lean path's one read: who is asking (the person's own columns, the couple's, the
# study's protocol hash: the parsed protocol comes from the cache keyed by it) and the
# couple's responses, one row per response (one row with NULLs when there is none).
_MEMBER = aliased(Person)
_LEAN_READ = (
    select(
        Person.id,
        Person.tz,
        Person.language,
        Person.status,
        Person.consent_version,
        Couple.start_date,
        Couple.seed,
        Study.protocol_hash,
        *_SCHEDULE_COLUMNS,
    )
    .select_from(Person)
    .join(Couple, Couple.id == Person.couple_id)
    .join(Study, Study.id == Couple.study_id)
    .outerjoin(_MEMBER, _MEMBER.couple_id == Person.couple_id)
    .outerjoin(Response, Response.person_id == _MEMBER.id)
    .where(Person.token_hash == bindparam("token_hash"))
)
_LEAN_COLUMNS = (
    "person_id",
    "submission_id",
    "questionnaire",
    "answers",
    "prompt_key",
    "kind",
    "diary_day",
    "prompt_number",
    "scheduled_utc",
    "window_end_utc",
    "started_utc",
    "finished_utc",
    "received_utc",
    "tz",
    "local_time",
    "status",
)


class LeanStore(TypingProtocol):
    """The two database steps of :func:`submit_lean`."""

    def read(self, token_hash: str) -> Sequence[Sequence[Any]]:
        """The rows of :data:`_LEAN_READ` (times aware UTC, as the ORM gives them)."""
        ...

    def insert(self, values: dict[str, Any]) -> bool:
        """Store one response row (:func:`_new_row`) and commit; ``False`` when a unique
        constraint refused it (nothing stored)."""
        ...


class CoreStore:
    """:class:`LeanStore` on a SQLAlchemy Core connection (any backend)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def read(self, token_hash: str) -> Sequence[Sequence[Any]]:
        """See :class:`LeanStore`."""
        return self.conn.execute(_LEAN_READ, {"token_hash": token_hash}).all()

    def insert(self, values: dict[str, Any]) -> bool:
        """See :class:`LeanStore`."""
        try:
            self.conn.execute(_INSERT, values)
            self.conn.commit()
        except IntegrityError:
            self.conn.rollback()
            return False
        return True


class PsycopgStore:
    """:class:`LeanStore` on a psycopg 3 connection in autocommit mode: the statements
    of :class:`CoreStore`, compiled once by SQLAlchemy for PostgreSQL, run without its
    per-statement work (a quarter of the CPU). The values are bound as SQLAlchemy binds
    them: times as naive UTC (:class:`~dyadlab.platform.tables.UTCDateTime`), the
    answers as ``jsonb`` with :func:`json.dumps`."""

    def __init__(self, dbapi_connection: Any, dialect: Any) -> None:
        self.cursor = dbapi_connection.cursor()
        self.read_sql, self.insert_sql = _psycopg_sql(dialect)

    def read(self, token_hash: str) -> Sequence[Sequence[Any]]:
        """See :class:`LeanStore`."""
        self.cursor.execute(self.read_sql, {"token_hash": token_hash})
        rows = self.cursor.fetchall()
        return [
            (*row[:13], None if row[13] is None else row[13].replace(tzinfo=UTC), row[14])
            for row in rows
        ]

    def insert(self, values: dict[str, Any]) -> bool:
        """See :class:`LeanStore`."""
        from psycopg.errors import IntegrityError as PsycopgIntegrityError
        from psycopg.types.json import Jsonb

        bound = dict(values)
        bound["answers"] = Jsonb(values["answers"])
        for name in ("scheduled_utc", "window_end_utc", "started_utc", "finished_utc"):
            bound[name] = _naive_utc(values[name])
        bound["received_utc"] = _naive_utc(values["received_utc"])
        try:
            self.cursor.execute(self.insert_sql, bound)
        except PsycopgIntegrityError:
            return False
        return True


def _naive_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("UTCDateTime needs a timezone-aware datetime")
    return value.astimezone(UTC).replace(tzinfo=None)


@functools.cache
def _psycopg_sql(dialect: Any) -> tuple[str, str]:
    read = str(_LEAN_READ.compile(dialect=dialect))
    insert_sql = str(_INSERT.compile(dialect=dialect, column_keys=list(_LEAN_COLUMNS)))
    return read, insert_sql


def submit_lean(
    store: LeanStore,
    token: str,
    *,
    submission_id: uuid.UUID,
    questionnaire: str,
    answers: dict[str, Any],
    started_at: datetime | None,
    finished_at: datetime | None,
    now: datetime,
    grace_min: int,
    render: Callable[[dict[str, Any]], bytes],
) -> bytes | None:
    """The usual case of :func:`submit_response` (a new, valid, open answer) in two
    statements and no ORM objects.

    Reads the asker by ``token`` together with the couple's responses (one query),
    checks exactly what :func:`submit_response` checks, and stores the row with one
    ``INSERT`` that is committed (on PostgreSQL: flushed to the WAL) when it returns.

    Returns
    -------
    bytes or None
        ``render`` of the stored response (:func:`response_to_dict`'s shape; made
        before the insert, so nothing can fail after it), once it is committed. ``None``
        whenever anything is out of the ordinary -- an unknown token, no consent, a
        withdrawn person, a retry, an invalid or closed answer, a file upload, a
        protocol this process has not parsed yet, a lost race -- with nothing stored:
        the caller then runs :func:`submit_response`, which answers with its usual
        error or 200. The lean path never decides a refusal itself.
    """
    from dyadlab.platform.protocol import UPLOAD_TYPES, AnswerError
    from dyadlab.platform.services.studies import cached_protocol

    read = store.read(hash_token(token))
    if not read:
        return None
    person_id, tz, language, status, consent_version, start_date, seed, hashed = read[0][:8]
    protocol = cached_protocol(hashed)
    if status != "active" or consent_version is None or protocol is None:
        return None
    if questionnaire not in {q.name for q in protocol.questionnaires}:
        return None
    if any(item.type in UPLOAD_TYPES for item in protocol.questionnaire(questionnaire).items):
        return None
    try:
        check_times(started_at, finished_at, now)
        cleaned = protocol.validate_answers(questionnaire, answers, language=language)
        at = _effective_time(now, finished_at, grace_min)
    except (InvalidError, AnswerError):
        return None
    rows = [r[8:] for r in read if r[8] is not None]
    if any(r[0] == person_id and r[6] == submission_id for r in rows):
        return None  # a retry: answered 200 by the full path
    prompts = _open_now(protocol, person_id, tz, start_date, seed, at, rows, questionnaire)
    if not prompts:
        return None
    values = _new_row(
        person_id,
        tz,
        prompts[0],
        submission_id,
        questionnaire,
        cleaned,
        started_at=started_at,
        finished=at if finished_at else now,
        now=now,
    )
    body = render(response_to_dict(values))
    # A refusal by a unique constraint: a concurrent post of the same submission, or
    # of another event report for the same number; the full path settles it (200, or
    # the next number).
    return body if store.insert(values) else None


def _split_uploads(
    protocol: Any,
    questionnaire: str,
    cleaned: dict[str, Any],
    person: Person,
    submission_id: uuid.UUID,
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The answers with each file replaced by a reference, and the ``uploads`` rows."""
    from dyadlab.platform.protocol import UPLOAD_TYPES

    files: list[dict[str, Any]] = []
    out = dict(cleaned)
    for item in protocol.questionnaire(questionnaire).items:
        if item.type not in UPLOAD_TYPES or item.name not in out:
            continue
        given = out[item.name]
        upload_id = uuid.uuid4()
        reference = {k: given[k] for k in ("filename", "content_type", "size", "sha256")}
        out[item.name] = {"upload": str(upload_id), **reference}
        files.append(
            {
                "id": upload_id,
                "person_id": person.id,
                "submission_id": submission_id,
                "item": item.name,
                "data": base64.b64decode(given["data"]),
                "created_at": now,
                **reference,
            }
        )
    return out, files


def _not_open_message(kind: str | None) -> str:
    if kind == "event":
        return (
            "You have reached today's number of reports for this questionnaire. "
            "Your answers were not stored."
        )
    return (
        "This questionnaire is not open now: its answer window has closed or has not "
        "opened yet. Your answers were not stored."
    )


def _new_row(
    person_id: int,
    tz: str,
    prompt: Any,
    submission_id: uuid.UUID,
    questionnaire: str,
    answers: dict[str, Any],
    *,
    started_at: datetime | None,
    finished: datetime,
    now: datetime,
) -> dict[str, Any]:
    late = prompt.window_end_utc is not None and now > prompt.window_end_utc
    return dict(
        person_id=person_id,
        submission_id=submission_id,
        questionnaire=questionnaire,
        answers=answers,
        prompt_key=prompt.key,
        kind=prompt.kind,
        diary_day=prompt.diary_day,
        prompt_number=prompt.prompt_number,
        scheduled_utc=prompt.scheduled_utc if prompt.kind != "event" else None,
        window_end_utc=prompt.window_end_utc,
        started_utc=started_at,
        finished_utc=finished,
        received_utc=now,
        tz=tz,
        local_time=finished.astimezone(ZoneInfo(tz)).replace(tzinfo=None),
        status="late" if late else "completed",
    )


def list_responses(session: Session, person: Person) -> list[Response]:
    """The person's own responses, oldest first."""
    return list(
        session.scalars(
            select(Response)
            .where(Response.person_id == person.id)
            .order_by(Response.finished_utc, Response.id)
        )
    )


def get_response(session: Session, person: Person, submission_id: str) -> Response | None:
    """The person's own response with this submission id, else ``None``.

    Someone else's response and a malformed id give ``None`` exactly like a missing one;
    the same query runs in every case.
    """
    try:
        wanted = uuid.UUID(submission_id)
    except ValueError:
        wanted = uuid.UUID(int=0)
    return _stored(session, person, wanted)


def study_uploads(session: Session, study_id: int, *, limit: int = 200) -> list[dict[str, Any]]:
    """The newest ``limit`` uploaded files of a study, without their bytes: ``id, couple,
    person, item, filename, size, received`` (newest first)."""
    rows = session.execute(
        select(
            Upload.id,
            Couple.id,
            Person.id,
            Upload.item,
            Upload.filename,
            Upload.size,
            Upload.created_at,
        )
        .join(Person, Person.id == Upload.person_id)
        .join(Couple, Couple.id == Person.couple_id)
        .where(Couple.study_id == study_id)
        .order_by(Upload.created_at.desc(), Upload.id)
        .limit(limit)
    ).all()
    keys = ("id", "couple", "person", "item", "filename", "size", "received")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def upload_in_study(session: Session, study_id: int, upload_id: str) -> Upload | None:
    """The uploaded file ``upload_id`` if a participant of ``study_id`` gave it, else
    ``None`` -- also for a malformed id or a file of another study (the same query runs
    in every case)."""
    try:
        wanted = uuid.UUID(upload_id)
    except ValueError:
        wanted = uuid.UUID(int=0)
    return session.scalars(
        select(Upload)
        .join(Person, Person.id == Upload.person_id)
        .join(Couple, Couple.id == Person.couple_id)
        .where(Upload.id == wanted, Couple.study_id == study_id)
    ).first()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def response_to_dict(row: Response | Mapping[str, Any]) -> dict[str, Any]:
    """The participant API's JSON for one response (a text stored before the input
    checks with a character no JSON encoder writes shows U+FFFD in its place).

    ``redacted_items`` (answers about the partner removed after the partner's withdrawal
    with deletion) is left out: it would tell the person that their partner withdrew."""
    if isinstance(row, Mapping):  # a new row's values (:func:`_new_row`)
        return _values_to_dict(row)
    return _values_to_dict(
        {
            "submission_id": row.submission_id,
            "questionnaire": row.questionnaire,
            "answers": row.answers,
            "prompt_key": row.prompt_key,
            "diary_day": row.diary_day,
            "prompt_number": row.prompt_number,
            "scheduled_utc": row.scheduled_utc,
            "started_utc": row.started_utc,
            "finished_utc": row.finished_utc,
            "received_utc": row.received_utc,
            "tz": row.tz,
            "local_time": row.local_time,
            "status": row.status,
        }
    )


def _values_to_dict(values: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`response_to_dict` of a response's column values (as :func:`_new_row`)."""
    return {
        "submission_id": str(values["submission_id"]),
        "questionnaire": values["questionnaire"],
        "answers": readable(values["answers"]),
        "prompt_key": values["prompt_key"],
        "diary_day": values["diary_day"],
        "prompt_number": values["prompt_number"],
        "scheduled_at": _iso(values["scheduled_utc"]),
        "started_at": _iso(values["started_utc"]),
        "finished_at": _iso(values["finished_utc"]),
        "received_at": _iso(values["received_utc"]),
        "tz": values["tz"],
        "local_time": values["local_time"].isoformat(),
        "status": values["status"],
    }
