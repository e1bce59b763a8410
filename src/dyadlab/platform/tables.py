"""The platform's database tables (SQLAlchemy 2 declarative, typed).

Every change to these classes needs an Alembic migration in ``migrations/versions``
(``tests/platform/test_migrations.py`` fails when the models and the migrations differ).

Times are stored in UTC without an offset (:class:`UTCDateTime` converts on the way in
and attaches UTC on the way out), so SQLite and PostgreSQL give identical values.

Privacy
-------
``persons.token_hash`` is the SHA-256 of the participant's secret. The secret is 256 random
bits (``secrets.token_urlsafe(32)``), so a plain fast hash is enough: there is nothing to
guess, and a leaked database does not reveal the links. The secret itself is shown once, at
invitation, and never stored or logged.

Append-only tables: ``consent_events`` and ``audit_log`` refuse UPDATE and DELETE through
the ORM (see :func:`_refuse_change`).

Examples
--------
>>> {"analysis_runs", "audit_log", "consent_events", "couples"} <= set(Base.metadata.tables)
True
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column

__all__ = [
    "AnalysisRun",
    "AuditLog",
    "Base",
    "ConsentEvent",
    "Couple",
    "CoupleRatingSession",
    "Delivery",
    "HistoryCalendarDay",
    "HistoryEdit",
    "HistoryEpisode",
    "HistoryInterview",
    "HistoryLandmark",
    "HistoryMilestone",
    "HistoryPartner",
    "Person",
    "PushSubscription",
    "RatingBatch",
    "RatingMarker",
    "RatingSample",
    "Researcher",
    "Response",
    "Study",
    "StudyMember",
    "UTCDateTime",
    "Upload",
    "utcnow",
]

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned as aware UTC.

    Naive datetimes are refused on the way in: every time the platform stores is an
    instant, and a naive one would be ambiguous.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs a timezone-aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints."""

    metadata = MetaData(naming_convention=NAMING)


