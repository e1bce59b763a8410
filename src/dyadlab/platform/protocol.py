"""Study protocols: questionnaires, answer choices, schedule and consent, read from a file.

A protocol is written in YAML (see ``dyadlab/examples/daily_diary.yaml``), as an
XLSForm-compatible spreadsheet (``.xlsx``, ``.xls``; see :mod:`dyadlab.platform._xlsform`) or as a
REDCap data dictionary (``.csv``; see :mod:`dyadlab.platform._redcap`). All three become
the same immutable :class:`Protocol`, whose :meth:`Protocol.to_dict` is the YAML content
and whose :attr:`Protocol.content_hash` identifies it. :func:`write_xlsform` writes a
protocol as a spreadsheet and :func:`to_redcap_dictionary` as a REDCap data dictionary.

Every problem in a protocol raises :class:`~dyadlab.exceptions.ProtocolError` naming
where it is -- a YAML path such as ``questionnaires[0].items[2].choices`` or a sheet
and row such as ``survey sheet, row 7`` -- and what is wrong, with the closest valid
name where one exists. When a protocol has several problems the first is reported and
the others are counted.

Answers
-------
:meth:`Protocol.validate_answers` checks a submission against its questionnaire: types,
ranges, choices, ``required`` (only for items that are relevant), ``constraint``
expressions and skip logic (``relevant``). It returns the cleaned, typed answers of the
relevant items. Non-relevant items are left out of the result; an answer *given* to an
item that is not relevant is an error (:class:`AnswerError`), not silently dropped: the
participant's device must clear answers its skip logic hid (the pages do), so a
non-empty answer there means the device and the server disagree about the skip logic
and the participant should see it. An empty answer (``None``, ``""``, ``[]``) to a
non-relevant item is fine.

Every problem is ``{"item": NAME, "message": TEXT, "code": CODE}``, with ``"params"``
where the text has values in it: ``message`` is for API users (English, except a
constraint's own ``constraint_message`` in the requested language); ``code`` (one of
:data:`ANSWER_ERROR_CODES`) and ``params`` let the participant pages say the same in
the person's language.

Typed answers are JSON-ready: slider and decimal -> float, integer and Likert -> int,
single choice -> the choice's value, multiple choice -> list of values in the order of
the choice list, yes/no -> ``"yes"`` or ``"no"``, text -> str, date -> ``"YYYY-MM-DD"``,
time -> ``"HH:MM"``.

Examples
--------
>>> protocol = example_protocol()
>>> protocol.title
'Daily intimacy in couples'
>>> protocol.validate_answers("evening", {"desire": "55", "partner_desire": 60,
...                                       "conflict": "no"})
{'desire': 55.0, 'partner_desire': 60.0, 'conflict': 'no'}
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from dyadlab._validation import closest
from dyadlab.exceptions import DyadlabError, ProtocolError
from dyadlab.platform._expressions import CHOICE_PREFIX, parse_choice_filter, parse_expression
from dyadlab.platform._inputs import text_problem, tree_problem
from dyadlab.platform._protocol_checks import YES_NO_LABELS, _r, build_protocol_kwargs
from dyadlab.platform._rating_checks import RatingSession, rating_sessions_to_dict
from dyadlab.platform._redcap import to_redcap_dictionary
from dyadlab.platform._xlsform import write_xlsform

__all__ = [
    "ANSWER_ERROR_CODES",
    "ITEM_TYPES",
    "MAX_PROTOCOL_BYTES",
    "MAX_UPLOAD_BYTES",
    "UNANSWERED_TYPES",
    "UPLOAD_TYPES",
    "AnswerError",
    "Choice",
    "Item",
    "Protocol",
    "Questionnaire",
    "RatingSession",
    "ScheduleEntry",
    "example_protocol",
    "load_protocol",
    "parse_protocol",
    "to_redcap_dictionary",
    "write_xlsform",
]

ItemType = Literal[
    "slider",
    "likert",
    "single",
    "multiple",
    "yes_no",
    "integer",
    "decimal",
    "text",
    "time",
    "date",
    "datetime",
    "note",
    "calculate",
    "acknowledge",
    "rank",
    "geopoint",
    "image",
    "audio",
    "file",
]
#: The item types a protocol may use.
ITEM_TYPES: tuple[str, ...] = get_args(ItemType)
#: Item types answered with a file (kept in the ``uploads`` table, never in the answers).
UPLOAD_TYPES: tuple[str, ...] = ("image", "audio", "file")
#: The largest file one answer may carry (the platform refuses requests above 1 MB).
MAX_UPLOAD_BYTES = 600_000
#: Item types without an answer of the participant's own (shown, or computed).
UNANSWERED_TYPES: tuple[str, ...] = ("note", "calculate")
_TEXT_MAX = 5000
#: The ``code`` of each answer problem (:class:`AnswerError`), and its ``params``.
ANSWER_ERROR_CODES: dict[str, tuple[str, ...]] = {
    "unknown_item": (),
    "wrong_type": (),
    "not_a_number": (),
    "ambiguous_number": (),
    "not_whole": (),
    "between": ("min", "max"),
    "at_least": ("min",),
    "at_most": ("max",),
    "not_a_choice": (),
    "duplicate_choice": (),
    "too_long": ("length", "max"),
    "bad_character": (),
    "not_a_date": (),
    "not_a_time": (),
    "not_relevant": (),
    "required": (),
    "constraint": (),
}
# a decimal comma is accepted (Dutch participants type 2,5); "1,000" is refused as ambiguous
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2},\d{3}")
_EXAMPLE = "daily_diary.yaml"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Choice(_Frozen):
    """One answer option of a choice list: its stored ``value`` and its labels.

    Examples
    --------
    >>> Choice(value=1, label={"en": "Strongly disagree"}).value
    1
    """

    value: int | str
    label: dict[str, str]
    properties: dict[str, str] = {}


class Item(_Frozen):
    """One question.

    ``min``/``max`` bound sliders (default 0 and 100), integers and decimals; ``choices``
    names the choice list of Likert, single and multiple-choice items; ``relevant`` and
    ``constraint`` are XLSForm expressions; ``about="partner"`` marks a judgment of the
    partner (the *judgment* of the truth-and-bias model).

    From XLSForm: ``hint`` and ``guidance_hint`` are shown under the label;
    ``required_if`` is a ``required`` expression; ``calculation`` is the expression of
    a ``calculate`` item (computed, not asked); ``default`` the answer filled in first;
    ``choice_filter`` limits the choices shown (the choices' ``properties`` and
    ``name`` may be used in it); ``section`` names the group the item is in; ``repeat``
    and ``repeat_index`` mark the copy of an XLSForm repeat group the item belongs to (its
    answers are also exported in long format, one row per copy).

    Examples
    --------
    >>> item = example_protocol().questionnaire("evening").item("partner_desire")
    >>> item.type, item.min, item.max, item.about
    ('slider', 0.0, 100.0, 'partner')
    """

    name: str
    type: ItemType
    label: dict[str, str]
    required: bool = False
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: str | None = None
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: dict[str, str] | None = None
    about: Literal["self", "partner"] = "self"
    hint: dict[str, str] | None = None
    guidance_hint: dict[str, str] | None = None
    required_if: str | None = None
    calculation: str | None = None
    default: str | None = None
    choice_filter: str | None = None
    section: str | None = None
    repeat: str | None = None
    repeat_index: int | None = None


class Questionnaire(_Frozen):
    """A named list of items answered in one sitting.

    Examples
    --------
    >>> [i.name for i in example_protocol().questionnaire("after_sex").items][:2]
    ['sexual_satisfaction', 'approach_motive']
    """

    name: str
    items: list[Item]
    label: dict[str, str] = {}
    sections: dict[str, dict[str, str]] = {}

    def item(self, name: str) -> Item:
        """Return the item called ``name``; raise :class:`ProtocolError` if there is none."""
        for item in self.items:
            if item.name == name:
                return item
        hint = closest(name, [i.name for i in self.items])
        raise ProtocolError(
            f"questionnaire {self.name!r} has no item {name!r}"
            + (f"; did you mean {hint!r}?" if hint else ".")
        )


class ScheduleEntry(_Frozen):
    """When a questionnaire is open; see :mod:`dyadlab.platform.schedule`.

    ``daily``: at ``time`` (local, ``"HH:MM"``) for ``window_minutes``.
    ``random``: ``prompts_per_day`` prompts between ``block_start`` and ``block_end``,
    one in each of that many equal blocks, at least ``min_gap_minutes`` apart.
    ``event``: open whenever the participant reports an event, at most ``max_per_day``
    times a diary day. ``triggers_partner`` names a questionnaire opened for the
    partner for ``trigger_window_minutes`` when this one is submitted.

    Examples
    --------
    >>> entry = example_protocol().schedule[0]
    >>> entry.type, entry.time, entry.window_minutes, entry.reminders_after_minutes
    ('daily', '20:00', 240, [60, 180])
    """

    questionnaire: str
    type: Literal["daily", "random", "event"]
    time: str | None = None
    window_minutes: int | None = None
    reminders_after_minutes: list[int] = []
    days: int | None = None
    max_per_day: int | None = None
    prompts_per_day: int | None = None
    block_start: str | None = None
    block_end: str | None = None
    min_gap_minutes: int | None = None
    triggers_partner: str | None = None
    trigger_window_minutes: int | None = None


class AnswerError(DyadlabError, ValueError):
    """Answers do not fit their questionnaire.

    Attributes
    ----------
    errors : list of dict
        One ``{"item": name, "message": text, "code": code}`` per problem, in item
        order, with ``"params"`` (a dict) for the codes of :data:`ANSWER_ERROR_CODES`
        that have values, and for ``constraint`` the protocol's ``constraint_message`` in
        the requested language as ``params["message"]`` when it gives one.
    """

    def __init__(self, questionnaire: str, errors: list[dict[str, Any]]) -> None:
        self.questionnaire = questionnaire
        self.errors = errors
        first = errors[0]
        more = f" ({len(errors) - 1} more problems)" if len(errors) > 1 else ""
        super().__init__(
            f"validate_answers(): answer to {first['item']!r} in questionnaire "
            f"{questionnaire!r}: {first['message']}{more}"
        )


class _BadAnswerError(Exception):
    """An answer value that cannot be used (internal): its message, code and values."""

    def __init__(self, message: str, code: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def _problem(message: str, code: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"message": message, "code": code, **({"params": dict(params)} if params else {})}


class Protocol(_Frozen):
    """A validated study protocol; build it with :func:`load_protocol` or :func:`parse_protocol`.

    Attributes
    ----------
    title : str
    languages : list of str
        Language codes every label is given in (e.g. ``["en", "nl"]``).
    default_language : str
    roles : list of str or None
        Two role labels for distinguishable dyads, or None.
    consent_version : int
    consent_text : dict
        Language -> consent text.
    schedule : list of ScheduleEntry
    questionnaires : list of Questionnaire
    choices : dict
        Choice-list name -> list of :class:`Choice`.
    analysis : list of dict
        The preregistered analysis plan: one ``{"model": …, <argument>: …}`` per model
        (see :mod:`dyadlab.platform._analysis_plan`); empty when the protocol has none.

    Examples
    --------
    >>> p = example_protocol()
    >>> [q.name for q in p.questionnaires]
    ['evening', 'after_sex']
    >>> p.codebook()[2]["choices"][:26]
    '1=Strongly disagree; 2=Dis'
    """

    title: str
    languages: list[str]
    default_language: str
    roles: list[str] | None = None
    consent_version: int = 1
    consent_text: dict[str, str] = {}
    schedule: list[ScheduleEntry] = []
    questionnaires: list[Questionnaire]
    choices: dict[str, list[Choice]] = {}
    analysis: list[dict[str, Any]] = []
    rating_sessions: list[RatingSession] = []

    # ----------------------------------------------------------------- look-ups
    @cached_property
    def _by_name(self) -> dict[str, Questionnaire]:
        return {q.name: q for q in self.questionnaires}

    def questionnaire(self, name: str) -> Questionnaire:
        """Return the questionnaire called ``name``; raise :class:`ProtocolError` if unknown.

        Examples
        --------
        >>> len(example_protocol().questionnaire("evening").items)
        6
        """
        try:
            return self._by_name[name]
        except KeyError:
            hint = closest(name, self._by_name)
            raise ProtocolError(
                f"protocol {self.title!r} has no questionnaire {name!r}; it has "
                f"{', '.join(self._by_name)}" + (f". Did you mean {hint!r}?" if hint else ".")
            ) from None

    def rating_session(self, name: str) -> RatingSession:
        """Return the rating session called ``name``; raise :class:`ProtocolError` if unknown.

        Examples
        --------
        >>> example_protocol().rating_session("arousal")
        Traceback (most recent call last):
        ...
        dyadlab.exceptions.ProtocolError: protocol 'Daily intimacy in couples' has no rating \
