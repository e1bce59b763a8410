"""State sequences: one state per calendar month (or day, week, quarter, year) per person.

A person's sequence runs from the period of their first episode's start to the period
of their last episode's end (an ongoing episode ends at ``until``). A period counts for
an episode it overlaps at all, even by one day. The state of a period is the set of
episode types it counts for, written in alphabetical order joined by ``+``
(``casual+romantic``: a casual and a romantic episode at once), or ``none``. Two
episodes of one type at once (two casual partners) give that type once.

Periods are labelled ``2019-03`` (month), ``2019-03-05`` (day), the Monday a week starts
on (``2019-03-04``; weeks run Monday–Sunday), ``2019Q1`` (quarter) and ``2019`` (year).

Examples
--------
>>> import pandas as pd
>>> import dyadlab as dl
>>> frame = pd.DataFrame({"person": ["p1", "p1"], "partner": ["a", "b"],
...     "type": ["romantic", "casual"], "start": ["2019-01", "2019-02-20"],
...     "end": ["2019-02", "2019-04-02"], "start_precision": "", "end_precision": "",
...     "certainty": ""})
>>> res = dl.history.sequences(frame, unit="month", until="2024-01-01")
>>> res.sequences[0].states
['romantic', 'casual+romantic', 'casual', 'casual']
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from dyadlab.exceptions import DyadicDataError
from dyadlab.history.episodes import Episodes, read_episodes
from dyadlab.models._result import emit

__all__ = [
    "UNITS",
    "Sequence",
    "SequenceResult",
    "period_label",
    "sequences",
]

UNITS: tuple[str, ...] = ("month", "day", "week", "quarter", "year")
_FREQ = {"day": "D", "week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
NONE = "none"


def period_label(period: pd.Period, unit: str) -> str:
    """The label of a period: ``2019-03``, ``2019-03-05``, ``2019-03-04`` (a week's
    Monday), ``2019Q1`` or ``2019``.

    Examples
    --------
    >>> period_label(pd.Period("2019-03-06", "W-SUN"), "week")
    '2019-03-04'
    """
    if unit == "week":
        return str(period.start_time.date().isoformat())
    return str(period)


def _period(label: str, unit: str) -> pd.Period:
    return pd.Period(label, _FREQ[unit])


@dataclass(frozen=True)
class Sequence:
    """One person's states, one per period from ``start`` on."""

    person: str
    start: str
    states: list[str]

    def labels(self, unit: str) -> list[str]:
        """The label of each period of the sequence."""
        first = _period(self.start, unit)
        return [period_label(first + i, unit) for i in range(len(self.states))]

    def to_dict(self) -> dict[str, Any]:
        """``{"person", "start", "states"}``."""
        return {"person": self.person, "start": self.start, "states": list(self.states)}


