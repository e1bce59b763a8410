"""Relationship episodes: read, check and place their (often imprecise) dates.

An episodes table has one row per episode (spell) of one kind with one partner:
``person, partner, type, start, end, start_precision, end_precision, certainty``, and
optionally ``episode`` (an id) and ``note`` (the interviewer's note; ``notes`` in the
platform's JSON export). Other columns are ignored. Dates are written
``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``; an empty ``end`` means the episode is ongoing
up to ``until`` (default today).

How an imprecise date is placed on the calendar depends only on how it is written:

- ``YYYY-MM-DD``: on that day (``2019-03-05`` → 5 March 2019);
- ``YYYY-MM``: on the 15th of the month (``2019-03`` → 15 March 2019);
- ``YYYY``: on the 1st of July (``2019`` → 1 July 2019).

The precision columns (``day``, ``month``, ``season``, ``year``, ``age``; empty = as
written) say how well the respondent knew the date. A date may be written more
precisely than it is known (``2019-07`` with precision ``season`` is "summer 2019",
placed in July); it may not be known more precisely than it is written (``2019`` with
precision ``month`` is an error). When a placed end falls before a placed start that
the precisions allow to be in the right order (start ``2019``, end ``2019-03``), the
less precise of the two is moved onto the other, and a warning says so; a start placed
after ``until`` although written to allow it (``2024`` with ``until`` 1 March 2024) is
placed on ``until``, with a warning.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.history import read_episodes
>>> frame = pd.DataFrame({"person": ["p1"], "partner": ["a"], "type": ["romantic"],
...     "start": ["2019"], "end": ["2020-02-10"], "start_precision": [""],
...     "end_precision": [""], "certainty": ["4"]})
>>> ep = read_episodes(frame, until="2024-01-01")
>>> ep.table.loc[0, "start"].date()
datetime.date(2019, 7, 1)
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab._validation import closest
from dyadlab.exceptions import DyadicDataError, OptionError

__all__ = [
    "COLUMNS",
    "PRECISIONS",
    "TYPES",
    "Episodes",
    "parse_date",
    "read_episodes",
]

COLUMNS: tuple[str, ...] = (
    "person",
    "partner",
    "type",
    "start",
    "end",
    "start_precision",
    "end_precision",
    "certainty",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("episode", "note")
PRECISIONS: tuple[str, ...] = ("day", "month", "season", "year", "age")
# how coarse each precision is; a date may not be known more precisely than written
PRECISION_RANK: dict[str, int] = {"day": 0, "month": 1, "season": 2, "year": 3, "age": 4}
# the kinds of episode the interview asks about (any other name without "+" is allowed)
TYPES: tuple[str, ...] = (
    "romantic",
    "dating",
    "friends_with_benefits",
    "casual",
    "one_time",
    "online",
)
PLACEMENT: dict[str, str] = {
    "day": "on that day",
    "month": "on the 15th of the month",
    "year": "on the 1st of July",
}
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_date(text: str) -> tuple[_dt.date, str]:
    """The placed day and the written precision (``day``, ``month`` or ``year``) of a date.

    Raises :class:`ValueError` with the reason when ``text`` is not a date in one of the
    three forms.

    Examples
    --------
    >>> parse_date("2019-03")
    (datetime.date(2019, 3, 15), 'month')
    >>> parse_date("2019")
    (datetime.date(2019, 7, 1), 'year')
    """
    match = _DATE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date; write YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = match.groups()
    try:
        if day is not None:
            return _dt.date(int(year), int(month), int(day)), "day"
        if month is not None:
            return _dt.date(int(year), int(month), 15), "month"
    except ValueError:
        raise ValueError(f"{text!r} is not a calendar date") from None
    return _dt.date(int(year), 7, 1), "year"


def _as_date(value: Any, *, argument: str, func: str) -> _dt.date:
    """``until`` and similar arguments: None = today, a date, or a written date."""
    if value is None:
        return _dt.date.today()
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return parse_date(str(value))[0]
    except ValueError as exc:
        raise OptionError(f"{func}(): {argument}={value!r}: {exc}.") from None


@dataclass(frozen=True)
class Episodes:
    """Checked episodes with their dates placed on the calendar.

    Attributes
    ----------
    table : DataFrame
        One row per episode, in the order read: ``person, partner, type`` (strings),
        ``start, end`` (placed days, Timestamps; an ongoing episode ends on ``until``),
        ``start_given, end_given`` (as written), ``start_precision, end_precision``
        (filled in from the writing where empty; ``ongoing`` for an open end),
        ``start_written, end_written`` (``day``/``month``/``year``: how the date was
        written), ``ongoing`` (bool), ``certainty`` (Int64, 1–5 or missing),
        ``episode``, ``note`` (strings; ``episode`` defaults to ``e1, e2, …``) and
        ``where`` (the row as messages name it).
    until : datetime.date
        The day ongoing episodes run up to.
    source : str
        The file name, or ``"data"`` for a DataFrame.
    notes : list of str
        Adjustments made while reading (dates moved to keep an episode in order, ends
        cut at ``until``); the analyses repeat them in their warnings.
    """

    table: pd.DataFrame
    until: _dt.date
    source: str = "data"
    notes: list[str] = field(default_factory=list)

    @property
    def persons(self) -> list[str]:
        """The persons, in the order they first appear."""
        return list(dict.fromkeys(self.table["person"]))

    def placement_warnings(self, unit: str = "month") -> list[str]:
        """Messages on dates known less precisely than ``unit`` and where they were placed.

        One message per kind of date (start or end) and precision, naming the rows.

        Examples
        --------
        >>> import pandas as pd
        >>> ep = read_episodes(pd.DataFrame({"person": ["p1"], "partner": ["a"],
        ...     "type": ["casual"], "start": ["2019"], "end": ["2019-09"],
        ...     "start_precision": [""], "end_precision": [""], "certainty": [""]}),
        ...     until="2020-01-01")
        >>> print(ep.placement_warnings("month")[0])
        1 start date known only to the year was placed on the 1st of July (row 0): the months
        near it are uncertain.
        """
        # a season may straddle two quarters, an age two years
        unit_rank = {"day": 0, "week": 0, "month": 1, "quarter": 1, "year": 3}[unit]
        messages = []
        for side in ("start", "end"):
            for precision in PRECISIONS:
                if PRECISION_RANK[precision] <= unit_rank:
                    continue
                rows = self.table[self.table[f"{side}_precision"] == precision]
                if rows.empty:
                    continue
                n = len(rows)
                written = sorted(set(rows[f"{side}_written"]), key=PRECISION_RANK.__getitem__)
                placed = " or ".join(PLACEMENT[w] for w in written)
                known = {
                    "month": "to the month",
                    "season": "to the season",
                    "year": "only to the year",
                    "age": "only as an age",
                }[precision]
                messages.append(
                    f"{n} {side} date{'s' if n > 1 else ''} known {known} "
                    f"{'were' if n > 1 else 'was'} placed {placed} "
                    f"({_rows(rows)}): the {unit}s near {'them' if n > 1 else 'it'} "
                    "are uncertain."
                )
        return messages + list(self.notes)


def _rows(rows: pd.DataFrame) -> str:
    """``line 4`` or ``lines 4, 7 and 9``: the rows as messages name them."""
    wheres = list(rows["where"])
    if len(wheres) == 1:
        return str(wheres[0])
    kind = str(wheres[0]).split(" ")[0]
    labels = [str(w).split(" ", 1)[1] for w in wheres]
    shown = ", ".join(labels[:5])
    more = f" and {len(labels) - 5} more" if len(labels) > 5 else ""
    return f"{kind}s {shown}{more}"


def read_source(source: Any, func: str) -> tuple[pd.DataFrame, str, bool]:
    """The table, its name for messages, and whether it came from a file.

    CSV and other text tables are read as text (so that ``2019`` stays a date); a
    ``.json`` file holds a list of row objects, or an object whose ``episodes`` (or
    ``rows``) is that list, as the platform's JSON export. Column names are stripped of
    spaces and of a spreadsheet's byte-order mark.
    """
    if isinstance(source, pd.DataFrame):
        return source, "data", False
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise DyadicDataError(f"{func}(): there is no file {str(path)!r}.")
        if path.suffix.lower() == ".json":
            frame = _read_json(path, func)
        else:
            from dyadlab.io import read_table

            text_like = path.suffix.lower() in (".csv", ".tsv", ".tab", ".txt", ".gz")
            opts: dict[str, Any] = {"dtype": str, "keep_default_na": False} if text_like else {}
            frame = read_table(path, **opts)
        frame = frame.rename(columns=lambda c: str(c).replace("\ufeff", "").strip())
        return frame, path.name, True
    raise OptionError(
        f"{func}(): episodes must be a DataFrame or the path of a file, got "
        f"{type(source).__name__}."
    )


def _read_json(path: Path, func: str) -> pd.DataFrame:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DyadicDataError(f"{func}(): {path.name} is not JSON ({exc}).") from None
    if isinstance(data, dict):
        data = data.get("episodes", data.get("rows"))
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DyadicDataError(
            f"{func}(): {path.name} must hold a list of rows (objects), or an object whose "
            "'episodes' is that list."
        )
    return pd.DataFrame(data, dtype=object)


def _text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, _dt.datetime | pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value).strip()


def read_episodes(source: Any, *, until: Any = None) -> Episodes:
    """Read and check an episodes table; place its dates on the calendar.

    Parameters
    ----------
    source : DataFrame or path
        The episodes: a DataFrame, or a file :func:`dyadlab.io.read_table` reads (CSV
        is read as text, so that ``2019`` stays a date; a ``.json`` file is a list of
        rows or the platform's export, ``{"episodes": [...]}``). Columns ``person,
        partner, type, start, end, start_precision, end_precision, certainty``;
        optional ``episode`` and ``note`` (or ``notes``); others are left out.
    until : date or str, optional
        The day ongoing episodes (empty ``end``) run up to, usually the interview date;
        default today. An end after ``until`` is cut at ``until`` (with a warning); a
        start after it is an error.

    Returns
    -------
    Episodes
        The checked table with the placed ``start`` and ``end``.

    Raises
    ------
    DyadicDataError
        A missing column, or a row with an empty person, type or start, a date that is
        not ``YYYY-MM-DD``/``YYYY-MM``/``YYYY``, an unknown precision or one finer than
        the date as written, an end before its start, a certainty outside 1–5: the
        message names the row (the file's line) and the column.

    See Also
    --------
    dyadlab.history.sequences : the monthly state sequences of the episodes.

    Examples
    --------
    >>> from dyadlab.history import simulate_episodes
    >>> frame, truth = simulate_episodes(3, rng=1)
    >>> ep = read_episodes(frame, until=truth.until)
    >>> ep.persons
    ['p1', 'p2', 'p3']
    """
    func = "read_episodes"
    until_day = _as_date(until, argument="until", func=func)
    frame, name, from_file = read_source(source, func)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        hint = closest(missing[0], [str(c) for c in frame.columns])
        did = f" (did you mean {hint!r}?)" if hint else ""
        raise DyadicDataError(
            f"{func}(): {name} has no column {missing[0]!r}{did}; an episodes table needs "
            f"the columns {', '.join(COLUMNS)}."
        )
    if frame.empty:
        raise DyadicDataError(f"{func}(): {name} holds no episodes.")
    rows = []
    notes: list[str] = []
    records = frame.to_dict("records")
    for number, (label, record) in enumerate(zip(frame.index, records, strict=True)):
        where = f"line {number + 2}" if from_file else f"row {label}"
        rows.append(_read_row(record, where, name, until_day, notes, number))
    table = pd.DataFrame(rows)
    by_case: dict[str, list[str]] = {}
    for kind in dict.fromkeys(table["type"]):
        by_case.setdefault(kind.casefold(), []).append(kind)
    for kinds in by_case.values():
        if len(kinds) > 1:
            notes.append(
                f"the types {' and '.join(repr(k) for k in kinds)} differ only in case and "
                "are counted as different types; write them alike if they are one."
            )
    table["start"] = pd.to_datetime(table["start"])
    table["end"] = pd.to_datetime(table["end"])
    table["certainty"] = table["certainty"].astype("Int64")
    return Episodes(table=table, until=until_day, source=name, notes=notes)


def _read_row(
    record: dict[Any, Any],
    where: str,
    name: str,
    until: _dt.date,
    notes: list[str],
    number: int,
) -> dict[str, Any]:
    def fail(column: str, problem: str) -> DyadicDataError:
        return DyadicDataError(f"read_episodes(): {name}, {where}, column {column!r}: {problem}.")

    values = {c: _text(record.get(c)) for c in (*COLUMNS, *OPTIONAL_COLUMNS)}
    if not values["note"]:
        values["note"] = _text(record.get("notes"))  # the platform's JSON export
    for column in ("person", "type", "start"):
        if not values[column]:
            raise fail(column, "is empty; every episode needs a person, a type and a start")
    kind = values["type"]
    if "+" in kind or kind == "none":
        raise fail(
            "type",
            f"{kind!r} cannot be a type ('+' joins overlapping types and 'none' is the "
            "state without an episode); rename it",
        )
    dates: dict[str, tuple[_dt.date, str, str]] = {}
    for side in ("start", "end"):
        text = values[side]
        if side == "end" and not text:
            continue
        try:
            day, written = parse_date(text)
        except ValueError as exc:
            raise fail(side, str(exc)) from None
        precision = values[f"{side}_precision"].lower() or written
        if precision not in PRECISION_RANK:
            hint = closest(precision, PRECISIONS)
            did = f" (did you mean {hint!r}?)" if hint else ""
            raise fail(
                f"{side}_precision",
                f"{precision!r} is not a precision{did}; write one of "
                f"{', '.join(PRECISIONS)} or leave it empty",
            )
        if PRECISION_RANK[precision] < PRECISION_RANK[written]:
            raise fail(
                f"{side}_precision",
                f"{precision!r} but {side} {text!r} is written to the {written} only; write "
                f"the {side} to the {precision} or give the precision {written!r}",
            )
        dates[side] = (day, written, precision)
    start, start_written, start_precision = dates["start"]
    if start > until:
        if _earliest(start, start_written) > until:
            raise fail(
                "start",
                f"{values['start']!r} is after until ({until.isoformat()}); correct the date "
                "or give a later until (--until)",
            )
        notes.append(
            f"{where}: the start {values['start']!r} was placed on {until.isoformat()}, the "
            "until day, so that it does not fall after it."
        )
        start = until
    ongoing = "end" not in dates
    if ongoing:
        end, end_written, end_precision = until, "day", "ongoing"
    else:
        end, end_written, end_precision = dates["end"]
        if _latest(end, end_written) < _earliest(start, start_written):
            raise fail(
                "end",
                f"{values['end']!r} is before the start {values['start']!r}; swap or correct "
                "the dates",
            )
        if end < start:
            if PRECISION_RANK[start_written] > PRECISION_RANK[end_written]:
                notes.append(
                    f"{where}: the start {values['start']!r} was placed on "
                    f"{end.isoformat()}, the end, so that it does not fall after the end."
                )
                start = end
            else:
                notes.append(
                    f"{where}: the end {values['end']!r} was placed on {start.isoformat()}, "
                    "the start, so that it does not fall before the start."
                )
                end = start
        if end > until:
            notes.append(
                f"{where}: the end {values['end']!r} is after until ({until.isoformat()}); "
                "the episode was cut there."
            )
            end = until
    certainty: int | None = None
    if values["certainty"]:
        try:
            certainty = int(float(values["certainty"]))
        except ValueError:
            certainty = -1
        if certainty < 1 or certainty > 5 or float(values["certainty"]) != certainty:
            raise fail(
                "certainty",
                f"{values['certainty']!r} is not a whole number from 1 to 5; give 1 (unsure) "
                "to 5 (sure) or leave it empty",
            )
    return {
        "person": values["person"],
        "partner": values["partner"],
        "type": kind,
        "start": start,
        "end": end,
        "start_given": values["start"],
        "end_given": values["end"],
        "start_precision": start_precision,
        "end_precision": end_precision,
        "start_written": start_written,
        "end_written": end_written,
        "ongoing": ongoing,
        "certainty": certainty,
        "episode": values["episode"] or f"e{number + 1}",
        "note": values["note"],
        "where": where,
    }


def _earliest(day: _dt.date, written: str) -> _dt.date:
    if written == "day":
        return day
    if written == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _latest(day: _dt.date, written: str) -> _dt.date:
    if written == "day":
        return day
    if written == "month":
        following = (day.replace(day=28) + _dt.timedelta(days=4)).replace(day=1)
        return following - _dt.timedelta(days=1)
    return day.replace(month=12, day=31)
