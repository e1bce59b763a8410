"""The relational and sexual history interview: storing, checking and exporting it.

An interviewer (a study member whose role allows ``interview``:
:mod:`dyadlab.platform.services.access`) interviews one participant of the study — the
respondent. The interview holds, in the order the pages ask for them:

1. **landmarks** — school years, moves, jobs: anchors for recall;
2. the **partner roster** — a number and a pseudonym per partner, never a name
   (:func:`pseudonym_problem` refuses what looks like a full name, an e-mail address
   or a phone number);
3. **episodes** per partner — a spell of one type (:data:`EPISODE_TYPES`) from a start
   to an end or ongoing, with fuzzy dates (:mod:`.history_dates`), certainty 1–5,
   exclusivity and cohabitation, and notes. A change of type is a new spell
   (:func:`change_type`); episodes may overlap;
4. **milestones** (:data:`MILESTONES`), with a partner or without.

Every change — adding, editing, deleting — writes a :class:`~dyadlab.platform.tables.
HistoryEdit` row with who, when, why (required for edits and deletions) and the row
before and after. :func:`probes` lists what the interviewer should ask about:
impossible orders are refused when saving, everything else (an age below 12, a gap of
a year or more, overlapping episodes, a milestone outside every episode with that
partner) is a question, not an error.

Privacy: the interview is seen by the study's members whose role allows ``interview``
(and exported by those allowed ``export``), never by the participants; a withdrawal
with deletion deletes it (:func:`delete_interviews`).

Examples
--------
>>> pseudonym_problem("Jan de Vries")
'looks like a full name; use a pseudonym or initials (e.g. P1, the neighbour, J.)'
>>> pseudonym_problem("the neighbour") is None
True
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dyadlab.exceptions import DyadlabError
from dyadlab.history.episodes import COLUMNS
from dyadlab.platform._inputs import readable, text_problem
from dyadlab.platform.services.history_dates import (
    FuzzyDate,
    FuzzyDateError,
    parse_birth,
    parse_when,
    stored,
)
from dyadlab.platform.tables import (
    Couple,
    HistoryCalendarDay,
    HistoryEdit,
    HistoryEpisode,
    HistoryInterview,
    HistoryLandmark,
    HistoryMilestone,
    HistoryPartner,
    Person,
    utcnow,
)

__all__ = [
    "EPISODE_TYPES",
    "EXCLUSIVITY",
    "EXPORT_COLUMNS",
    "GENDERS",
    "LANDMARK_KINDS",
    "MILESTONES",
    "HistoryInputError",
    "Interview",
    "Probe",
    "add_item",
    "change_type",
    "delete_interviews",
    "edit_log",
    "export_csv",
    "export_more",
    "export_rows",
    "interview_persons",
    "load_interview",
    "probes",
    "pseudonym_problem",
    "remove_item",
    "start_interview",
    "update_interview",
    "update_item",
]

EPISODE_TYPES: tuple[str, ...] = (
    "romantic",
    "dating",
    "fwb",
    "casual",
    "one_time",
    "online",
    "other",
)
LANDMARK_KINDS: tuple[str, ...] = ("school", "move", "job", "other")
MILESTONES: tuple[str, ...] = (
    "first_kiss",
    "first_petting",
    "first_oral_sex",
    "first_intercourse",
    "first_anal_sex",
    "first_sexting",
    "said_i_love_you",
    "moving_in",
    "engagement",
    "break_up",
    "other",
)
EXCLUSIVITY: tuple[str, ...] = ("exclusive", "open", "unclear")
GENDERS: tuple[str, ...] = ("woman", "man", "non_binary", "other")
ENTITIES: tuple[str, ...] = ("landmark", "partner", "episode", "milestone")
#: The columns of the episodes CSV (the contract ``dyadlab.history`` reads).
EXPORT_COLUMNS: tuple[str, ...] = COLUMNS
#: Younger than this at an episode's start or a milestone: a question to ask.
YOUNG_AGE = 12
#: A time without any episode of at least this many days between two: a question.
GAP_DAYS = 365
MAX_NOTES = 5000
_NAME_WORD = r"[A-ZÀ-Þ][a-zà-ÿ'’-]+"
_PARTICLES = r"(?:van|de|der|den|het|ter|ten|von|da|di|le|la|du|del|al|el|bin|ibn|'t)"


class HistoryInputError(DyadlabError, ValueError):
    """A field of an interview form that cannot be stored: ``field`` names it,
    ``message`` says what is wrong (English); ``key`` and ``values`` name the same
    message for the pages, which show it in the interview's language
    (:data:`dyadlab.platform.history_i18n.HISTORY_MESSAGES`, key ``err_<key>``)."""

    def __init__(self, field_name: str, message: str, key: str = "", **values: Any) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message
        self.key = key
        self.values = values


def pseudonym_problem(text: str) -> str | None:
    """What is wrong with a partner's pseudonym, or None.

    A pseudonym is refused when it looks like a full name (two or more capitalised
    words, optionally with particles such as *van der*), an e-mail address or a phone
    number. This catches the obvious slip, not every name: a single first name cannot
    be told from a pseudonym, so the interviewer's instructions say to use initials or
    a description (*P1*, *J.*, *the neighbour*).
    """
    value = text.strip()
    if not value:
        return "is required"
    if len(value) > 40:
        return "is longer than 40 characters"
    bad = text_problem(value)
    if bad:
        return bad
    if "@" in value:
        return "looks like an e-mail address; use a pseudonym"
    if len(re.sub(r"\D", "", value)) >= 6:
        return "looks like a phone number; use a pseudonym"
    name = rf"{_NAME_WORD}(?:\s+(?:{_PARTICLES}\s+)*{_NAME_WORD})+"
    if re.fullmatch(name, value):
        return "looks like a full name; use a pseudonym or initials (e.g. P1, the neighbour, J.)"
    return None


def _pseudonym_key(problem: str) -> str:
    """The message key of a :func:`pseudonym_problem`."""
    for words, key in (
        ("full name", "pseudonym_name"),
        ("e-mail", "pseudonym_contact"),
        ("phone", "pseudonym_contact"),
        ("required", "required"),
        ("longer than", "too_long"),
    ):
        if words in problem:
            return key
    return "bad_text"


@dataclass(frozen=True)
class Probe:
    """A consistency question for the interviewer: ``kind`` (``young``, ``gap``,
    ``overlap``, ``same_partner_overlap``, ``milestone_outside``), the ids of the rows
    concerned (``refs``, as ``episode:12``), and the values the message needs."""

    kind: str
    refs: tuple[str, ...]
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Interview:
    """An interview with its rows, each paired with its fuzzy dates."""

    row: HistoryInterview
    person: Person
    landmarks: list[tuple[HistoryLandmark, FuzzyDate, FuzzyDate | None]]
    partners: list[HistoryPartner]
    episodes: list[tuple[HistoryEpisode, FuzzyDate, FuzzyDate | None]]
    milestones: list[tuple[HistoryMilestone, FuzzyDate]]
    edits: int

    def partner(self, partner_id: int) -> HistoryPartner | None:
        """The roster entry ``partner_id``."""
        return next((p for p in self.partners if p.id == partner_id), None)


# --------------------------------------------------------------------------- reading
def _dates(
    value: str, precision: str, end: str | None, end_precision: str | None, birth: str | None
) -> tuple[FuzzyDate, FuzzyDate | None]:
    start = stored(value, precision, birth=birth)
    stop = stored(end, end_precision or "", birth=birth) if end else None
    return start, stop


def load_interview(session: Session, study_id: int, person_id: int) -> Interview | None:
    """The interview of person ``person_id`` of study ``study_id``, or None."""
    row = session.scalars(
        select(HistoryInterview).where(
            HistoryInterview.study_id == study_id, HistoryInterview.person_id == person_id
        )
    ).first()
    if row is None:
        return None
    person = session.get(Person, person_id)
    assert person is not None  # the foreign key holds
    birth = row.birth
    landmarks = session.scalars(
        select(HistoryLandmark).where(HistoryLandmark.interview_id == row.id)
    ).all()
    partners = session.scalars(
        select(HistoryPartner)
        .where(HistoryPartner.interview_id == row.id)
        .order_by(HistoryPartner.number)
    ).all()
    episodes = session.scalars(
        select(HistoryEpisode).where(HistoryEpisode.interview_id == row.id)
    ).all()
    milestones = session.scalars(
        select(HistoryMilestone).where(HistoryMilestone.interview_id == row.id)
    ).all()
    edits = session.scalar(
        select(func.count()).select_from(HistoryEdit).where(HistoryEdit.interview_id == row.id)
    )
    dated_landmarks = [
        (lm, *_dates(lm.start_value, lm.start_precision, lm.end_value, lm.end_precision, birth))
        for lm in landmarks
    ]
    dated_episodes = [
        (ep, *_dates(ep.start_value, ep.start_precision, ep.end_value, ep.end_precision, birth))
        for ep in episodes
    ]
    order = {p.id: p.number for p in partners}
    return Interview(
        row=row,
        person=person,
        landmarks=sorted(dated_landmarks, key=lambda t: (t[1].earliest, t[0].id)),
        partners=list(partners),
        episodes=sorted(
            dated_episodes, key=lambda t: (order.get(t[0].partner_id, 0), t[1].earliest, t[0].id)
        ),
        milestones=sorted(
            ((m, stored(m.when_value, m.when_precision, birth=birth)) for m in milestones),
            key=lambda t: (t[1].earliest, t[0].id),
        ),
        edits=int(edits or 0),
    )


def interview_persons(session: Session, study_id: int) -> list[tuple[Person, int | None]]:
    """Every person of the study with the id of their interview (None: not started)."""
    rows = session.execute(
        select(Person, HistoryInterview.id)
        .join(Couple, Couple.id == Person.couple_id)
        .outerjoin(HistoryInterview, HistoryInterview.person_id == Person.id)
        .where(Couple.study_id == study_id)
        .order_by(Person.couple_id, Person.id)
    ).all()
    return [(person, interview_id) for person, interview_id in rows]


# --------------------------------------------------------------------------- writing
def _snapshot(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in row.__table__.columns:
        value = getattr(row, column.name)
        if isinstance(value, datetime | date):
            value = value.isoformat()
        out[column.name] = value
    return out


def _log(
    session: Session,
    interview: HistoryInterview,
    entity: str,
    entity_id: int,
    action: str,
    *,
    by: int | None,
    reason: str | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        HistoryEdit(
            interview_id=interview.id,
            at=utcnow(),
            researcher_id=by,
            entity=entity,
            entity_id=entity_id,
            action=action,
            reason=reason or None,
            before=before,
            after=after,
        )
    )


def start_interview(
    session: Session,
    study_id: int,
    person: Person,
    *,
    by: int | None,
    birth: str = "",
    language: str = "",
) -> HistoryInterview:
    """Start (or return) the interview of ``person``; ``birth`` is ``YYYY-MM`` or empty.

    The caller has checked that the person belongs to the study. Raises
    :class:`HistoryInputError` for a birth month it cannot read.
    """
    found = session.scalars(
        select(HistoryInterview).where(HistoryInterview.person_id == person.id)
    ).first()
    if found is not None:
        return found
    row = HistoryInterview(
        study_id=study_id,
        person_id=person.id,
        language=language if language in ("en", "nl") else person.language,
        birth=_birth(birth),
        started_at=utcnow(),
        started_by=by,
    )
    session.add(row)
    session.flush()
    _log(
        session,
        row,
        "interview",
        row.id,
        "create",
        by=by,
        reason=None,
        before=None,
        after=_snapshot(row),
    )
    return row


def _birth(text: str) -> str | None:
    if not text.strip():
        return None
    try:
        return parse_birth(text)
    except FuzzyDateError as exc:
        raise HistoryInputError("birth", str(exc), "birth") from None


def update_interview(
    session: Session,
    interview: HistoryInterview,
    *,
    by: int | None,
    birth: str,
    language: str,
    reason: str = "",
) -> None:
    """Change the respondent's birth month or the interview's language (logged)."""
    before = _snapshot(interview)
    new_birth = _birth(birth)
    if language in ("en", "nl"):
        interview.language = language
    if new_birth != interview.birth:
        uses_age = session.scalar(
            select(func.count())
            .select_from(HistoryEpisode)
            .where(HistoryEpisode.interview_id == interview.id)
            .where(
                (HistoryEpisode.start_precision == "age") | (HistoryEpisode.end_precision == "age")
            )
        )
        if new_birth is None and uses_age:
            raise HistoryInputError(
                "birth",
                "Episodes are dated by age; the birth month cannot be removed.",
                "birth_needed",
            )
        interview.birth = new_birth
    session.flush()
    _log(
        session,
        interview,
        "interview",
        interview.id,
        "update",
        by=by,
        reason=reason,
        before=before,
        after=_snapshot(interview),
    )


def _text(form: Mapping[str, str], name: str) -> str:
    return (form.get(name) or "").strip()


def _choice(
    form: Mapping[str, str], name: str, options: tuple[str, ...], *, required: bool
) -> str | None:
    value = _text(form, name)
    if not value:
        if required:
            raise HistoryInputError(name, f"{name}: choose one of {', '.join(options)}.", "choose")
        return None
    if value not in options:
        raise HistoryInputError(
            name, f"{name}: {value!r} is not one of {', '.join(options)}.", "choose"
        )
    return value


def _free_text(form: Mapping[str, str], name: str, limit: int, *, required: bool) -> str | None:
    value = _text(form, name)
    if not value:
        if required:
            raise HistoryInputError(name, f"{name}: this field is required.", "required")
        return None
    if len(value) > limit:
        raise HistoryInputError(
            name,
            f"{name}: at most {limit} characters ({len(value)} given).",
            "too_long",
            limit=limit,
        )
    problem = text_problem(value)
    if problem:
        raise HistoryInputError(name, f"{name}: {problem}.", "bad_text")
    return value


def _when(
    form: Mapping[str, str], name: str, interview: HistoryInterview, today: date, *, required: bool
) -> FuzzyDate | None:
    value = _text(form, name)
    if not value:
        if required:
            raise HistoryInputError(
                name, f"{name}: give a date, e.g. 2019-03, summer 2019 or 2019.", "required"
            )
        return None
    try:
        when = parse_when(value, birth=interview.birth)
    except FuzzyDateError as exc:
        key = "age_birth" if "birth month first" in str(exc) else "date"
        raise HistoryInputError(name, f"{name}: {exc}", key, value=value) from None
    if when.earliest > today:
        raise HistoryInputError(name, f"{name}: {value!r} is in the future.", "future", value=value)
    if interview.birth and when.latest < date.fromisoformat(interview.birth + "-01"):
        raise HistoryInputError(
            name,
            f"{name}: {value!r} is before the respondent was born.",
            "before_birth",
            value=value,
        )
    return when


def _certainty(form: Mapping[str, str]) -> int:
    value = _text(form, "certainty") or "3"
    if value not in ("1", "2", "3", "4", "5"):
        raise HistoryInputError(
            "certainty", "certainty: give a whole number from 1 to 5.", "certainty"
        )
    return int(value)


def _partner_id(
    session: Session, interview: HistoryInterview, form: Mapping[str, str], *, required: bool
) -> int | None:
    value = _text(form, "partner")
    if not value:
        if required:
            raise HistoryInputError(
                "partner", "partner: choose a partner from the roster.", "partner"
            )
        return None
    partner = (
        session.get(HistoryPartner, int(value)) if value.isdigit() and len(value) < 10 else None
    )
    if partner is None or partner.interview_id != interview.id:
        raise HistoryInputError("partner", "partner: choose a partner from the roster.", "partner")
    return partner.id


def _span(
    form: Mapping[str, str], interview: HistoryInterview, today: date, *, ongoing_allowed: bool
) -> dict[str, Any]:
    start = _when(form, "start", interview, today, required=True)
    end = _when(form, "end", interview, today, required=False)
    assert start is not None
    values: dict[str, Any] = {
        "start_value": start.value,
        "start_precision": start.precision,
        "end_value": end.value if end else None,
        "end_precision": end.precision if end else None,
    }
    if end is not None and end.latest < start.earliest:
        raise HistoryInputError(
            "end",
            f"end: {end.value} is before the start ({start.value}); check both dates.",
            "end_before_start",
            end=end.value,
            start=start.value,
        )
    if ongoing_allowed:
        ongoing = _text(form, "ongoing") in ("1", "on", "yes", "true")
        if ongoing and end is not None:
            raise HistoryInputError(
                "end", "end: an ongoing episode has no end; clear one of them.", "end_and_ongoing"
            )
        if not ongoing and end is None:
            raise HistoryInputError("end", "end: give an end, or tick 'ongoing'.", "no_end")
        values["ongoing"] = ongoing
    return values


def _values(
    session: Session, interview: HistoryInterview, entity: str, form: Mapping[str, str], today: date
) -> dict[str, Any]:
    """The column values of one form, checked; :class:`HistoryInputError` names the field."""
    if entity == "landmark":
        return {
            "kind": _choice(form, "kind", LANDMARK_KINDS, required=True),
            "label": _free_text(form, "label", 120, required=True),
            **_span(form, interview, today, ongoing_allowed=False),
        }
    if entity == "partner":
        problem = pseudonym_problem(_text(form, "pseudonym"))
        if problem:
            raise HistoryInputError(
                "pseudonym", f"pseudonym: {problem}.", _pseudonym_key(problem), limit=40
            )
        return {
            "pseudonym": _text(form, "pseudonym"),
            "gender": _choice(form, "gender", GENDERS, required=False),
        }
    if entity == "episode":
        cohabitation = _choice(form, "cohabitation", ("yes", "no"), required=False)
        return {
            "partner_id": _partner_id(session, interview, form, required=True),
            "type": _choice(form, "type", EPISODE_TYPES, required=True),
            **_span(form, interview, today, ongoing_allowed=True),
            "certainty": _certainty(form),
            "exclusivity": _choice(form, "exclusivity", EXCLUSIVITY, required=False),
            "cohabitation": None if cohabitation is None else cohabitation == "yes",
            "notes": _free_text(form, "notes", MAX_NOTES, required=False),
        }
    if entity == "milestone":
        when = _when(form, "when", interview, today, required=True)
        assert when is not None
        return {
            "kind": _choice(form, "kind", MILESTONES, required=True),
            "partner_id": _partner_id(session, interview, form, required=False),
            "when_value": when.value,
            "when_precision": when.precision,
            "certainty": _certainty(form),
        }
    raise HistoryInputError("entity", f"There is no {entity!r} in an interview.")


_MODELS: dict[str, type[Any]] = {
    "landmark": HistoryLandmark,
    "partner": HistoryPartner,
    "episode": HistoryEpisode,
    "milestone": HistoryMilestone,
}


def _row(session: Session, interview: HistoryInterview, entity: str, item_id: int) -> Any:
    model = _MODELS.get(entity)
    row = session.get(model, item_id) if model is not None else None
    if row is None or row.interview_id != interview.id:
        return None
    return row


def add_item(
    session: Session,
    interview: HistoryInterview,
    entity: str,
    form: Mapping[str, str],
    *,
    by: int | None,
    today: date,
) -> Any:
    """Add a landmark, partner, episode or milestone from a form's fields (logged).

    Raises :class:`HistoryInputError` naming the first field that cannot be stored.
    """
    values = _values(session, interview, entity, form, today)
    if entity == "partner":
        top = session.scalar(
            select(func.max(HistoryPartner.number)).where(
                HistoryPartner.interview_id == interview.id
            )
        )
        values["number"] = int(top or 0) + 1
    row = _MODELS[entity](interview_id=interview.id, created_at=utcnow(), **values)
    session.add(row)
    session.flush()
    _log(
        session,
        interview,
        entity,
        row.id,
        "create",
        by=by,
        reason=_text(form, "reason"),
        before=None,
        after=_snapshot(row),
    )
    return row


def _reason(form: Mapping[str, str]) -> str:
    reason = _free_text(form, "reason", 500, required=False)
    if not reason:
        raise HistoryInputError(
            "reason", "reason: say why this is changed (kept in the edit log).", "reason"
        )
    return reason


def update_item(
    session: Session,
    interview: HistoryInterview,
    entity: str,
    item_id: int,
    form: Mapping[str, str],
    *,
    by: int | None,
    today: date,
) -> Any | None:
    """Change a row from a form's fields; the form's ``reason`` is required. None when
    the row is not in this interview. A change of an episode's type is refused: it is a
    new spell (:func:`change_type`)."""
    row = _row(session, interview, entity, item_id)
    if row is None:
        return None
    values = _values(session, interview, entity, form, today)
    reason = _reason(form)
    if entity == "episode" and values["type"] != row.type:
        raise HistoryInputError(
            "type",
            "type: a change of type is a new spell; use 'Type changed' to end this spell "
            "and start the next.",
            "new_spell",
        )
    before = _snapshot(row)
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    _log(
        session,
        interview,
        entity,
        row.id,
        "update",
        by=by,
        reason=reason,
        before=before,
        after=_snapshot(row),
    )
    return row


#: what a partner's deletion takes with it, in this order (the edit log's kinds)
_PARTNER_ROWS: tuple[tuple[str, Any], ...] = (
    ("episode", HistoryEpisode),
    ("milestone", HistoryMilestone),
    ("tlfb", HistoryCalendarDay),
)


def remove_item(
    session: Session,
    interview: HistoryInterview,
    entity: str,
    item_id: int,
    form: Mapping[str, str],
    *,
    by: int | None,
) -> bool:
    """Delete a row (a partner with their episodes and milestones); ``reason`` required.
    False when the row is not in this interview."""
    row = _row(session, interview, entity, item_id)
    if row is None:
        return False
    reason = _reason(form)
    before = _snapshot(row)
    if entity == "partner":
        kids: list[tuple[str, Any]] = [
            (kind, kid)
            for kind, model in _PARTNER_ROWS
            for kid in session.scalars(select(model).where(model.partner_id == row.id))
        ]
        for kind, kid in kids:
            _log(
                session,
                interview,
                kind,
                kid.id,
                "delete",
                by=by,
                reason=reason,
                before=_snapshot(kid),
                after=None,
            )
            session.delete(kid)
    session.delete(row)
    session.flush()
    _log(
        session,
        interview,
        entity,
        item_id,
        "delete",
        by=by,
        reason=reason,
        before=before,
        after=None,
    )
    return True


def change_type(
    session: Session,
    interview: HistoryInterview,
    episode_id: int,
    form: Mapping[str, str],
    *,
    by: int | None,
    today: date,
) -> HistoryEpisode | None:
    """End spell ``episode_id`` when its type changed (form ``when``) and start a new spell
    of the new type (form ``type``) from then, until the old spell's end (or ongoing).

    The new spell points back to the old one (``previous_id``) and keeps its certainty,
    exclusivity and cohabitation. None when the episode is not in this interview.
    """
    old = _row(session, interview, "episode", episode_id)
    if old is None:
        return None
    new_type = _choice(form, "type", EPISODE_TYPES, required=True)
    if new_type == old.type:
        raise HistoryInputError(
            "type", f"type: the spell is already {new_type}; choose the new type.", "same_type"
        )
    when = _when(form, "when", interview, today, required=True)
    assert when is not None
    start, end = _dates(
        old.start_value, old.start_precision, old.end_value, old.end_precision, interview.birth
    )
    if when.latest < start.earliest or (end is not None and when.earliest > end.latest):
        raise HistoryInputError(
            "when", f"when: {when.value} is outside this spell.", "outside", value=when.value
        )
    before = _snapshot(old)
    new = HistoryEpisode(
        interview_id=interview.id,
        partner_id=old.partner_id,
        type=new_type,
        start_value=when.value,
        start_precision=when.precision,
        end_value=old.end_value,
        end_precision=old.end_precision,
        ongoing=old.ongoing,
        certainty=old.certainty,
        exclusivity=old.exclusivity,
        cohabitation=old.cohabitation,
        previous_id=old.id,
        created_at=utcnow(),
    )
    old.end_value, old.end_precision, old.ongoing = when.value, when.precision, False
    session.add(new)
    session.flush()
    reason = _text(form, "reason") or f"type changed to {new_type}"
    _log(
        session,
        interview,
        "episode",
        old.id,
        "update",
        by=by,
        reason=reason,
        before=before,
        after=_snapshot(old),
    )
    _log(
        session,
        interview,
        "episode",
        new.id,
        "create",
        by=by,
        reason=reason,
        before=None,
        after=_snapshot(new),
    )
    return new


def edit_log(session: Session, interview: HistoryInterview) -> list[dict[str, Any]]:
    """The interview's edit log, newest first: ``at``, ``by`` (the researcher's e-mail
    address, or None), ``entity``, ``entity_id``, ``action``, ``reason`` and ``changes``
    (``{column: (before, after)}`` of the columns that changed)."""
    from dyadlab.platform.tables import Researcher

    rows = session.execute(
        select(HistoryEdit, Researcher.email)
        .outerjoin(Researcher, Researcher.id == HistoryEdit.researcher_id)
        .where(HistoryEdit.interview_id == interview.id)
        .order_by(HistoryEdit.id.desc())
    ).all()
    out = []
    for edit, email in rows:
        before, after = edit.before or {}, edit.after or {}
        skip = {"id", "interview_id", "created_at", "started_at"}
        changes = {
            k: (before.get(k), after.get(k))
            for k in sorted(set(before) | set(after))
            if k not in skip and before.get(k) != after.get(k)
        }
        out.append(
            {
                "at": edit.at,
                "by": email,
                "entity": edit.entity,
                "entity_id": edit.entity_id,
                "action": edit.action,
                "reason": edit.reason,
                "changes": changes,
            }
        )
    return out


def delete_interviews(session: Session, person_id: int) -> int:
    """Delete the history interview of ``person_id`` with every row of it (withdrawal
    with deletion); the number of interviews deleted (0 or 1)."""
    ids = session.scalars(
        select(HistoryInterview.id).where(HistoryInterview.person_id == person_id)
    ).all()
    if not ids:
        return 0
    for model in (
        HistoryEdit,
        HistoryCalendarDay,
        HistoryMilestone,
        HistoryEpisode,
        HistoryLandmark,
        HistoryPartner,
    ):
        session.execute(delete(model).where(model.interview_id.in_(ids)))
    session.execute(delete(HistoryInterview).where(HistoryInterview.id.in_(ids)))
    return len(ids)


# --------------------------------------------------------------------------- probes
def _age_at(birth: str | None, day: date) -> int | None:
    if not birth:
        return None
    by, bm = (int(p) for p in birth.split("-"))
    return day.year - by - (1 if day.month < bm else 0)


def probes(interview: Interview, today: date) -> list[Probe]:
    """The questions to ask about this interview (see the module notes): young ages,
    gaps of :data:`GAP_DAYS` or more between episodes, overlapping episodes (with two
    partners: concurrency to confirm; with one partner: spells to straighten out) and
    milestones with a partner outside every episode with them."""
    found: list[Probe] = []
    birth = interview.row.birth
    spans = [(ep, start, end.latest if end else today) for ep, start, end in interview.episodes]
    for ep, start, _ in spans:
        age = _age_at(birth, start.earliest)
        if age is not None and age < YOUNG_AGE:
            found.append(Probe("young", (f"episode:{ep.id}",), {"age": age}))
    for m, when in interview.milestones:
        age = _age_at(birth, when.earliest)
        if age is not None and age < YOUNG_AGE:
            found.append(Probe("young", (f"milestone:{m.id}",), {"age": age}))
    ordered = sorted(spans, key=lambda s: s[1].earliest)
    reach: date | None = None
    reach_id = 0
    for ep, start, stop in ordered:
        if reach is not None and (start.earliest - reach).days >= GAP_DAYS:
            found.append(
                Probe(
                    "gap",
                    (f"episode:{reach_id}", f"episode:{ep.id}"),
                    {"from": reach.isoformat()[:7], "to": start.earliest.isoformat()[:7]},
                )
            )
        if reach is None or stop > reach:
            reach, reach_id = stop, ep.id
    for i, (a, a_start, a_stop) in enumerate(ordered):
        for b, b_start, b_stop in ordered[i + 1 :]:
            # Certain overlap: b surely starts before a surely ends.
            if b_start.latest < a_stop and a_start.latest < b_stop:
                kind = "same_partner_overlap" if a.partner_id == b.partner_id else "overlap"
                found.append(Probe(kind, (f"episode:{a.id}", f"episode:{b.id}")))
    for m, when in interview.milestones:
        if m.partner_id is None:
            continue
        with_partner = [s for s in spans if s[0].partner_id == m.partner_id]
        if with_partner and not any(
            when.latest >= start.earliest and when.earliest <= stop
            for _, start, stop in with_partner
        ):
            found.append(Probe("milestone_outside", (f"milestone:{m.id}",)))
    return found


# --------------------------------------------------------------------------- export
def _study_interviews(session: Session, study_id: int) -> list[tuple[HistoryInterview, Interview]]:
    """Every interview of the study, loaded, by person id."""
    rows = session.scalars(
        select(HistoryInterview)
        .where(HistoryInterview.study_id == study_id)
        .order_by(HistoryInterview.person_id)
    ).all()
    found = []
    for row in rows:
        loaded = load_interview(session, study_id, row.person_id)
        assert loaded is not None
        found.append((row, loaded))
    return found


def export_rows(session: Session, study_id: int) -> list[dict[str, Any]]:
    """One row per episode of every interview in the study, in the CSV's columns
    (:data:`EXPORT_COLUMNS`) plus ``episode``, ``previous``, ``ongoing``,
    ``exclusivity``, ``cohabitation``, ``partner_pseudonym`` and ``notes`` (the JSON
    export has them all, the CSV the contract's columns).

    ``person`` is the participant's id, ``partner`` the person's roster number
    (``p<person>-<number>``): pseudonyms and notes go only to the JSON export.
    """
    rows: list[dict[str, Any]] = []
    for row, loaded in _study_interviews(session, study_id):
        for ep, start, end in loaded.episodes:
            partner = loaded.partner(ep.partner_id)
            number = partner.number if partner else 0
            rows.append(
                {
                    "person": str(row.person_id),
                    "partner": f"p{row.person_id}-{number}",
                    "type": ep.type,
                    "start": start.export,
                    "end": end.export if end else "",
                    "start_precision": start.precision,
                    "end_precision": end.precision if end else "",
                    "certainty": ep.certainty,
                    "episode": ep.id,
                    "previous": ep.previous_id,
                    "ongoing": ep.ongoing,
                    "exclusivity": ep.exclusivity,
                    "cohabitation": ep.cohabitation,
                    "partner_pseudonym": readable(partner.pseudonym) if partner else None,
                    "notes": readable(ep.notes),
                }
            )
    return rows


def export_more(session: Session, study_id: int) -> dict[str, list[dict[str, Any]]]:
    """What the JSON export has beside the episodes: ``persons`` (``person, birth``,
    the birth month as ``YYYY-MM``), ``milestones`` (``person, partner, milestone, date,
    precision, certainty``; dates as in the CSV, ``partner`` empty for one without a
    partner) and ``landmarks`` (``person, kind, label, start, end, start_precision,
    end_precision``) — the inputs of ``dyadlab.history.milestone_ages``."""
    out: dict[str, list[dict[str, Any]]] = {"persons": [], "milestones": [], "landmarks": []}
    for row, loaded in _study_interviews(session, study_id):
        person = str(row.person_id)
        out["persons"].append({"person": person, "birth": row.birth or ""})
        for m, when in loaded.milestones:
            partner = loaded.partner(m.partner_id) if m.partner_id else None
            out["milestones"].append(
                {
                    "person": person,
                    "partner": f"p{person}-{partner.number}" if partner else "",
                    "milestone": m.kind,
                    "date": when.export,
                    "precision": when.precision,
                    "certainty": m.certainty,
                }
            )
        for lm, start, end in loaded.landmarks:
            out["landmarks"].append(
                {
                    "person": person,
                    "kind": lm.kind,
                    "label": readable(lm.label),
                    "start": start.export,
                    "end": end.export if end else "",
                    "start_precision": start.precision,
                    "end_precision": end.precision if end else "",
                }
            )
    return out


def export_csv(rows: list[dict[str, Any]]) -> str:
    """The episodes CSV (:data:`EXPORT_COLUMNS` only), with text cells that a spreadsheet
    would run as a formula neutralised (:func:`~dyadlab.platform.services.export.
    neutralise_cell`).

    Examples
    --------
    >>> export_csv([]).strip()
    'person,partner,type,start,end,start_precision,end_precision,certainty'
    """
    from dyadlab.platform.services.export import neutralise_cell

    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {
                k: neutralise_cell(v) if isinstance(v, str) else v
                for k, v in r.items()
                if k in EXPORT_COLUMNS
            }
        )
    return buffer.getvalue()