session 'arousal'; it has none.
        """
        names = [r.name for r in self.rating_sessions]
        for r in self.rating_sessions:
            if r.name == name:
                return r
        hint = closest(name, names)
        raise ProtocolError(
            f"protocol {self.title!r} has no rating session {name!r}; it has "
            f"{', '.join(names) or 'none'}" + (f". Did you mean {hint!r}?" if hint else ".")
        )

    def schedule_entry(self, questionnaire: str) -> ScheduleEntry | None:
        """Return the schedule entry of ``questionnaire``, or None if it has none.

        Examples
        --------
        >>> example_protocol().schedule_entry("after_sex").max_per_day
        3
        """
        for entry in self.schedule:
            if entry.questionnaire == questionnaire:
                return entry
        return None

    def partner_trigger(self, questionnaire: str) -> str | None:
        """Return the questionnaire to open for the partner when ``questionnaire`` is submitted.

        Examples
        --------
        >>> example_protocol().partner_trigger("after_sex") is None
        True
        """
        entry = self.schedule_entry(questionnaire)
        return None if entry is None else entry.triggers_partner

    def choice_labels(self, item: Item, language: str | None = None) -> list[tuple[Any, str]]:
        """Return ``(value, label)`` pairs of a choice or yes/no item in ``language``.

        Examples
        --------
        >>> p = example_protocol()
        >>> p.choice_labels(p.questionnaire("evening").item("conflict"))
        [('yes', 'Ja'), ('no', 'Nee')]
        """
        lang = language or self.default_language
        if item.type == "yes_no":
            labels = YES_NO_LABELS.get(lang, YES_NO_LABELS["en"])
            return [("yes", labels[0]), ("no", labels[1])]
        if item.choices is None:
            return []
        return [
            (c.value, c.label.get(lang, next(iter(c.label.values()), str(c.value))))
            for c in self.choices[item.choices]
        ]

    def filtered_choices(self, item: Item, values: Mapping[str, Any]) -> list[int | str]:
        """Return the values of the choices of ``item`` its ``choice_filter`` keeps.

        Examples
        --------
        >>> p = parse_protocol({"study": "s", "questionnaires": [{"name": "q", "items": [
        ...     {"name": "state", "type": "single", "label": "State", "choices": "states"},
        ...     {"name": "city", "type": "single", "label": "City", "choices": "cities",
        ...      "choice_filter": "st = ${state}"}]}],
        ...     "choices": {"states": [{"value": "tx", "label": "Texas"},
        ...                            {"value": "wa", "label": "Washington"}],
        ...                 "cities": [{"value": "austin", "label": "Austin",
        ...                             "properties": {"st": "tx"}},
        ...                            {"value": "seattle", "label": "Seattle",
        ...                             "properties": {"st": "wa"}}]}})
        >>> item = p.questionnaire("q").item("city")
        >>> p.filtered_choices(item, {"state": "wa"})
        ['seattle']
        """
        options = self.choices.get(item.choices or "", [])
        if not item.choice_filter:
            return [c.value for c in options]
        expression = parse_choice_filter(item.choice_filter)
        kept: list[int | str] = []
        for choice in options:
            columns: dict[str, Any] = {
                f"{CHOICE_PREFIX}{k}": v for k, v in choice.properties.items()
            }
            columns[f"{CHOICE_PREFIX}name"] = choice.value
            columns[f"{CHOICE_PREFIX}label"] = choice.label.get(
                self.default_language, next(iter(choice.label.values()), "")
            )
            if expression.is_true({**values, **columns}):
                kept.append(choice.value)
        return kept

    # ----------------------------------------------------------------- answers
    def validate_answers(
        self, questionnaire: str, answers: Mapping[str, Any], *, language: str | None = None
    ) -> dict[str, Any]:
        """Check answers to a questionnaire and return them cleaned and typed.

        Parameters
        ----------
        questionnaire : str
            The questionnaire's name.
        answers : mapping
            Item name -> answer, as sent by the participant's device (numbers may come as
            text; a multiple-choice answer is a list or space-separated text).
        language : str, optional
            Language of a constraint's own message, if the protocol gives one.

        Returns
        -------
        dict
            Item name -> typed answer, for the relevant items that were answered, in
            item order (see the module notes for the types).

        Raises
        ------
        AnswerError
            Listing every problem (``.errors``): an unknown item, a value of the wrong
            type, out of range or not among the choices, a missing required answer, a
            failed constraint, or an answer to an item that is not relevant.
        ProtocolError
            If the questionnaire does not exist.

        Examples
        --------
        >>> p = example_protocol()
        >>> p.validate_answers("evening", {"desire": 10, "partner_desire": 20,
        ...                                "conflict": "yes", "conflict_intensity": "2"})
        {'desire': 10.0, 'partner_desire': 20.0, 'conflict': 'yes', 'conflict_intensity': 2}
        """
        q = self.questionnaire(questionnaire)
        if not isinstance(answers, Mapping):
            raise AnswerError(
                questionnaire,
                [
                    {
                        "item": "(answers)",
                        **_problem("answers must be an object of item: value", "wrong_type"),
                    }
                ],
            )
        problems: dict[str, dict[str, Any]] = {}
        names = [i.name for i in q.items]
        for key in answers:
            if key not in names:
                hint = closest(str(key), names)
                problems[str(key)] = _problem(
                    f"there is no such item in {questionnaire!r}"
                    + (f"; did you mean {hint!r}?" if hint else ""),
                    "unknown_item",
                )
        typed: dict[str, Any] = {}
        for item in q.items:
            raw = answers.get(item.name)
            if item.type in UNANSWERED_TYPES:
                if item.type == "note" and not _is_blank(raw):
                    problems[item.name] = _problem(
                        "is a note, which takes no answer; leave it out", "wrong_type"
                    )
                continue  # a calculation is computed below, whatever the device sent
            if _is_blank(raw):
                continue
            try:
                typed[item.name] = self._coerce(item, raw)
            except _BadAnswerError as exc:
                problems[item.name] = _problem(str(exc), exc.code, exc.params)
        cleaned: dict[str, Any] = {}
        for item in q.items:
            given = item.name in typed or item.name in problems
            if item.relevant and not parse_expression(item.relevant).is_true(cleaned):
                if given:
                    problems[item.name] = _problem(
                        f"this item is not asked here because its condition "
                        f"{item.relevant!r} is false; remove the answer",
                        "not_relevant",
                    )
                continue
            if item.type == "calculate" and item.calculation:
                value = _calculated(
                    parse_expression(item.calculation).evaluate({**typed, **cleaned})
                )
                if value is not None:
                    cleaned[item.name] = value
                continue
            required = item.required or (
                item.required_if is not None
                and parse_expression(item.required_if).is_true({**typed, **cleaned})
            )
            if item.name in typed and item.choice_filter:
                shown = [str(v) for v in self.filtered_choices(item, {**typed, **cleaned})]
                given = typed[item.name]
                chosen = given if isinstance(given, list) else [given]
                if any(str(v) not in shown for v in chosen) or (
                    item.type == "rank" and len(chosen) != len(shown)
                ):
                    problems[item.name] = _problem(
                        f"{_r(given)} is not among the choices shown ({', '.join(shown)}); "
                        f"its choice_filter is {item.choice_filter!r}",
                        "not_a_choice",
                    )
                    continue
            if item.name in typed:
                cleaned[item.name] = typed[item.name]
            elif required and item.name not in problems:
                problems[item.name] = _problem("an answer is required", "required")
        for item in q.items:
            if item.constraint and item.name in cleaned:
                value = cleaned[item.name]
                if not parse_expression(item.constraint).is_true(cleaned, current=value):
                    problems[item.name] = self._constraint_problem(item, value, language)
        if problems:
            order = {name: i for i, name in enumerate(names)}
            errors = [
                {"item": name, **problems[name]}
                for name in sorted(problems, key=lambda n: order.get(n, len(order)))
            ]
            raise AnswerError(questionnaire, errors)
        return cleaned

    def _constraint_problem(self, item: Item, value: Any, language: str | None) -> dict[str, Any]:
        """A failed constraint: the protocol's own message when it has one (in
        ``language``, else the default language), else the condition in English."""
        messages = item.constraint_message or {}
        own = messages.get(language or self.default_language)
        fallback = messages.get(self.default_language)
        message = (
            own
            or fallback
            or (f"the answer {_r(value)} does not meet the condition {item.constraint!r}")
        )
        return _problem(message, "constraint", {"message": own} if own else None)

    def _coerce(self, item: Item, raw: Any) -> Any:
        kind = item.type
        if kind in ("slider", "decimal", "integer"):
            number = _as_number(raw)
            if kind == "integer":
                if not number.is_integer():
                    raise _BadAnswerError(f"must be a whole number, got {_r(raw)}", "not_whole")
                value: float | int = int(number)
            else:
                value = number
            low, high = item.min, item.max
            if (low is not None and number < low) or (high is not None and number > high):
                code, bounds = _range_code(low, high)
                raise _BadAnswerError(
                    f"must lie between {_fmt(low)} and {_fmt(high)}, got {_fmt(number)}",
                    code,
                    **bounds,
                )
            return value
        if kind == "yes_no":
            if isinstance(raw, bool):
                return "yes" if raw else "no"
            if isinstance(raw, str) and raw.strip().lower() in ("yes", "no"):
                return raw.strip().lower()
            raise _BadAnswerError(f"must be 'yes' or 'no', got {_r(raw)}", "not_a_choice")
        if kind in ("likert", "single"):
            return self._choice(item, raw)
        if kind == "multiple":
            parts = raw.split() if isinstance(raw, str) else raw
            if not isinstance(parts, list | tuple):
                raise _BadAnswerError(f"must be a list of choices, got {_r(raw)}", "wrong_type")
            chosen = [self._choice(item, part) for part in parts]
            if len(set(chosen)) != len(chosen):
                raise _BadAnswerError(f"names a choice twice: {_r(raw)}", "duplicate_choice")
            order = [c.value for c in self.choices[item.choices or ""]]
            return sorted(chosen, key=order.index)
        if kind == "text":
            if not isinstance(raw, str):
                raise _BadAnswerError(f"must be text, got {_r(raw)}", "wrong_type")
            problem = text_problem(raw)
            if problem is not None:
                raise _BadAnswerError(problem, "bad_character")
            if len(raw) > _TEXT_MAX:
                raise _BadAnswerError(
                    f"is {len(raw)} characters long; at most {_TEXT_MAX} are allowed",
                    "too_long",
                    length=len(raw),
                    max=_TEXT_MAX,
                )
            return raw
        if kind == "datetime":
            return _datetime(raw)
        if kind == "acknowledge":
            if raw is True or (isinstance(raw, str) and raw.strip().upper() in ("OK", "YES")):
                return "OK"
            raise _BadAnswerError(f"must be 'OK' (acknowledged), got {_r(raw)}", "wrong_type")
        if kind == "rank":
            parts = raw.split() if isinstance(raw, str) else raw
            if not isinstance(parts, list | tuple):
                raise _BadAnswerError(f"must be a list of choices, got {_r(raw)}", "wrong_type")
            ranked = [self._choice(item, part) for part in parts]
            every = [c.value for c in self.choices[item.choices or ""]]
            if sorted(map(str, ranked)) != sorted(map(str, every)):
                raise _BadAnswerError(
                    f"must put every choice in order, each once; got {_r(raw)}", "wrong_type"
                )
            return ranked
        if kind == "geopoint":
            return _geopoint(raw)
        if kind in UPLOAD_TYPES:
            return _upload(kind, raw)
        if kind == "date":
            try:
                return _dt.date.fromisoformat(str(raw).strip()).isoformat()
            except ValueError:
                raise _BadAnswerError(
                    f"must be a date written YYYY-MM-DD, got {_r(raw)}", "not_a_date"
                ) from None
        try:
            return _dt.time.fromisoformat(str(raw).strip()).strftime("%H:%M")
        except ValueError:
            raise _BadAnswerError(
                f"must be a time written HH:MM, got {_r(raw)}", "not_a_time"
            ) from None

    def _choice(self, item: Item, raw: Any) -> int | str:
        options = self.choices[item.choices or ""]
        for choice in options:
            if isinstance(choice.value, int) and not isinstance(raw, bool):
                try:
                    if _as_number(raw) == choice.value:
                        return choice.value
                except _BadAnswerError:
                    continue
            elif str(raw) == str(choice.value):
                return choice.value
        allowed = ", ".join(repr(c.value) for c in options)
        raise _BadAnswerError(
            f"{_r(raw)} is not one of the choices of {item.choices!r} ({allowed})", "not_a_choice"
        )

    # ----------------------------------------------------------------- export
    def to_dict(self) -> dict[str, Any]:
        """Return the protocol as the YAML content (JSON-ready; round-trips through parse).

        Examples
        --------
        >>> p = example_protocol()
        >>> parse_protocol(p.to_dict()) == p
        True
        """
        dyad: dict[str, Any] = {"size": 2}
        if self.roles is not None:
            dyad["roles"] = list(self.roles)
        content: dict[str, Any] = {
            "study": self.title,
            "languages": list(self.languages),
            "default_language": self.default_language,
            "dyad": dyad,
            "consent": {"version": self.consent_version, "text": dict(self.consent_text)},
            "schedule": [_plain(e.model_dump(exclude_defaults=True)) for e in self.schedule],
            "questionnaires": [
                _plain(
                    {
                        "name": q.name,
                        **({"label": dict(q.label)} if q.label else {}),
                        **({"sections": dict(q.sections)} if q.sections else {}),
                        "items": [i.model_dump(exclude_defaults=True) for i in q.items],
                    }
                )
                for q in self.questionnaires
            ],
            "choices": {
                name: [
                    {
                        "value": c.value,
                        "label": dict(c.label),
                        **({"properties": dict(c.properties)} if c.properties else {}),
                    }
                    for c in options
                ]
                for name, options in self.choices.items()
            },
            # only when there is a plan, so that a protocol without one keeps its hash
            **({"analysis": [dict(e) for e in self.analysis]} if self.analysis else {}),
        }
        if self.rating_sessions:  # left out when empty: older protocols keep their hash
            content["rating_sessions"] = _plain(rating_sessions_to_dict(self.rating_sessions))
        return content

    @property
    def content_hash(self) -> str:
        """Return the sha256 (hex) of the canonical JSON of :meth:`to_dict`.

        Two protocols with the same content (from YAML, XLSForm or a dict) share it. The
        analysis plan is part of the content: the plan shown when a study was created is
        provably the plan a report of that study ran.
        """
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def codebook(self) -> list[dict[str, Any]]:
        """Return one row per item: questionnaire, item, type, labels, choices, range, logic.

        Columns: ``questionnaire, item, type, label_<lang>`` for every language,
        ``choices`` (``"1=Strongly disagree; 2=Disagree; …"`` in English when the
        protocol has English, else the default language), ``min, max, required,
        relevant, constraint, about``.

        Examples
        --------
        >>> row = example_protocol().codebook()[0]
        >>> row["item"], row["type"], row["min"], row["max"], row["about"]
        ('desire', 'slider', 0, 100, 'self')
        """
        lang = "en" if "en" in self.languages else self.default_language
        rows: list[dict[str, Any]] = []
        for q in self.questionnaires:
            for item in q.items:
                row: dict[str, Any] = {
                    "questionnaire": q.name,
                    "item": item.name,
                    "type": item.type,
                }
                for language in self.languages:
                    row[f"label_{language}"] = item.label.get(language, "")
                pairs = self.choice_labels(item, lang)
                row["choices"] = "; ".join(f"{v}={label}" for v, label in pairs)
                row["min"] = _number_or_none(item.min)
                row["max"] = _number_or_none(item.max)
                row["required"] = item.required
                row["relevant"] = item.relevant or ""
                row["constraint"] = item.constraint or ""
                row["about"] = item.about
                rows.append(row)
        return rows


# --------------------------------------------------------------------------- helpers
def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple) and len(value) == 0)


def _as_number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _BadAnswerError(f"must be a number, got {_r(raw)}", "not_a_number")
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if not _NUMBER.fullmatch(text):
            raise _BadAnswerError(f"must be a number, got {_r(raw)}", "not_a_number")
        if _THOUSANDS.fullmatch(text):
            raise _BadAnswerError(
                f"{_r(raw)} is ambiguous (a thousands separator or a decimal comma?); write "
                "the number without separators, and decimals as 2.5 or 2,5",
                "ambiguous_number",
            )
        number = float(text.replace(",", "."))
    else:
        raise _BadAnswerError(f"must be a number, got {_r(raw)}", "not_a_number")
    if math.isnan(number) or math.isinf(number):
        raise _BadAnswerError(f"must be a finite number, got {_r(raw)}", "not_a_number")
    return number


def _calculated(value: Any) -> Any:
    """The stored value of a calculation: a number, text, or None when it has no value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return int(value) if value.is_integer() else value
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return value


