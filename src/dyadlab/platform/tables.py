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
>>> sorted(Base.metadata.tables)[:3]
['audit_log', 'consent_events', 'couples']
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
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
    "Delivery",
    "Person",
    "PushSubscription",
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


def _refuse_change(mapper: Mapper[Any], connection: Any, target: Any) -> None:
    raise RuntimeError(f"{type(target).__name__} rows are append-only")


for _cls in (ConsentEvent, AuditLog):
    event.listen(_cls, "before_update", _refuse_change)
    event.listen(_cls, "before_delete", _refuse_change)
