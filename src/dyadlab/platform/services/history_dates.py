"""Fuzzy dates of the history interview: what a respondent can remember.

A date is written as the interviewer types it and stored in a canonical form with its
precision:

=========  ==========================  ==============  =========================
precision  typed (examples)            stored          exported (CSV ``start``)
=========  ==========================  ==============  =========================
day        ``2019-03-15``, 15-3-2019   ``2019-03-15``  ``2019-03-15``
month      ``2019-03``, 3-2019         ``2019-03``     ``2019-03``
season     ``summer 2019``, zomer 2019 ``2019-summer`` ``2019-07`` (middle month)
year       ``2019``                    ``2019``        ``2019``
age        ``age 16``, 16 jaar         ``age 16``      ``YYYY-MM`` (middle month
                                                       of that year of life)
=========  ==========================  ==============  =========================

Seasons are meteorological: spring March–May, summer June–August, autumn
September–November, and winter YYYY is December YYYY to February YYYY+1 (the winter
that starts in that year). An age needs the respondent's birth month: age 16 runs from
their 16th birthday to the day before their 17th, placed in its 7th month.

Every fuzzy date covers a range of days (:attr:`FuzzyDate.earliest` to
:attr:`FuzzyDate.latest`); the consistency probes compare these ranges, so "2019" and
"2019-03" are not called inconsistent.

Examples
--------
>>> d = parse_when("zomer 2019")
>>> d.value, d.precision, d.earliest.isoformat(), d.latest.isoformat(), d.export
('2019-summer', 'season', '2019-06-01', '2019-08-31', '2019-07')
>>> parse_when("age 16", birth="2003-05").export
'2019-11'
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from dyadlab.exceptions import DyadlabError

__all__ = [
    "PRECISIONS",
    "SEASONS",
    "FuzzyDate",
    "FuzzyDateError",
    "parse_birth",
    "parse_when",
    "stored",
]

PRECISIONS: tuple[str, ...] = ("day", "month", "season", "year", "age")

#: season -> (first month, middle month) ; winter's middle month is January of the next year.
SEASONS: dict[str, tuple[int, int]] = {
    "spring": (3, 4),
    "summer": (6, 7),
    "autumn": (9, 10),
    "winter": (12, 1),
}
_SEASON_WORDS: dict[str, str] = {
    "spring": "spring",
    "lente": "spring",
    "voorjaar": "spring",
    "summer": "summer",
    "zomer": "summer",
    "autumn": "autumn",
    "fall": "autumn",
    "herfst": "autumn",
    "najaar": "autumn",
    "winter": "winter",
}
_MIN_YEAR, _MAX_YEAR = 1900, 2100
HELP = "2019-03-15, 2019-03, summer 2019, 2019 or age 16"


class FuzzyDateError(DyadlabError, ValueError):
    """A date the interview cannot read; the message says what was typed and what works."""


@dataclass(frozen=True)
class FuzzyDate:
    """A remembered date: ``value`` (canonical text), ``precision``, the range of days it
    covers, and ``export`` (its ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY`` form for the CSV).
    """

    value: str
    precision: str
    earliest: date
    latest: date
    export: str

    @property
    def middle(self) -> date:
        """The middle day of the range (where a drawing places it)."""
        return date.fromordinal((self.earliest.toordinal() + self.latest.toordinal()) // 2)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def _year(text: str, raw: str) -> int:
    year = int(text)
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise FuzzyDateError(f"{raw!r}: the year must be between {_MIN_YEAR} and {_MAX_YEAR}.")
    return year


def parse_birth(text: str) -> str:
    """A birth month typed as ``YYYY-MM`` (or ``MM-YYYY``), canonical ``YYYY-MM``.

    Examples
    --------
    >>> parse_birth("5-2003")
    '2003-05'
    """
    raw = text.strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", raw) or None
    if m is None and (m2 := re.fullmatch(r"(\d{1,2})[-/](\d{4})", raw)):
        year, month = _year(m2.group(2), raw), int(m2.group(1))
    elif m is not None:
        year, month = _year(m.group(1), raw), int(m.group(2))
    else:
        raise FuzzyDateError(f"Birth month {raw!r}: write it as YYYY-MM, e.g. 2003-05.")
    if not 1 <= month <= 12:
        raise FuzzyDateError(f"Birth month {raw!r}: the month must be 1 to 12.")
    return f"{year:04d}-{month:02d}"


def _age(age: int, birth: str | None, raw: str) -> FuzzyDate:
    if birth is None:
        raise FuzzyDateError(
            f"{raw!r} is an age: enter the respondent's birth month first (at the top of "
            "the interview), or give a year."
        )
    if not 0 <= age <= 120:
        raise FuzzyDateError(f"{raw!r}: an age must be between 0 and 120.")
    by, bm = (int(part) for part in birth.split("-"))
    first = date(by + age, bm, 1)
    ly, lm = _add_months(by + age, bm, 11)
    my, mm = _add_months(by + age, bm, 6)
    return FuzzyDate(f"age {age}", "age", first, _month_end(ly, lm), f"{my:04d}-{mm:02d}")


def parse_when(text: str, *, birth: str | None = None) -> FuzzyDate:
    """Read a remembered date (see the module's table); ``birth`` (``YYYY-MM``) is needed
    for an age.

    Raises
    ------
    FuzzyDateError
        The text is not one of the accepted forms, or not a real date.

    Examples
    --------
    >>> parse_when("2019").latest.isoformat()
    '2019-12-31'
    >>> parse_when("31-02-2019")
    Traceback (most recent call last):
    ...
    dyadlab.platform.services.history_dates.FuzzyDateError: '31-02-2019' is not a date: \
there is no such day.
    """
    raw = text.strip()
    low = re.sub(r"\s+", " ", raw.lower())
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", low):
            day = date(_year(m.group(1), raw), int(m.group(2)), int(m.group(3)))
            return FuzzyDate(day.isoformat(), "day", day, day, day.isoformat())
        if m := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", low):
            day = date(_year(m.group(3), raw), int(m.group(2)), int(m.group(1)))
            return FuzzyDate(day.isoformat(), "day", day, day, day.isoformat())
    except ValueError as exc:
        if isinstance(exc, FuzzyDateError):
            raise
        raise FuzzyDateError(f"{raw!r} is not a date: there is no such day.") from None
    month_match = re.fullmatch(r"(\d{4})-(\d{1,2})", low)
    if month_match is None and (m := re.fullmatch(r"(\d{1,2})[-/](\d{4})", low)):
        year, month = _year(m.group(2), raw), int(m.group(1))
    elif month_match is not None:
        year, month = _year(month_match.group(1), raw), int(month_match.group(2))
    else:
        year = month = 0
    if year:
        if not 1 <= month <= 12:
            raise FuzzyDateError(f"{raw!r}: the month must be 1 to 12.")
        value = f"{year:04d}-{month:02d}"
        return FuzzyDate(value, "month", date(year, month, 1), _month_end(year, month), value)
    if m := (re.fullmatch(r"([a-z]+) (\d{4})", low) or re.fullmatch(r"(\d{4})[ -]([a-z]+)", low)):
        word, digits = (
            (m.group(1), m.group(2)) if m.group(1).isalpha() else (m.group(2), m.group(1))
        )
        season = _SEASON_WORDS.get(word)
        if season is None:
            raise FuzzyDateError(
                f"{raw!r}: {word!r} is not a season (spring, summer, autumn, winter; lente, "
                "zomer, herfst, winter)."
            )
        year = _year(digits, raw)
        first, middle = SEASONS[season]
        ly, lm = _add_months(year, first, 2)
        export_year = year + 1 if season == "winter" else year
        return FuzzyDate(
            f"{year:04d}-{season}",
            "season",
            date(year, first, 1),
            _month_end(ly, lm),
            f"{export_year:04d}-{middle:02d}",
        )
    if re.fullmatch(r"\d{4}", low):
        year = _year(low, raw)
        return FuzzyDate(low, "year", date(year, 1, 1), date(year, 12, 31), low)
    if m := (
        re.fullmatch(r"(?:age|leeftijd) (\d{1,3})", low)
        or re.fullmatch(r"(\d{1,3}) ?(?:years?|jaar|y)", low)
    ):
        return _age(int(m.group(1)), birth, raw)
    raise FuzzyDateError(f"{raw!r} is not a date I can read; write e.g. {HELP}.")


def stored(value: str, precision: str, *, birth: str | None = None) -> FuzzyDate:
    """The :class:`FuzzyDate` of a stored ``value`` (as :func:`parse_when` made it).

    Examples
    --------
    >>> stored("2019-summer", "season").export
    '2019-07'
    """
    if precision == "season":
        year, season = value.split("-")
        return parse_when(f"{season} {year}")
    return parse_when(value, birth=birth)