def _datetime(raw: Any) -> str:
    """A date and time as ``YYYY-MM-DDTHH:MM`` (seconds and a time zone are dropped)."""
    text = str(raw).strip()
    try:
        value = _dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise _BadAnswerError(
            f"must be a date and time written YYYY-MM-DDTHH:MM, got {_r(raw)}", "wrong_type"
        ) from None
    return value.strftime("%Y-%m-%dT%H:%M")


def _geopoint(raw: Any) -> str:
    """A location as ``"latitude longitude [altitude [accuracy]]"`` (ODK's geopoint)."""
    if isinstance(raw, Mapping):
        keys = ("latitude", "longitude", "altitude", "accuracy")
        parts: Any = [raw[k] for k in keys if raw.get(k) is not None]
    else:
        parts = raw.split() if isinstance(raw, str) else raw
    if not isinstance(parts, list | tuple) or not 2 <= len(parts) <= 4:
        raise _BadAnswerError(
            f"must be a location 'latitude longitude', got {_r(raw)}", "wrong_type"
        )
    numbers = [_as_number(p) for p in parts]
    if not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180):
        raise _BadAnswerError(
            f"latitude must lie between -90 and 90 and longitude between -180 and 180, got "
            f"{_r(raw)}",
            "wrong_type",
        )
    if len(numbers) == 4 and numbers[3] < 0:
        raise _BadAnswerError(f"accuracy cannot be negative, got {_r(raw)}", "wrong_type")
    return " ".join(_fmt(n) for n in numbers)


