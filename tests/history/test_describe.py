"""Counts by type, durations and first episodes, by hand and on simulated truth."""

from __future__ import annotations

import pandas as pd
import pytest

import dyadlab as dl

from .conftest import episodes


def test_counts_by_hand():
    frame = episodes(
        ("p", "casual", "2019-01", "2019-02"),
        ("p", "casual", "2019-05", "2019-05"),
        ("p", "romantic", "2019-03", ""),
        ("q", "online", "2020", "2020"),
    )
    frame.loc[1, "partner"] = "x0"  # the same partner twice
    frame.loc[3, "partner"] = ""
    c = dl.history.counts(frame, until="2021-01-01")
    assert list(c.columns) == ["casual", "online", "romantic", "total", "partners", "ongoing"]
    assert c.loc["p"].tolist() == [2, 0, 1, 3, 2, 1]
    assert c.loc["q"].tolist() == [0, 1, 0, 1, 0, 0]


def test_counts_match_the_simulated_episodes():
    frame, truth = dl.history.simulate_episodes(40, rng=5, imprecise=0)
    c = dl.history.counts(frame, until=truth.until)
    expected = truth.months.groupby(["person", "type"]).size().unstack(fill_value=0)
    got = c[expected.columns].loc[expected.index]
    pd.testing.assert_frame_equal(got, expected, check_names=False, check_dtype=False)
    assert (c["ongoing"] == truth.months.groupby("person")["ongoing"].sum()[c.index]).all()


def test_durations_by_hand():
    frame = episodes(
        ("p", "casual", "2019-01-01", "2019-03-01"),  # 59 days
        ("p", "romantic", "2019", "2020"),  # 1 July to 1 July: 366 days (2020 is a leap year)
        ("q", "online", "2021-12-01", ""),  # to until, 2022-01-01: 31 days
    )
    d = dl.history.durations(frame, until="2022-01-01")
    assert d["days"].tolist() == [59, 366, 31]
    assert d["ongoing"].tolist() == [False, False, True]
    assert d.loc[2, "months"] == 31 / (365.25 / 12)


def test_first_episodes_and_their_ages():
    frame = episodes(
        ("p", "romantic", "2019-05", "2019-06"),
        ("p", "casual", "2018", "2018"),
        ("p", "romantic", "2017-02-03", "2017-03"),
    )
    firsts = dl.history.first_episodes(frame, until="2020-01-01")
    assert firsts.set_index("milestone")["date"].to_dict() == {
        "first_any": "2017-02-03",
        "first_casual": "2018-07-01",  # a year-only start is placed on 1 July
        "first_romantic": "2017-02-03",
    }
    ages = dl.history.milestone_ages(firsts, pd.DataFrame({"person": ["p"], "birth": ["2000"]}))
    assert ages.set_index("milestone")["precision"].to_dict()["first_casual"] == "year"
    # 1 July 2000 → 1 July 2018: 18 × 365 + 4 leap days
    assert ages.set_index("milestone")["age"]["first_casual"] == pytest.approx(6574 / 365.25)


def test_concurrency_counts_partners_not_types():
    frame = episodes(
        ("p", "casual", "2019-01", "2019-03"),  # partner x0
        ("p", "casual", "2019-03-31", "2019-04-01"),  # partner x1: March and April
        ("p", "romantic", "2019-07", "2019-07"),  # x2
        ("q", "online", "2020-01", "2020-02"),
        ("q", "romantic", "2020-02", "2020-02"),
    )
    frame.loc[4, "partner"] = "x3"  # q: online with x3, then romantic with x3 (one partner)
    c = dl.history.concurrency(frame, until="2024-01-01")
    # p: Jan–Jul = 7 months; active Jan, Feb, Mar, Apr, Jul = 5; concurrent: March only
    assert c.loc["p"].tolist() == [7, 5, 1, 0.2, 2]
    # q: the same partner twice at once is not concurrency
    assert c.loc["q"].tolist() == [2, 2, 0, 0.0, 1]
    # states would not show p's concurrency: March is just "casual"
    assert dl.history.sequences(frame, until="2024-01-01").as_dict()["p"][2] == "casual"


def test_concurrency_agrees_with_the_simulated_months():
    frame, truth = dl.history.simulate_episodes(30, rng=9, imprecise=0)
    c = dl.history.concurrency(frame, until=truth.until)
    for person, states in truth.sequences.items():
        months = truth.months[truth.months["person"] == person]
        assert c.loc[person, "periods"] == len(states)
        assert c.loc[person, "active"] == sum(s != "none" for s in states)
        # every simulated episode has a partner of its own
        firsts = [int(m[:4]) * 12 + int(m[5:]) for m in months["first"]]
        lasts = [int(m[:4]) * 12 + int(m[5:]) for m in months["last"]]
        origin = min(firsts)
        overlap = [
            sum(a <= origin + i <= b for a, b in zip(firsts, lasts, strict=True))
            for i in range(len(states))
        ]
        assert c.loc[person, "concurrent"] == sum(n > 1 for n in overlap)
        assert c.loc[person, "max_partners"] == max(overlap)
