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