_SIGNATURES = {  # the first bytes of the image formats a phone makes
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"GIF8": "image/gif",
    b"RIFF": "image/webp",
}


def _upload(kind: str, raw: Any) -> dict[str, Any]:
    """A file answer: ``{"filename", "content_type", "data"}`` with the bytes in base64.

    Returns the same with ``size`` and ``sha256``; the caller stores the bytes and keeps
    a reference (see :mod:`dyadlab.platform.services.responses`).
    """
    if not isinstance(raw, Mapping) or not isinstance(raw.get("data"), str):
        raise _BadAnswerError(
            'must be a file: {"filename": …, "content_type": …, "data": base64}', "wrong_type"
        )
    try:
        data = base64.b64decode(raw["data"], validate=True)
    except (ValueError, binascii.Error):
        raise _BadAnswerError("the file's data is not valid base64", "wrong_type") from None
    if not data:
        raise _BadAnswerError("the file is empty", "wrong_type")
    if len(data) > MAX_UPLOAD_BYTES:
        raise _BadAnswerError(
            f"the file has {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted",
            "too_long",
            length=len(data),
            max=MAX_UPLOAD_BYTES,
        )
    content_type = str(raw.get("content_type") or "application/octet-stream").lower()
    filename = str(raw.get("filename") or kind).replace("/", "_").replace("\\", "_")[:200]
    if kind == "image" and not any(data.startswith(sig) for sig in _SIGNATURES):
        raise _BadAnswerError("must be a JPEG, PNG, GIF or WebP image", "wrong_type")
    if kind == "image":
        content_type = next(t for sig, t in _SIGNATURES.items() if data.startswith(sig))
    if kind == "audio" and not content_type.startswith("audio/"):
        raise _BadAnswerError(f"must be a sound file, got {content_type!r}", "wrong_type")
    problem = text_problem(filename)
    if problem is not None:
        raise _BadAnswerError(f"file name {problem}", "bad_character")
    return {
        "filename": filename,
        "content_type": content_type[:128],
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "data": raw["data"],
    }


