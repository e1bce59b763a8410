"""Studies: create one from a protocol, list them, get one and its parsed protocol.

Examples
--------
>>> from dyadlab.platform.db import make_engine, make_sessionmaker, upgrade_database
>>> from dyadlab.platform.protocol import load_protocol
>>> engine = make_engine("sqlite://"); upgrade_database(engine)
>>> with make_sessionmaker(engine)() as session:  # doctest: +SKIP
...     study = create_study(session, load_protocol("daily_diary.yaml"))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dyadlab.platform.errors import NotFoundError
from dyadlab.platform.tables import Couple, Person, Response, Study, StudyMember, utcnow

if TYPE_CHECKING:
    from dyadlab.platform.protocol import Protocol

__all__ = [
    "StudySummary",
    "cached_protocol",
    "create_study",
    "get_study",
    "list_studies",
    "study_protocol",
    "study_summary",
]

_PROTOCOLS: dict[str, Protocol] = {}


def create_study(session: Session, protocol: Protocol, *, created_by: int | None = None) -> Study:
    """Store a new study with its protocol (JSON) and the protocol's content hash.

    The researcher ``created_by`` becomes the study's owner (a
    :class:`~dyadlab.platform.tables.StudyMember`); a study made without one (the
    command line) has no member until one is added (``dyadlab study member add``).
    """
    study = Study(
        title=protocol.title,
        protocol=protocol.to_dict(),
        protocol_hash=protocol.content_hash,
        created_by=created_by,
    )
    session.add(study)
    session.flush()
    if created_by is not None:
        session.add(
            StudyMember(
                study_id=study.id,
                researcher_id=created_by,
                role="owner",
                added_at=utcnow(),
                added_by=created_by,
            )
        )
        session.flush()
    _PROTOCOLS[study.protocol_hash] = protocol
    return study


def get_study(session: Session, study_id: int) -> Study:
    """The study with id ``study_id``; :class:`NotFoundError` if there is none."""
    study = session.get(Study, study_id)
    if study is None:
        raise NotFoundError(f"There is no study {study_id}.")
    return study


def study_protocol(study: Study) -> Protocol:
    """The parsed protocol of ``study`` (parsed once per content hash, then cached)."""
    cached = _PROTOCOLS.get(study.protocol_hash)
    if cached is None:
        from dyadlab.platform.protocol import parse_protocol

        cached = parse_protocol(study.protocol)
        if len(_PROTOCOLS) > 256:
            _PROTOCOLS.clear()
        _PROTOCOLS[study.protocol_hash] = cached
    return cached


def cached_protocol(protocol_hash: str) -> Protocol | None:
    """The parsed protocol with this content hash if this process has parsed it already
    (:func:`study_protocol`), else ``None``. Keyed by the content, so it cannot be stale.

    Examples
    --------
    >>> cached_protocol("0" * 64) is None
    True
    """
    return _PROTOCOLS.get(protocol_hash)


@dataclass(frozen=True)
class StudySummary:
    """A study with its counts of couples, persons and responses."""

    study: Study
    n_couples: int
    n_persons: int
    n_responses: int


def list_studies(
    session: Session, *, member: int | None = None, study_id: int | None = None
) -> list[StudySummary]:
    """Every study, oldest first, with counts; with ``member``, only the studies that
    researcher is a member of; with ``study_id``, only that study."""
    couples = (
        select(Couple.study_id, func.count(Couple.id).label("n"))
        .group_by(Couple.study_id)
        .subquery()
    )
    persons = (
        select(Couple.study_id, func.count(Person.id).label("n"))
        .join(Person, Person.couple_id == Couple.id)
        .group_by(Couple.study_id)
        .subquery()
    )
    responses = (
        select(Couple.study_id, func.count(Response.id).label("n"))
        .join(Person, Person.couple_id == Couple.id)
        .join(Response, Response.person_id == Person.id)
        .group_by(Couple.study_id)
        .subquery()
    )
    query = (
        select(Study, couples.c.n, persons.c.n, responses.c.n)
        .outerjoin(couples, couples.c.study_id == Study.id)
        .outerjoin(persons, persons.c.study_id == Study.id)
        .outerjoin(responses, responses.c.study_id == Study.id)
        .order_by(Study.id)
    )
    if study_id is not None:
        query = query.where(Study.id == study_id)
    if member is not None:
        query = query.join(StudyMember, StudyMember.study_id == Study.id).where(
            StudyMember.researcher_id == member
        )
    rows = session.execute(query).all()
    return [StudySummary(s, int(c or 0), int(p or 0), int(r or 0)) for s, c, p, r in rows]


def study_summary(session: Session, study_id: int) -> StudySummary:
    """The counts of one study; :class:`NotFoundError` if there is none."""
    for summary in list_studies(session, study_id=study_id):
        return summary
    raise NotFoundError(f"There is no study {study_id}.")
