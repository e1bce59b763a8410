"""Sequences against a brute force over days: a period counts for an episode when one
of the episode's days falls in it (hypothesis draws the episodes)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import dyadlab as dl

TYPES = ["casual", "dating", "online", "romantic"]
DAY0 = dt.date(2018, 12, 20)

episode = st.tuples(
    st.sampled_from(TYPES), st.integers(0, 500), st.integers(0, 120)
)  # type, first day (after DAY0), length in days


def _label(day: dt.date, unit: str) -> str:
    if unit == "month":
        return f"{day.year}-{day.month:02d}"
    monday = day - dt.timedelta(days=day.weekday())
    return monday.isoformat()


def _brute(spans: list[tuple[str, int, int]], unit: str) -> tuple[str, list[str]]:
    by_period: dict[str, set[str]] = {}
    first = min(a for _, a, _ in spans)
    last = max(a + n for _, a, n in spans)
    for offset in range(first, last + 1):  # every day of the person's span, in order
        by_period.setdefault(_label(DAY0 + dt.timedelta(days=offset), unit), set())
    for kind, a, n in spans:
        for offset in range(a, a + n + 1):
            by_period[_label(DAY0 + dt.timedelta(days=offset), unit)].add(kind)
    labels = list(by_period)
    return labels[0], ["+".join(sorted(by_period[p])) or "none" for p in labels]


@settings(max_examples=80, deadline=None)
@given(st.lists(episode, min_size=1, max_size=5), st.sampled_from(["month", "week"]))
def test_sequences_equal_a_brute_force_over_days(spans, unit):
    rows = [
        [
            "p",
            "x",
            kind,
            (DAY0 + dt.timedelta(days=a)).isoformat(),
            (DAY0 + dt.timedelta(days=a + n)).isoformat(),
            "",
            "",
            "",
        ]
        for kind, a, n in spans
    ]
    frame = pd.DataFrame(rows, columns=list(dl.history.COLUMNS))
    res = dl.history.sequences(frame, unit=unit, until="2030-01-01")
    start, states = _brute(spans, unit)
    assert res.sequences[0].start == start
    assert res.sequences[0].states == states