def _range_code(low: float | None, high: float | None) -> tuple[str, dict[str, Any]]:
    """The code and values of an out-of-range answer (``between``, ``at_least``, ``at_most``)."""
    bounds = {"min": _number_or_none(low), "max": _number_or_none(high)}
    if low is not None and high is not None:
        return "between", bounds
    if low is not None:
        return "at_least", {"min": bounds["min"]}
    return "at_most", {"max": bounds["max"]}


def _number_or_none(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def _fmt(value: float | None) -> str:
    if value is None:
        return "any"
    number = _number_or_none(value)
    return str(number)


def _plain(data: Any) -> Any:
    """Turn integral floats into ints, recursively, so that dumps match the input files."""
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, float) and data.is_integer():
        return int(data)
    return data


# --------------------------------------------------------------------------- loading
def parse_protocol(
    mapping: Mapping[str, Any], *, origins: Mapping[tuple[Any, ...], str] | None = None
) -> Protocol:
    """Build a :class:`Protocol` from its YAML content (a mapping), checking everything.

    Parameters
    ----------
    mapping : mapping
        The content of a protocol YAML file (keys ``study``, ``languages``,
        ``default_language``, ``dyad``, ``consent``, ``schedule``, ``questionnaires``,
        ``choices`` and the optional ``analysis`` plan), or the output of :meth:`Protocol.to_dict`.
    origins : mapping, optional
        Path tuple -> place in the source file (``"survey sheet, row 7"``), used by the
        spreadsheet and REDCap readers so that errors name rows instead of YAML paths.

    Returns
    -------
    Protocol

    Raises
    ------
    ProtocolError
        Naming the path (or sheet and row) and the problem.

    Examples
    --------
    >>> parse_protocol({"study": "x", "languages": ["en"], "questionnaires": [
    ...     {"name": "q", "items": [{"name": "a", "type": "sldier", "label": "A"}]}]})
    Traceback (most recent call last):
    ...
    dyadlab.exceptions.ProtocolError: questionnaires[0].items[0].type: unknown item type \
'sldier'; did you mean 'slider'? Allowed: ...
    """
    kwargs = build_protocol_kwargs(mapping, origins or {}, item_types=ITEM_TYPES)
    return Protocol.model_validate(kwargs)


