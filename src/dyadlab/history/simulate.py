"""Simulated relationship histories whose monthly sequences are known.

Each person gets one to four episodes of random types, some overlapping, some ongoing;
each date is written with a random precision (a day, a month, a season written as its
middle month, a year or an age written as a year). A date written as a year only is
always one whose true month is July, where :func:`read_episodes` places it, so the true
monthly sequence is known exactly. The truth is computed here on a month grid (years ×
12 + month, a boolean matrix per type), independently of :func:`sequences`.

Examples
--------
>>> import dyadlab as dl
>>> frame, truth = dl.history.simulate_episodes(2, rng=0)
>>> list(frame.columns)[:4]
['person', 'partner', 'type', 'start']
>>> sorted(truth.sequences)
['p1', 'p2']
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dyadlab.history.episodes import TYPES

__all__ = ["SimulatedHistory", "simulate_episodes"]


@dataclass(frozen=True)
class SimulatedHistory:
    """The truth behind :func:`simulate_episodes`.

    Attributes
    ----------
    sequences : dict
        person → the true monthly states.
    starts : dict
        person → the label (``YYYY-MM``) of the first month.
    until : datetime.date
        The interview day ongoing episodes run up to.
    months : DataFrame
        The episodes on the month grid: ``person, type, first, last, ongoing`` (months
        as ``YYYY-MM``).
    """

    sequences: dict[str, list[str]]
    starts: dict[str, str]
    until: _dt.date
    months: pd.DataFrame


def _label(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def _write(m: int, precision: str, rng: np.random.Generator, latest: int = 31) -> tuple[str, str]:
    """The written date and the precision column for month ``m`` (years × 12 + month);
    a day is drawn up to ``latest``."""
    year, month = m // 12, m % 12 + 1
    if precision == "day":
        last = (_dt.date(year + month // 12, month % 12 + 1, 1) - _dt.timedelta(days=1)).day
        last = min(last, latest)
        return f"{year:04d}-{month:02d}-{int(rng.integers(1, last + 1)):02d}", "day"
    if precision in ("month", "season"):
        return f"{year:04d}-{month:02d}", "" if precision == "month" else "season"
    return f"{year:04d}", "" if precision == "year" else "age"


def simulate_episodes(
    n_persons: int = 20,
    *,
    rng: Any = None,
    first: str = "2015-01",
    until: str = "2021-06-15",
    types: Sequence[str] = TYPES[:4],
    imprecise: float = 0.3,
    max_episodes: int = 4,
) -> tuple[pd.DataFrame, SimulatedHistory]:
    """Simulate episodes with their true monthly state sequences.

    Parameters
    ----------
    n_persons : int
        Persons ``p1, p2, …``.
    rng : int or numpy Generator, optional
        The only source of randomness.
    first, until : str
        The first month episodes may start in (``YYYY-MM``) and the interview day
        (``YYYY-MM-DD``) ongoing episodes run up to.
    types : sequence of str
        The episode types drawn from.
    imprecise : float
        The share of dates known less precisely than the month (season, year or age);
        0 gives only day- and month-precise dates (and no warnings).
    max_episodes : int
        Each person has 1 to ``max_episodes`` episodes.

    Returns
    -------
    frame : DataFrame
        The episodes file (``person, partner, type, start, end, start_precision,
        end_precision, certainty, episode, note``), every value a string.
    truth : SimulatedHistory
        The true sequences.

    Examples
    --------
    >>> frame, truth = simulate_episodes(1, rng=5, imprecise=0)
    >>> len(truth.sequences["p1"]) > 0
    True
    """
    gen = np.random.default_rng(rng)
    stop = _dt.date.fromisoformat(until)
    lo = int(first[:4]) * 12 + int(first[5:7]) - 1
    hi = stop.year * 12 + stop.month - 1
    choices = ["day", "month", "season", "year", "age"]
    fine = (1 - imprecise) / 2
    coarse = imprecise / 3
    weights = [fine, fine, coarse, coarse, coarse]
    rows, month_rows = [], []
    sequences: dict[str, list[str]] = {}
    starts: dict[str, str] = {}
    for p in range(1, n_persons + 1):
        person = f"p{p}"
        spans = []
        for e in range(int(gen.integers(1, max_episodes + 1))):
            kind = str(gen.choice(list(types)))
            a = int(gen.integers(lo, hi + 1))
            length = int(gen.integers(1, 19))
            start_precision = str(gen.choice(choices, p=weights))
            if start_precision in ("year", "age"):
                a = (a // 12) * 12 + 6  # July
                if a > hi:
                    start_precision = "month"
                    a = hi
            b = a + length - 1
            ongoing = b >= hi
            end_text, end_precision = "", ""
            if ongoing:
                b = hi
            else:
                end_choice = str(gen.choice(choices, p=weights))
                if end_choice in ("year", "age"):
                    july = (b // 12) * 12 + 6
                    b = july if july >= a else july + 12
                    if b >= hi:
                        end_choice, b = "month", min(b, hi - 1)
                        b = max(b, a)
                end_text, end_precision = _write(b, end_choice, gen)
            if a == hi:  # started in the interview's month: a day up to the interview
                start_precision = "day"
            start_text, start_precision_col = _write(a, start_precision, gen, latest=stop.day)
            if not ongoing and a == b:
                # a one-month episode: written with its start, so that its placed end
                # cannot fall before its placed start within the month
                end_text, end_precision = start_text, start_precision_col
            spans.append((kind, a, b))
            rows.append(
                {
                    "person": person,
                    "partner": f"{person}_{chr(ord('a') + e)}",
                    "type": kind,
                    "start": start_text,
                    "end": end_text,
                    "start_precision": start_precision_col,
                    "end_precision": end_precision,
                    "certainty": str(int(gen.integers(1, 6))),
                    "episode": f"{person}e{e + 1}",
                    "note": f"Episode {e + 1} of {person}: {kind.replace('_', ' ')}.",
                }
            )
            month_rows.append(
                {
                    "person": person,
                    "type": kind,
                    "first": _label(a),
                    "last": _label(b),
                    "ongoing": ongoing,
                }
            )
        origin = min(a for _, a, _ in spans)
        width = max(b for _, _, b in spans) - origin + 1
        kinds = sorted({k for k, _, _ in spans})
        grid = np.zeros((len(kinds), width), dtype=bool)
        for kind, a, b in spans:
            grid[kinds.index(kind), a - origin : b - origin + 1] = True
        sequences[person] = [
            "+".join(k for k, on in zip(kinds, grid[:, t], strict=True) if on) or "none"
            for t in range(width)
        ]
        starts[person] = _label(origin)
    frame = pd.DataFrame(rows)
    truth = SimulatedHistory(
        sequences=sequences, starts=starts, until=stop, months=pd.DataFrame(month_rows)
    )
    return frame, truth
