"""Demand–withdraw per couple: equal to the window table of partner-tagged codes, known
truth on simulated couples, same-sex couples, and bad input."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, OptionError
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# the data leave rows out or have small cells on purpose: the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = DATA_WARNINGS_EXPECTED

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close this module's figures: matplotlib warns (an error here) past 20 open."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _hand_made() -> pd.DataFrame:
    # p1 demands at 0, 10, 20; p2 withdraws at 2 and 12 (within 3 s) and 40 (not);
    # p2 demands at 30; p1 withdraws at 50 (not within 3 s)
    rows = [
        ("p1", "demand", 0.0),
        ("p2", "withdraw", 2.0),
        ("p1", "demand", 10.0),
        ("p2", "withdraw", 12.0),
        ("p1", "demand", 20.0),
        ("p2", "demand", 30.0),
        ("p2", "withdraw", 40.0),
        ("p1", "withdraw", 50.0),
        ("p1", "neutral", 59.0),
    ]
    df = pd.DataFrame(rows, columns=["partner", "code", "onset"])
    return df.assign(session="c1", offset=df["onset"] + 1.0)


def test_hand_made_couple_counts():
    res = dl.observe.demand_withdraw(_hand_made(), window=3)
    t = res.table.set_index("direction")
    assert t.loc["first->second", ["demander", "withdrawer"]].tolist() == ["p1", "p2"]
    row = t.loc["first->second"]
    assert (row["count"], row["given_units"], row["target_units"], row["units"]) == (2, 9, 3, 60)
    assert row["conditional_probability"] == pytest.approx(2 / 9)
    assert row["base_rate"] == pytest.approx(3 / 60)
    back = t.loc["second->first"]
    assert (back["count"], back["given_units"], back["target_units"]) == (0, 3, 1)


def test_equals_window_table_of_partner_tagged_codes():
    sim = dl.observe.simulate_sessions(8, minutes=4, rng=11)
    ev = sim.for_coder("B")
    res = dl.observe.demand_withdraw(ev, window=4)
    first = ev.groupby("session")["partner"].transform(lambda p: sorted(p.astype(str))[0])
    tagged = ev.assign(code=np.where(ev["partner"] == first, "1:", "2:") + ev["code"].astype(str))
    win = dl.observe.window_table(
        tagged, session="session", code="code", onset="onset", offset="offset", window=4
    ).table
    win = win[win["session"].notna()].set_index(["session", "given", "target"])
    for r in res.table.itertuples(index=False):
        g, t = (
            ("1:demand", "2:withdraw")
            if r.direction == "first->second"
            else ("2:demand", "1:withdraw")
        )
        w = win.loc[(r.session, g, t)]
        assert (r.count, r.given_units, r.target_units, r.units) == (
            w["count"],
            w["given_units"],
            w["target_units"],
            w["units"],
        )
        assert r.adjusted_residual == pytest.approx(w["adjusted_residual"], nan_ok=True)


@pytest.mark.parametrize("strength", [0.0, 2.0])
def test_known_truth_on_simulated_couples(strength):
    # turn-taking alone makes the other partner's onsets likelier soon after any onset,
    # so the control is the same window for another code of the other partner
    sim = dl.observe.simulate_sessions(40, minutes=10, demand_withdraw=strength, rng=5)
    est = dl.observe.demand_withdraw(sim, coder="A").estimates
    ctl = dl.observe.demand_withdraw(sim, coder="A", withdraw="positive").estimates
    both = est[est["predictor"] == "demand->withdraw"].iloc[0]
    other = ctl[ctl["predictor"] == "demand->withdraw"].iloc[0]
    diff = both["estimate"] - other["estimate"]
    se = np.hypot(both["se"], other["se"])
    if strength == 0:
        assert abs(diff) < 2.5 * se
    else:
        assert diff > 0.3 and diff > 4 * se
    assert len(est) == 3  # two directions and both together


def test_same_sex_couples_need_no_gender_and_roles_name_directions():
    base = dl.observe.simulate_sessions(10, minutes=5, rng=3)
    same = dl.observe.simulate_sessions(10, minutes=5, roles=("man", "man"), rng=3)
    r0 = dl.observe.demand_withdraw(base, coder="A")
    r1 = dl.observe.demand_withdraw(same, coder="A")
    assert not r1.distinguishable
    cols = ["count", "given_units", "target_units", "yules_q"]
    pd.testing.assert_frame_equal(r0.table[cols], r1.table[cols])
    mixed = dl.observe.simulate_sessions(10, minutes=5, roles=("bottom", "top"), rng=3)
    r2 = dl.observe.demand_withdraw(mixed, coder="A")
    assert r2.distinguishable and r2.roles == ["bottom", "top"]
    assert set(r2.table["direction"]) == {"bottom->top", "top->bottom"}
    assert r2.estimates["role"].tolist() == ["bottom", "top", None]
    np.testing.assert_array_equal(r2.table["count"], r0.table["count"])


def test_plot_draws_one_point_per_couple():
    sim = dl.observe.simulate_sessions(12, minutes=5, rng=8)
    res = dl.observe.demand_withdraw(sim, coder="A")
    fig = res.plot()
    n = (
        np.isfinite(res.table.pivot(index="session", columns="direction", values="yules_q"))
        .all(axis=1)
        .sum()
    )
    assert len(fig.axes[0].collections[0].get_offsets()) == n > 0


def test_bad_input():
    sim = dl.observe.simulate_sessions(2, minutes=2, rng=1)
    with pytest.raises(OptionError, match="choose one with coder="):
        dl.observe.demand_withdraw(sim)
    three = _hand_made()
    three.loc[0, "partner"] = "p3"
    with pytest.raises(DyadicDataError, match="session 'c1' has 3 partners"):
        dl.observe.demand_withdraw(three)
    one = _hand_made()
    one["partner"] = "p1"
    with pytest.raises(DyadicDataError, match="session 'c1' has 1 partner "):
        dl.observe.demand_withdraw(one)
    with pytest.raises(OptionError, match="no demand codes"):
        dl.observe.demand_withdraw(_hand_made(), demand="criticise")


def test_results_are_json_ready_and_leave_input_unchanged():
    import json

    sim = dl.observe.simulate_sessions(5, minutes=3, rng=6)
    ev = sim.for_coder("A")
    before = ev.copy()
    results = [
        dl.observe.window_table(ev, session="session", code="code", onset="onset", window=3),
        dl.observe.demand_withdraw(ev, window=3),
    ]
    results.append(dl.observe.couple_model(results[1], predictors=["direction"]))
    for res in results:
        out = json.loads(json.dumps(res.to_dict()))
        assert out["model"].startswith("observe_")
        assert set(out["estimates"][0]) >= {"effect", "estimate", "se", "ci_low", "ci_high"}
        assert isinstance(res.summary(), str)
    assert len(json.loads(results[1].to_json())["table"]) == 10
    pd.testing.assert_frame_equal(ev, before)