def load_protocol(path: str | Path, *, language: str = "en") -> Protocol:
    """Read a protocol file: YAML (``.yaml``), XLSForm (``.xlsx``/``.xls``) or REDCap (``.csv``).

    Parameters
    ----------
    path : str or Path
    language : str
        The language of the labels of a REDCap data dictionary, which has one label per
        field and does not say its language (ignored for YAML and XLSForm).

    Returns
    -------
    Protocol

    Raises
    ------
    ProtocolError
        If the file does not exist, has another suffix, cannot be parsed, or describes an
        invalid protocol (naming the YAML path or the sheet and row).

    Examples
    --------
    >>> from importlib import resources
    >>> path = resources.files("dyadlab") / "examples" / "daily_diary.yaml"
    >>> load_protocol(str(path)).default_language
    'nl'
    """
    path = Path(path)
    if not path.is_file():
        raise ProtocolError(f"load_protocol(): file {str(path)!r} does not exist.")
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > MAX_PROTOCOL_BYTES:
        raise ProtocolError(
            f"{path.name}: the file has {size:,} bytes; a protocol has at most "
            f"{MAX_PROTOCOL_BYTES:,} (1 MB). Is it the right file?"
        )
    origins: Mapping[tuple[Any, ...], str] = {}
    mapping: Mapping[str, Any] | None = None
    if suffix in (".yaml", ".yml"):
        mapping = _read_yaml(path)
    elif suffix in (".xlsx", ".xls"):
        from dyadlab.platform._xlsform import read_xlsform

        mapping, origins = read_xlsform(path)
    elif suffix == ".csv":
        from dyadlab.platform._redcap import read_redcap_dictionary

        mapping, origins = read_redcap_dictionary(path, language=language)
    if mapping is not None:
        found = tree_problem(dict(mapping))
        if found is not None:  # e.g. "\0" in a double-quoted YAML text is a NUL
            raise ProtocolError(f"{path.name}: {found[0]} {found[1]}.")
        return parse_protocol(mapping, origins=origins)
    raise ProtocolError(
        f"load_protocol(): {path.name!r} has suffix {suffix or '(none)'!r}; a protocol is a "
        "YAML file (.yaml, .yml), an XLSForm spreadsheet (.xlsx, .xls) or a REDCap data "
        "dictionary (.csv)."
    )