@dataclass
class SequenceResult:
    """The state sequences of every person, with the warnings on dates placed.

    Attributes
    ----------
    sequences : list of Sequence
        One per person, in the order the persons first appear.
    unit : str
        ``month``, ``day``, ``week``, ``quarter`` or ``year``.
    until : datetime.date or None
        The day ongoing episodes ran up to (None for sequences read back from a file).
    warnings : list of str
        Dates known less precisely than ``unit`` and where they were placed; dates moved
        to keep an episode in order; ends cut at ``until``.
    """

    sequences: list[Sequence]
    unit: str = "month"
    until: _dt.date | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def states(self) -> list[str]:
        """Every state that occurs, ``none`` first, then alphabetically."""
        found = {s for seq in self.sequences for s in seq.states}
        return ([NONE] if NONE in found else []) + sorted(found - {NONE})

    def as_dict(self) -> dict[str, list[str]]:
        """``{person: states}``."""
        return {s.person: list(s.states) for s in self.sequences}

    def long(self) -> pd.DataFrame:
        """One row per person and period: ``person, period, position, state``."""
        rows = [
            {"person": s.person, "period": label, "position": i + 1, "state": state}
            for s in self.sequences
            for i, (label, state) in enumerate(zip(s.labels(self.unit), s.states, strict=True))
        ]
        return pd.DataFrame(rows, columns=["person", "period", "position", "state"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``model`` (``history_sequences``), ``unit``, ``sequences``,
        ``warnings``, with ``dyadlab_version`` and ``until``."""
        from dyadlab import __version__

        return {
            "model": "history_sequences",
            "dyadlab_version": __version__,
            "unit": self.unit,
            "until": None if self.until is None else self.until.isoformat(),
            "sequences": [s.to_dict() for s in self.sequences],
            "warnings": list(self.warnings),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self, width: int = 12, max_persons: int = 20) -> str:
        """Readable lines: the first ``width`` states of the first ``max_persons``
        persons, and every warning."""
        n = len(self.sequences)
        lines = [
            f"dyadlab history sequences — {n} person{'s' if n != 1 else ''}, one state per "
            f"{self.unit}" + ("" if self.until is None else f", until {self.until.isoformat()}"),
            f"states: {', '.join(self.states)}",
        ]
        for s in self.sequences[:max_persons]:
            shown = " ".join(s.states[:width]) + (" …" if len(s.states) > width else "")
            lines.append(f"{s.person} from {s.start} ({len(s.states)} {self.unit}s): {shown}")
        if n > max_persons:
            lines.append(f"… and {n - max_persons} more persons (all of them in --json).")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_wide(self, *, align: str = "calendar") -> pd.DataFrame:
        """TraMineR's wide format; see :func:`dyadlab.history.to_wide`."""
        from dyadlab.history.wide import to_wide

        return to_wide(self, align=align)

    def plot(self, ax: Any = None) -> Any:
        """The sequence index plot (one row per person, one cell per period)."""
        from dyadlab.models._result import present

        return present("history_plots", "draw_sequence_index")(self, ax=ax)


def sequences(
    episodes: Any, *, unit: str = "month", until: Any = None, min_certainty: int | None = None
) -> SequenceResult:
    """One state per period from each person's first episode to their last period.

    Parameters
    ----------
    episodes : Episodes, DataFrame or path
        Episodes as :func:`read_episodes` returns them, or what it reads.
    unit : {"month", "day", "week", "quarter", "year"}
        The length of a period (calendar months by default; weeks run Monday–Sunday).
    until : date or str, optional
        The day ongoing episodes run up to (default today); only used when
        ``episodes`` is not yet read.
    min_certainty : int, optional
        Leave out episodes whose certainty (1–5) is below this, for a sensitivity
        analysis of uncertain recall; episodes without a certainty are kept. What is
        left out is counted in ``.warnings``.

    Returns
    -------
    SequenceResult
        ``.sequences`` (person, start label, states), ``.warnings``, ``.to_dict()``
        (the JSON ``dyadlab history sequences --json`` prints), ``.to_wide()``.

    Raises
    ------
    OptionError
        An unknown unit.
    DyadicDataError
        Episodes that :func:`read_episodes` rejects.

    Notes
    -----
    A period counts for an episode it overlaps at all: an episode from 31 March to 1
    April counts for March and April. Overlapping types form a combined state, their
    names in alphabetical order joined by ``+``; a period without an episode is
    ``none``. Imprecise dates are placed as :mod:`dyadlab.history.episodes` says (a
    year-only date on 1 July) and every date known less precisely than ``unit`` is
    reported in ``.warnings`` and issued once as a
    :class:`~dyadlab.exceptions.DyadlabWarning`.

    Examples
    --------
    >>> import dyadlab as dl
    >>> frame, truth = dl.history.simulate_episodes(2, rng=3, imprecise=0)
    >>> res = dl.history.sequences(frame, until=truth.until)
    >>> res.as_dict() == truth.sequences
    True
    """
    from dyadlab._validation import check_option

    check_option("unit", unit, UNITS, func="sequences")
    ep = episodes if isinstance(episodes, Episodes) else read_episodes(episodes, until=until)
    dropped: list[str] = []
    if min_certainty is not None:
        from dyadlab._validation import check_range

        check_range("min_certainty", min_certainty, func="sequences", low=1, high=5)
        ep, dropped = _keep_certain(ep, min_certainty)
    freq = _FREQ[unit]
    table = ep.table
    first = table["start"].dt.to_period(freq).array.asi8  # period ordinals
    last = table["end"].dt.to_period(freq).array.asi8
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for person, a, b, kind in zip(table["person"], first, last, table["type"], strict=True):
        spans.setdefault(person, []).append((int(a), int(b), kind))
    out = []
    for person in ep.persons:
        mine = spans[person]
        origin = min(a for a, _, _ in mine)
        length = max(b for _, b, _ in mine) - origin + 1
        sets: list[set[str]] = [set() for _ in range(length)]
        for a, b, kind in mine:
            for i in range(a - origin, b - origin + 1):
                sets[i].add(kind)
        states = ["+".join(sorted(s)) if s else NONE for s in sets]
        start_label = period_label(pd.Period(ordinal=origin, freq=freq), unit)
        out.append(Sequence(person=person, start=start_label, states=states))
    if not out:
        raise DyadicDataError("sequences(): there are no episodes.")
    return SequenceResult(
        sequences=out,
        unit=unit,
        until=ep.until,
        warnings=emit(dropped + ep.placement_warnings(unit)),
    )


def _keep_certain(ep: Episodes, minimum: int) -> tuple[Episodes, list[str]]:
    """The episodes with a certainty of at least ``minimum`` (or none), and messages."""
    import dataclasses

    from dyadlab.history.episodes import _rows

    table = ep.table
    low = table["certainty"].notna() & (table["certainty"] < minimum)
    if not low.any():
        return ep, []
    kept = table[~low.to_numpy()].reset_index(drop=True)
    n = int(low.sum())
    messages = [
        f"{n} episode{'s' if n > 1 else ''} with a certainty below {minimum} "
        f"{'were' if n > 1 else 'was'} left out ({_rows(table[low.to_numpy()])})."
    ]
    gone = [p for p in ep.persons if p not in set(kept["person"])]
    if gone:
        shown = ", ".join(repr(p) for p in gone[:5]) + (" …" if len(gone) > 5 else "")
        messages.append(
            f"{len(gone)} person{'s' if len(gone) > 1 else ''} ({shown}) "
            f"{'have' if len(gone) > 1 else 'has'} no episode left and no sequence."
        )
    if kept.empty:
        raise DyadicDataError(
            f"sequences(): every episode has a certainty below {minimum}; lower min_certainty."
        )
    return dataclasses.replace(ep, table=kept), messages
