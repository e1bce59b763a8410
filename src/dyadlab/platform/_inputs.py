"""What the platform accepts as text and as a time, the same on SQLite and PostgreSQL.

Text
----
Every text that reaches the database (answers and their item names, e-mail addresses,
protocols, any string of a JSON body) may hold any character except

- an unpaired surrogate (U+D800 to U+DFFF): not a character at all; PostgreSQL refuses
  it, SQLite stores it, and then no CSV, Parquet or SPSS writer can write it;
- NUL and the other control characters (U+0000 to U+001F, U+007F to U+009F), except
  tab, line feed and carriage return (a text box sends line breaks as CR LF):
  PostgreSQL refuses NUL, and the others are invisible in every program that shows the
  data.

:func:`text_problem` says what is wrong with one text, :func:`tree_problem` finds the
first bad text (keys included) in a JSON value and names its place.

Times
-----
A time a client sends (``started_at``, ``finished_at``) must carry an offset and lie
between :data:`EARLIEST` (1 January 2000, UTC) and a day after the server's clock
(:data:`LATEST_AHEAD`): a phone's clock can be wrong by hours, never by years, and a
time outside that range is a broken clock or an attack (``9999-12-31T23:59:59-14:00``
cannot even be converted to UTC). See :func:`time_problem`.

Stored data from before these checks
------------------------------------
:func:`readable` replaces bad characters by U+FFFD (the replacement character) in
what the server sends back or exports, so a row stored before can never break an
export or a participant's list of answers.

Examples
--------
>>> text_problem("fine\\twith a tab")
>>> text_problem("a\\x00b")
'contains the control character U+0000 at position 2; remove it'
>>> tree_problem({"answers": {"note": "\\ud800"}})
('answers.note', 'contains an unpaired surrogate U+D800 at position 1; remove it')
>>> readable({"note": "x\\ud800"})
{'note': 'x�'}
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "EARLIEST",
    "LATEST_AHEAD",
    "readable",
    "shown",
    "text_problem",
    "time_problem",
    "tree_problem",
]

#: The earliest time a client may send.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead of the server's clock a client's time may lie.
LATEST_AHEAD = timedelta(days=1)

_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_MAX_DEPTH = 32


def text_problem(value: str) -> str | None:
    """What is wrong with ``value`` (see the module notes), or None.

    Examples
    --------
    >>> text_problem("line one\\r\\nline two")
    >>> text_problem("\\x1b[31m red")
    'contains the control character U+001B at position 1; remove it'
    """
    found = _BAD.search(value)
    if found is None:
        return None
    code = ord(found.group())
    what = "an unpaired surrogate" if 0xD800 <= code <= 0xDFFF else "the control character"
    return f"contains {what} U+{code:04X} at position {found.start() + 1}; remove it"


def shown(value: Any, limit: int = 40) -> str:
    """``value`` as text that is safe to put in a message: bad characters written as
    ``\\uXXXX``, and cut to ``limit`` characters.

    Examples
    --------
    >>> shown("no\\x00te")
    'no\\\\u0000te'
    >>> shown("x" * 50, limit=10)
    'xxxxxxxxx…'
    """
    text = _BAD.sub(lambda m: f"\\u{ord(m.group()):04x}", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _path_text(path: list[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + shown(part)
    return out or "(body)"


def tree_problem(value: Any, path: list[str | int] | None = None) -> tuple[str, str] | None:
    """The first bad text in a JSON value (strings, keys, lists, dicts): ``(place,
    problem)`` with the place written like ``answers.note`` or ``roles[2][0]``; None
    if every text is fine. A value nested deeper than 32 levels is a problem too.

    Examples
    --------
    >>> tree_problem({"roles": [["man", "wo\\x07man"]]})
    ('roles[0][1]', 'contains the control character U+0007 at position 3; remove it')
    >>> tree_problem({"fine": [1, 2.5, None, True]}) is None
    True
    """
    path = path or []
    if len(path) > _MAX_DEPTH:
        return _path_text(path), f"is nested more than {_MAX_DEPTH} levels deep"
    if isinstance(value, str):
        problem = text_problem(value)
        return None if problem is None else (_path_text(path), problem)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and (problem := text_problem(key)) is not None:
                return _path_text([*path, key]), "the name " + problem
            found = tree_problem(item, [*path, key])
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            found = tree_problem(item, [*path, k])
            if found is not None:
                return found
    return None


def readable(value: Any) -> Any:
    """``value`` (text, or a JSON value) with every bad character replaced by U+FFFD.

    For data stored before the checks existed: what is sent back or exported can always
    be encoded. Values without bad characters come back as they are (the same objects).

    Examples
    --------
    >>> readable(["ok", {"a\\x00": 1}])
    ['ok', {'a�': 1}]
    """
    if isinstance(value, str):
        return _BAD.sub("\ufffd", value) if _BAD.search(value) else value
    if isinstance(value, dict):
        return {readable(k): readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    return value


def time_problem(value: datetime, now: datetime) -> str | None:
    """What is wrong with a client's time ``value`` when the server's clock says
    ``now``, or None: no offset, before 2000, or more than a day ahead.

    Examples
    --------
    >>> now = datetime(2026, 3, 3, tzinfo=UTC)
    >>> time_problem(datetime(2026, 3, 3, 9, tzinfo=UTC), now)
    >>> time_problem(datetime(1, 1, 1, tzinfo=UTC), now)[-51:]
    ' (2026-03-04T00:00Z); got 0001-01-01T00:00:00+00:00'
    """
    if value.tzinfo is None or value.utcoffset() is None:
        return f"needs a time zone offset (ISO 8601, e.g. Z or +01:00); got {value.isoformat()}"
    latest = now + LATEST_AHEAD
    try:
        inside = EARLIEST <= value.astimezone(UTC) <= latest
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is after the year 9999 in UTC
        inside = False
    if inside:
        return None
    return (
        "must lie between 2000-01-01 and a day after the server time "
        f"({latest.astimezone(UTC):%Y-%m-%dT%H:%MZ}); got {value.isoformat()}"
    )