#: The largest protocol file read (the example protocol is 5 KB).
MAX_PROTOCOL_BYTES = 1_000_000


def _no_alias_loader() -> type:
    """PyYAML's safe loader without anchors and aliases (``&name``, ``*name``).

    A few kilobytes of nested aliases expand to gigabytes ("billion laughs"); a protocol
    never needs them (a choice list is shared by its name under ``choices``).
    """
    import yaml

    class NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise yaml.MarkedYAMLError(
                    problem=(
                        "anchors and aliases (&name, *name) are not allowed in a protocol; "
                        "write the repeated part out, or share a choice list by its name "
                        "under choices:"
                    ),
                    problem_mark=event.start_mark,
                )
            return super().compose_node(parent, index)

    return NoAliasLoader


def _read_yaml(path: Path) -> Mapping[str, Any]:
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_no_alias_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProtocolError(f"{path.name}{where}: not valid YAML ({exc.problem}).") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"{path.name}: not valid YAML ({exc}).") from None
    if not isinstance(data, Mapping):
        raise ProtocolError(
            f"{path.name}: a protocol must be a YAML mapping with keys study, languages, "
            f"questionnaires, …; got {type(data).__name__}."
        )
    return data


def example_protocol() -> Protocol:
    """Return the example 28-day couples' diary protocol shipped with dyadlab.

    Examples
    --------
    >>> example_protocol().schedule[0].time
    '20:00'
    """
    source = resources.files("dyadlab") / "examples" / _EXAMPLE
    with resources.as_file(source) as path:
        return load_protocol(path)
