"""Time-window tables against a direct count over time units and known truth.

The reference below tallies the definition one session, unit and pair at a time (no
arrays shared with the implementation): a unit is in A's window when an A onset fell in
one of the ``width`` units before it; it has B when a B onset falls in it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, OptionError
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# the data leave rows out or have small cells on purpose: the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = DATA_WARNINGS_EXPECTED


def _direct(df: pd.DataFrame, width: int) -> dict[tuple, tuple[int, int, int, int]]:
    out: dict[tuple, tuple[int, int, int, int]] = {}
    codes = sorted(df["code"].unique())
    for s, g in df.groupby("s"):
        start = math.floor(g["on"].min())
        end = max(math.floor(g["on"].max()) + 1, math.ceil(g["off"].max()))
        units = range(start, end)
        onset_units = {c: {math.floor(t) for t in g.loc[g.code == c, "on"]} for c in codes}
        for a in codes:
            win = {u for u in units if any(u - width <= o < u for o in onset_units[a])}
            for b in codes:
                has_b = onset_units[b]
                joint = sum(1 for u in win if u in has_b)
                out[(s, a, b)] = (joint, len(win), len(has_b), len(units))
    return out


def _events(rng: np.random.Generator, n_sessions: int = 4) -> pd.DataFrame:
    frames = []
    for s in range(n_sessions):
        n = int(rng.integers(5, 40))
        on = np.sort(rng.uniform(3.0, 200.0, n)).round(1)
        frames.append(
            pd.DataFrame({"s": s, "code": rng.choice(list("xyz"), n), "on": on, "off": on + 2})
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("seed", "width"), [(1, 1), (2, 3), (3, 7)])
def test_window_counts_equal_direct_tally(seed, width):
    df = _events(np.random.default_rng(seed))
    res = dl.observe.window_table(
        df, session="s", code="code", onset="on", offset="off", window=width
    )
    per = res.table[res.table["session"].notna()]
    expected = _direct(df, width)
    assert len(per) == len(expected) == 4 * 9
    got = {
        (r.session, r.given, r.target): (r.count, r.given_units, r.target_units, r.units)
        for r in per.itertuples(index=False)
    }
    assert got == expected
    pooled = res.table[res.table["session"].isna()].set_index(["given", "target"])
    summed = per.groupby(["given", "target"])[["count", "given_units", "units"]].sum()
    pd.testing.assert_frame_equal(pooled[summed.columns], summed, check_dtype=False)


def test_window_statistics_of_the_two_by_two():
    df = _events(np.random.default_rng(9), 1)
    r = dl.observe.window_table(df, session="s", code="code", onset="on", window=4).table
    row = r[r.session.isna() & (r.given == "x") & (r.target == "y")].iloc[0]
    a, g, t, n = row["count"], row["given_units"], row["target_units"], row["units"]
    b, c, d = g - a, t - a, n - g - t + a
    e = g * t / n
    assert row["expected"] == pytest.approx(e)
    assert row["adjusted_residual"] == pytest.approx(
        (a - e) / np.sqrt(e * (1 - g / n) * (1 - t / n))
    )
    assert row["yules_q"] == pytest.approx((a * d - b * c) / (a * d + b * c))
    assert row["odds_ratio"] == pytest.approx(a * d / (b * c))
    assert row["transitional_probability"] == pytest.approx(a / g)


def test_window_finds_simulated_demand_withdraw_and_nothing_else():
    sim = dl.observe.simulate_sessions(30, minutes=10, demand_withdraw=1.5, rng=4)
    ev = sim.for_coder("A")
    res = dl.observe.window_table(ev, session="session", code="code", onset="onset", window=5)
    est = res.estimates.set_index("predictor")
    assert est.loc["demand->withdraw", "ci_low"] > 0.2
    # positive follows any code with the same probability in the simulation
    assert est.loc["neutral->positive", "ci_low"] < 0 < est.loc["neutral->positive", "ci_high"]


def test_window_bad_input():
    df = pd.DataFrame({"s": [1, 1], "code": ["a", None], "on": [0.0, 1.0]})
    with pytest.raises(DyadicDataError, match="no code"):
        dl.observe.window_table(df, session="s", code="code", onset="on", window=2)
    df = pd.DataFrame({"s": [1, 1], "code": ["a", "b"], "on": [0.0, 1.0]})
    with pytest.raises(OptionError, match="whole number of time units"):
        dl.observe.window_table(df, session="s", code="code", onset="on", window=2.5)
