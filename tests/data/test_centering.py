"""Within/between helpers: person-mean and grand-mean centring, lags, time trend."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyadlab.data.centering import grand_mean_center, lag, person_mean_center, time_trend
from dyadlab.exceptions import DyadicDataError, OptionError


def test_person_mean_center_uses_non_missing_occasions():
    df = pd.DataFrame({"p": ["a", "a", "a", "b", "b"], "x": [1.0, np.nan, 3.0, 10.0, 20.0]})
    before = df.copy()
    out = person_mean_center(df, "x", person="p")
    grand = np.nanmean(df["x"])  # all non-missing person-occasions: (1+3+10+20)/4
    assert out["x_within"].tolist()[0] == -1.0
    assert np.isnan(out["x_within"].iloc[1])
    assert out["x_between"].iloc[1] == pytest.approx(2.0 - grand)
    assert out["x_between"].iloc[3] == pytest.approx(15.0 - grand)
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.floats(-100, 100, allow_nan=False)),
        min_size=1,
        max_size=30,
    )
)
def test_within_plus_between_plus_grand_is_x(rows):  # type: ignore[no-untyped-def]
    df = pd.DataFrame(rows, columns=["p", "x"])
    out = person_mean_center(df, ["x"], person="p")
    grand = df["x"].mean()
    np.testing.assert_allclose(out["x_within"] + out["x_between"] + grand, df["x"], atol=1e-8)
    sums = out.groupby("p")["x_within"].sum()
    np.testing.assert_allclose(sums, 0, atol=1e-8)


def test_grand_mean_center():
    out = grand_mean_center(pd.DataFrame({"x": [1.0, 2.0, np.nan, 5.0]}), "x")
    np.testing.assert_allclose(out["x_c"].dropna(), [-1.667, -0.667, 2.333], atol=1e-3)


def test_lag_never_crosses_a_gap_or_a_person():
    df = pd.DataFrame(
        {"p": [1, 1, 1, 1, 2, 2], "t": [1, 2, 4, 5, 1, 2], "x": [1.0, 2, 4, 5, 10, 20]}
    )
    out = lag(df.sample(frac=1, random_state=3), "x", person="p", time="t").sort_index()
    # day 4 follows a gap (no day 3): no lag; person 2's first day does not reach person 1
    np.testing.assert_array_equal(out["x_lag"], [np.nan, 1.0, np.nan, 4.0, np.nan, 10.0])
    out2 = lag(df, "x", person="p", time="t", lag=2)
    assert out2["x_lag"].tolist()[2] == 2.0


def test_lag_rejects_bad_time():
    df = pd.DataFrame({"p": [1, 1], "t": [1.5, 2.0], "x": [1.0, 2.0]})
    with pytest.raises(DyadicDataError, match="whole-numbered"):
        lag(df, "x", person="p", time="t")
    dup = pd.DataFrame({"p": [1, 1], "t": [1, 1], "x": [1.0, 2.0]})
    with pytest.raises(DyadicDataError, match="two rows at one occasion"):
        lag(dup, "x", person="p", time="t")


def test_time_trend_per_person_and_centered():
    df = pd.DataFrame({"p": [1, 1, 2, 2, 2], "t": [3, 4, 5, 6, 8]})
    assert time_trend(df, time="t", person="p")["time_trend"].tolist() == [0, 1, 0, 1, 3]
    assert time_trend(df, time="t")["time_trend"].tolist() == [0, 1, 2, 3, 5]
    c = time_trend(df, time="t", person="p", origin="center")["time_trend"]
    assert c.tolist()[:2] == [-0.5, 0.5]
    with pytest.raises(OptionError, match="origin"):
        time_trend(df, time="t", origin="last")


def test_missing_columns_and_non_numeric_are_reported():
    df = pd.DataFrame({"p": [1, 2], "x": ["a", "b"]})
    with pytest.raises(DyadicDataError, match="must be numeric"):
        person_mean_center(df, "x", person="p")
    with pytest.raises(DyadicDataError, match="not in the data"):
        person_mean_center(df, "y", person="p")