class Researcher(Base):
    """A researcher account.

    ``role`` is what the account may do on the server: ``admin`` (manage accounts and
    create studies), ``owner`` (create studies) or ``analyst`` (work only in the studies
    it is a member of). What it may do in one study is its :class:`StudyMember` role.
    """

    __tablename__ = "researchers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Raised by every logout: session tokens carry the version they were made with, and
    # a token with an older version is refused (migration 0002).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Study(Base):
    """A study: its protocol (as parsed JSON) and the protocol's content hash."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    protocol: Mapped[dict[str, Any]] = mapped_column(JSONType)
    protocol_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("researchers.id", ondelete="SET NULL"), nullable=True
    )


class StudyMember(Base):
    """A researcher's role in one study: ``owner``, ``collaborator``, ``analyst`` or
    ``monitor`` (what each may do: :mod:`dyadlab.platform.services.access`).

    A researcher who is not a member of a study cannot see that it exists. The creator
    of a study is its first owner (migration 0004 made each existing study's creator its
    owner).
    """

    __tablename__ = "study_members"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True
    )
    researcher_id: Mapped[int] = mapped_column(
        ForeignKey("researchers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("researchers.id", ondelete="SET NULL"), nullable=True
    )


class Couple(Base):
    """A couple (dyad) in a study; both partners share ``start_date`` (diary day 1)."""

    __tablename__ = "couples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    seed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Person(Base):
    """A participant. ``status``: ``invited``, ``active`` (consented) or ``withdrawn``."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id", ondelete="CASCADE"), index=True)
    role: Mapped[str | None] = mapped_column(String(64), nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tz: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="invited")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    consent_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    data_deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentEvent(Base):
    """Append-only log of consent (``kind='consent'``) and withdrawal (``'withdraw'``)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delete_data: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Response(Base):
    """One submitted questionnaire.

    ``submission_id`` is made by the client and unique per person (a retry finds the
    stored row); ``prompt_key`` is unique per person (one answer per prompt).
    ``redacted_items`` lists ``about: partner`` items removed because the partner
    withdrew and asked for deletion.
    """

    __tablename__ = "responses"
    __table_args__ = (
        UniqueConstraint("person_id", "submission_id", name="uq_responses_person_submission"),
        UniqueConstraint("person_id", "prompt_key", name="uq_responses_person_prompt"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    questionnaire: Mapped[str] = mapped_column(String(128))
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType)
    prompt_key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    diary_day: Mapped[int] = mapped_column(Integer)
    prompt_number: Mapped[int] = mapped_column(Integer)
    scheduled_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    tz: Mapped[str] = mapped_column(String(64))
    local_time: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    status: Mapped[str] = mapped_column(String(16), default="completed")
    redacted_items: Mapped[list[str] | None] = mapped_column(JSONType, nullable=True)


class Delivery(Base):
    """A reminder sent (or being sent). Unique per person, prompt, offset and channel, so a
    restarted scheduler never sends one twice."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "person_id", "prompt_key", "offset_minutes", "channel", name="uq_deliveries_once"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    prompt_key: Mapped[str] = mapped_column(String(128))
    offset_minutes: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16), default="email")
    due_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="sending")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class PushSubscription(Base):
    """A browser's Web Push subscription for reminders (``PushSubscription.toJSON()``).

    ``endpoint`` is the push service's address for one browser on one device (unique:
    storing it again replaces the row); ``p256dh`` and ``auth`` are the browser's keys
    that the payload is encrypted for. A person may have several (phone, laptop). The
    rows are deleted with the person's data on withdrawal, and when the push service
    answers that the subscription is gone (404 or 410)."""

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(256))
    auth: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CoupleRatingSession(Base):
    """A couple's continuous-rating session (a protocol's ``rating_sessions`` entry, run once).

    Started by either partner; the other partner joins the same row while it runs
    (``stopped_utc`` is null and ``ends_utc``, the start plus the protocol's
    ``max_minutes``, has not passed). Each partner's samples are their own rows of
    :class:`RatingSample`; the markers (:class:`RatingMarker`) are common to both.
    """

    __tablename__ = "rating_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    couple_id: Mapped[int] = mapped_column(ForeignKey("couples.id", ondelete="CASCADE"), index=True)
    rating: Mapped[str] = mapped_column(String(128))
    started_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RatingMarker(Base):
    """A moment of a rating session common to both partners: ``start``, ``stop`` or a
    ``stimulus`` event (``label`` names it), with who set it (``source``: ``partner``,
    ``researcher``, ``timeout``, or ``chapters``: a stimulus chapter of the protocol,
    written when the researcher starts the session, possibly for a later time)."""

    __tablename__ = "rating_markers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("rating_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(16))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class RatingBatch(Base):
    """One upload of samples from a partner's phone.

    ``batch_id`` is made by the phone and unique per person (a repeated upload finds
    the stored row and stores nothing). ``clock_offset_ms`` is the phone's estimate of
    the server's clock minus its own (``performance.timeOrigin + performance.now()``),
    made NTP-style at ``clock_at_ms`` (device time) with round-trip time ``clock_rtt_ms``.
    """

    __tablename__ = "rating_batches"
    __table_args__ = (
        UniqueConstraint("person_id", "batch_id", name="uq_rating_batches_person_batch"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("rating_sessions.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    n_samples: Mapped[int] = mapped_column(Integer)
    received_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    clock_offset_ms: Mapped[float | None] = mapped_column(Double(), nullable=True)
    clock_rtt_ms: Mapped[float | None] = mapped_column(Double(), nullable=True)
    clock_at_ms: Mapped[float | None] = mapped_column(Double(), nullable=True)


class RatingSample(Base):
    """One sampled value: ``device_ms`` on the phone's clock, aligned to the server's at
    export (:mod:`dyadlab.platform.services.ratings`)."""

    __tablename__ = "rating_samples"
    __table_args__ = (Index("ix_rating_samples_session_person", "session_id", "person_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    batch_pk: Mapped[int] = mapped_column(
        ForeignKey("rating_batches.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("rating_sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    device_ms: Mapped[float] = mapped_column(Double())
    value: Mapped[float] = mapped_column(Double())


class Upload(Base):
    """A file given as the answer to an ``image``, ``audio`` or ``file`` item (XLSForm).

    The response's answer holds a reference (``upload``: this id, ``filename``,
    ``content_type``, ``size``, ``sha256``); the bytes are kept here, at most
    :data:`~dyadlab.platform.protocol.MAX_UPLOAD_BYTES` each. Only the person who gave
    the file and the study's researchers (through the export's reference) reach it; the
    rows go with the person's responses on withdrawal with deletion."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(Uuid(), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    item: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditLog(Base):
    """Append-only record of logins, exports, withdrawals and deletions."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(32), index=True)
    researcher_id: Mapped[int | None] = mapped_column(
        ForeignKey("researchers.id", ondelete="SET NULL"), nullable=True
    )
    study_id: Mapped[int | None] = mapped_column(
        ForeignKey("studies.id", ondelete="SET NULL"), nullable=True
    )
    subject: Mapped[str | None] = mapped_column(String(320), nullable=True)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class AnalysisRun(Base):
    """One run of a study's analysis plan from the researcher's "Analyses" page.

    ``status`` is ``queued``, ``running``, ``done`` or ``failed``; ``done`` of ``total``
    steps are finished (the export, then each model), ``step`` names the current one.
    ``report`` is the finished HTML report; ``message`` says why a run failed. The run
    lives in the database, so its page survives a reload and any server process can
    show it (:mod:`dyadlab.platform.services.analysis_runs`).
    """

    __tablename__ = "analysis_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    researcher_id: Mapped[int | None] = mapped_column(
        ForeignKey("researchers.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=1)
    step: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    protocol_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    report: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)


class HistoryInterview(Base):
    """A relational and sexual history interview of one participant (the respondent).

    One per person. ``birth`` is the respondent's birth month (``YYYY-MM``, for ages and
    age-dated answers), ``language`` the language of the interview pages (``en``,
    ``nl``). Its landmarks, partners, episodes, milestones and edit log are deleted with
    it (withdrawal with deletion: :mod:`dyadlab.platform.services.withdrawal`).
    """

    __tablename__ = "history_interviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), unique=True
    )
    language: Mapped[str] = mapped_column(String(8))
    birth: Mapped[str | None] = mapped_column(String(7), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_by: Mapped[int | None] = mapped_column(
        ForeignKey("researchers.id", ondelete="SET NULL"), nullable=True
    )


class HistoryLandmark(Base):
    """A recall anchor: a school year, a move, a job, … (``kind``), from ``start_value``
    to ``end_value`` (fuzzy dates: :mod:`dyadlab.platform.services.history_dates`)."""

    __tablename__ = "history_landmarks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("history_interviews.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(120))
    start_value: Mapped[str] = mapped_column(String(16))
    start_precision: Mapped[str] = mapped_column(String(8))
    end_value: Mapped[str | None] = mapped_column(String(16), nullable=True)
    end_precision: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HistoryPartner(Base):
    """A partner on the respondent's roster: a number (1, 2, … per interview) and a
    pseudonym — never a name."""

    __tablename__ = "history_partners"
    __table_args__ = (
        UniqueConstraint("interview_id", "number", name="uq_history_partners_interview_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("history_interviews.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    pseudonym: Mapped[str] = mapped_column(String(40))
    gender: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HistoryEpisode(Base):
    """One spell of a relationship with one partner, of one ``type``.

    A change of type is a new spell: the old one ends and a new one starts, pointing back
    with ``previous_id``. Episodes may overlap (concurrency is allowed). ``end_value`` is
    empty while ``ongoing``.
    """

    __tablename__ = "history_episodes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("history_interviews.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(
        ForeignKey("history_partners.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(16))
    start_value: Mapped[str] = mapped_column(String(16))
    start_precision: Mapped[str] = mapped_column(String(8))
    end_value: Mapped[str | None] = mapped_column(String(16), nullable=True)
    end_precision: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ongoing: Mapped[bool] = mapped_column(Boolean, default=False)
    certainty: Mapped[int] = mapped_column(Integer)
    exclusivity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cohabitation: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("history_episodes.id", ondelete="SET NULL"), nullable=True
    )
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HistoryMilestone(Base):
    """A milestone (first kiss, first intercourse, "I love you", moving in, break-up, …),
    with a partner or without one."""

    __tablename__ = "history_milestones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("history_interviews.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("history_partners.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    when_value: Mapped[str] = mapped_column(String(16))
    when_precision: Mapped[str] = mapped_column(String(8))
    certainty: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HistoryCalendarDay(Base):
    """One cell of the Timeline Followback calendar: the number of sexual contacts on
    ``day`` with partner ``partner_id`` (None: someone not on the roster). Days without
    a row had none."""

    __tablename__ = "history_tlfb_days"
    __table_args__ = (
        UniqueConstraint("interview_id", "day", "partner_id", name="uq_history_tlfb_days_cell"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("history_interviews.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    partner_id: Mapped[int | None] = mapped_column(
        ForeignKey("history_partners.id", ondelete="CASCADE"), nullable=True
    )
    contacts: Mapped[int] = mapped_column(Integer)


class HistoryEdit(Base):
    """Every change to an interview: who (``researcher_id``), when (``at``), why
    (``reason``), and the row before and after (``before``, ``after``; JSON).

    Rows are never changed (UPDATE is refused); they are deleted only with their
    interview, when the respondent withdraws and asks for deletion.
    """

    __tablename__ = "history_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        ForeignKey("history_interviews.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    researcher_id: Mapped[int | None] = mapped_column(
        ForeignKey("researchers.id", ondelete="SET NULL"), nullable=True
    )
    entity: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


def _refuse_change(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are append-only")


for _cls in (ConsentEvent, AuditLog):
    event.listen(_cls, "before_update", _refuse_change)
    event.listen(_cls, "before_delete", _refuse_change)
event.listen(HistoryEdit, "before_update", _refuse_change)
