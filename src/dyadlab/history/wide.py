"""TraMineR-compatible wide sequences: one row per person, one column per period.

Two alignments:

- ``calendar`` (default): a column per calendar period (``2019-01``, ``2019-02``, …)
  from the earliest start to the latest end over all persons; a cell outside a person's
  sequence is empty (``NA`` in R).
- ``start``: columns ``t1, t2, …``, the first, second, … period of each person's own
  sequence; cells after its end are empty.

Both begin with the columns ``person`` and ``start`` (the label of the person's first
period). In R::

    library(TraMineR)
    wide <- read.csv("sequences.csv", check.names = FALSE)
    seqs <- seqdef(wide, var = 3:ncol(wide), id = wide$person, left = "DEL", right = "DEL")

(``left = "DEL"`` starts each sequence at the person's first period, as
:func:`dyadlab.history.distances` compares them; keep ``left = NA`` for calendar-aligned
plots.) A column of row names that R's ``write.csv`` adds (an empty name) is ignored
when the table is read back.

Examples
--------
>>> import dyadlab as dl
>>> frame, truth = dl.history.simulate_episodes(3, rng=2, imprecise=0)
>>> res = dl.history.sequences(frame, until=truth.until)
>>> wide = dl.history.to_wide(res)
>>> dl.history.read_wide(wide).as_dict() == res.as_dict()
True
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from dyadlab._validation import check_option
from dyadlab.exceptions import DyadicDataError
from dyadlab.history._sequences import (
    _FREQ,
    UNITS,
    Sequence,
    SequenceResult,
    _period,
    period_label,
)
from dyadlab.history.episodes import read_source

__all__ = ["read_wide", "to_wide"]

ALIGNMENTS = ("calendar", "start")
_POSITION = re.compile(r"^t(\d+)$")


def to_wide(result: SequenceResult, *, align: str = "calendar") -> pd.DataFrame:
    """The sequences as TraMineR's wide table.

    Parameters
    ----------
    result : SequenceResult
        What :func:`dyadlab.history.sequences` returned.
    align : {"calendar", "start"}
        Columns per calendar period, or per position in each person's own sequence.

    Returns
    -------
    DataFrame
        ``person, start`` and one column per period (labels) or position (``t1, …``);
        empty cells are missing values (``NA`` when written to CSV for R, or empty).

    Examples
    --------
    >>> import dyadlab as dl
    >>> res = dl.history.SequenceResult([dl.history.Sequence("p1", "2019-11", ["casual", "none"])])
    >>> list(dl.history.to_wide(res).columns)
    ['person', 'start', '2019-11', '2019-12']
    """
    check_option("align", align, ALIGNMENTS, func="to_wide")
    unit = result.unit
    rows = []
    for s in result.sequences:
        row: dict[str, Any] = {"person": s.person, "start": s.start}
        if align == "start":
            row.update({f"t{i + 1}": state for i, state in enumerate(s.states)})
        else:
            row.update(dict(zip(s.labels(unit), s.states, strict=True)))
        rows.append(row)
    if align == "start":
        width = max((len(s.states) for s in result.sequences), default=0)
        columns = [f"t{i + 1}" for i in range(width)]
    else:
        first = min(_period(s.start, unit) for s in result.sequences)
        last = max(_period(s.start, unit) + len(s.states) - 1 for s in result.sequences)
        columns = [period_label(first + i, unit) for i in range((last - first).n + 1)]
    return pd.DataFrame(rows, columns=["person", "start", *columns])


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and value.strip() in ("", "NA")


def read_wide(source: Any, *, unit: str = "month") -> SequenceResult:
    """Read a wide table (as :func:`to_wide` writes it) back into sequences.

    Parameters
    ----------
    source : DataFrame or path
        The table, or a file :func:`dyadlab.io.read_table` reads (CSV read as text).
    unit : str
        The unit of the periods (``month`` by default).

    Returns
    -------
    SequenceResult
        With ``until`` None and no warnings.

    Raises
    ------
    DyadicDataError
        No ``person`` column; columns that are neither period labels nor ``t1, t2, …``;
        a missing state inside a person's sequence; no ``start`` for ``t``-columns.

    Examples
    --------
    >>> import pandas as pd
    >>> wide = pd.DataFrame({"person": ["p1"], "start": ["2019-12"], "2019-11": [None],
    ...                      "2019-12": ["casual"], "2020-01": ["none"]})
    >>> read_wide(wide).sequences[0]
    Sequence(person='p1', start='2019-12', states=['casual', 'none'])
    """
    func = "read_wide"
    check_option("unit", unit, UNITS, func=func)
    frame = read_source(source, func)[0]
    if "person" not in frame.columns:
        raise DyadicDataError(f"{func}(): the table has no column 'person'.")
    # R's write.csv adds a column of row names without a name; pandas calls it "Unnamed: 0"
    frame = frame.drop(
        columns=[c for c in frame.columns if str(c) == "" or str(c).startswith("Unnamed: ")]
    )
    columns = [str(c) for c in frame.columns if str(c) not in ("person", "start")]
    positional = bool(columns) and all(_POSITION.match(c) for c in columns)
    if positional and "start" not in frame.columns:
        raise DyadicDataError(
            f"{func}(): columns t1, t2, … count periods from each person's start, but the "
            "table has no column 'start' to place them on the calendar."
        )
    periods: list[pd.Period] = []
    if not positional:
        for c in columns:
            try:
                period = _period(c, unit)
                if period_label(period, unit) != c:
                    raise ValueError(c)
            except (ValueError, TypeError):
                raise DyadicDataError(
                    f"{func}(): column {c!r} is neither a {unit} label (like "
                    f"{period_label(pd.Period('2019-01-15', _FREQ[unit]), unit)!r}) nor t1, "
                    "t2, …; give the right unit= or remove the column."
                ) from None
            periods.append(period)
    out = []
    for _, row in frame.iterrows():
        person = str(row["person"])
        cells = [row[c] for c in frame.columns if str(c) not in ("person", "start")]
        present = [i for i, v in enumerate(cells) if not _missing(v)]
        if not present:
            raise DyadicDataError(f"{func}(): person {person!r} has no states.")
        lo, hi = present[0], present[-1]
        gaps = [columns[i] for i in range(lo, hi + 1) if _missing(cells[i])]
        if gaps:
            raise DyadicDataError(
                f"{func}(): person {person!r} has no state in column {gaps[0]!r}, inside "
                "their sequence; a period without an episode is 'none', not empty."
            )
        states = [str(v).strip() for v in cells[lo : hi + 1]]
        if positional:
            if lo != 0:
                raise DyadicDataError(
                    f"{func}(): person {person!r} starts at column {columns[lo]!r}; a "
                    "sequence in t-columns starts at t1."
                )
            start = str(row["start"]).strip()
        else:
            start = period_label(periods[lo], unit)
        out.append(Sequence(person=person, start=start, states=states))
    return SequenceResult(sequences=out, unit=unit, until=None)
