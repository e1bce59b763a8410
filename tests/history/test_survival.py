"""Time to a milestone against R's survival package (tests/reference/history.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, DyadlabWarning
from tests.reference.fixtures import assert_close_est, assert_close_se, cases

pytest.importorskip("lifelines")


@pytest.mark.parametrize("case", cases("history"), ids=str)
def test_kaplan_meier_cox_and_logrank_match_r(case):
    res = dl.history.time_to_event(case.data, **case.args)
    km = res.survival[res.survival["group"].isna()]
    exp = case.expected["km"]
    for column, key in [
        ("time", "time"),
        ("n_risk", "n_risk"),
        ("n_event", "n_event"),
        ("n_censor", "n_censor"),
        ("survival", "survival"),
    ]:
        assert_close_est(km[column], exp[key], case, column)
    last = np.asarray(exp["survival"]) > 0  # R's band is NA where survival is 0
    assert_close_est(km["ci_low"][last], np.asarray(exp["ci_low"], float)[last], case, "ci_low")
    assert_close_est(km["ci_high"][last], np.asarray(exp["ci_high"], float)[last], case, "ci_high")
    assert res.medians["all"] == pytest.approx(case.expected["median"])
    cox = case.expected["cox"]
    assert res.estimates["predictor"].tolist() == cox["predictor"]
    assert_close_est(res.estimates["estimate"], cox["estimate"], case)
    assert_close_se(res.estimates["se"], cox["se"], case)
    assert_close_est(res.estimates["statistic"], cox["statistic"], case, "z")
    assert_close_est(res.estimates["ci_low"], cox["ci_low"], case, "ci_low")
    assert_close_est(res.estimates["ci_high"], cox["ci_high"], case, "ci_high")
    assert_close_est(res.estimates["p"], cox["p"], case, "p")
    assert_close_est(res.fit["loglik"], cox["loglik"], case, "loglik")
    assert_close_est(res.fit["concordance"], cox["concordance"], case, "concordance")
    lr = case.expected["logrank"]
    assert res.tests[0]["df"] == lr["df"]
    assert_close_est(res.tests[0]["statistic"], lr["statistic"], case, "logrank")
    assert_close_est(res.tests[0]["p"], lr["p"], case, "logrank p")


def test_kaplan_meier_by_hand():
    # 5 persons: events at 14, 15.5, 17; censored at 16 and 18
    # S(14) = 4/5, S(15.5) = 4/5 · 3/4 = 0.6, S(17) = 0.6 · 1/2 = 0.3
    d = pd.DataFrame({"age": [14.0, 15.5, 16.0, 17.0, 18.0], "event": [1, 1, 0, 1, 0]})
    res = dl.history.time_to_event(d)
    s = res.survival
    assert s["time"].tolist() == [14.0, 15.5, 16.0, 17.0, 18.0]
    assert s["n_risk"].tolist() == [5, 4, 3, 2, 1]
    np.testing.assert_allclose(s["survival"], [0.8, 0.6, 0.6, 0.3, 0.3])
    assert res.medians["all"] == 17.0
    assert res.estimates.empty and res.tests == []
    assert res.to_dict()["model"] == "history_time_to_event"


def test_bad_input_is_named():
    d = pd.DataFrame({"age": [14.0, -1.0], "event": [1, 0]})
    with pytest.raises(DyadicDataError, match="non-negative"):
        dl.history.time_to_event(d)
    with pytest.raises(DyadicDataError, match="must be 1"):
        dl.history.time_to_event(pd.DataFrame({"age": [1.0], "event": [2]}))
    with pytest.raises(DyadicDataError, match="no event"):
        dl.history.time_to_event(pd.DataFrame({"age": [1.0], "event": [0]}))
    with pytest.warns(DyadlabWarning, match="1 row with a missing value"):
        res = dl.history.time_to_event(pd.DataFrame({"age": [1.0, None], "event": [1, 1]}))
    assert res.fit["n_persons"] == 1


def test_from_dates_to_ages_to_curves():
    persons = pd.DataFrame(
        {
            "person": ["p1", "p2", "p3"],
            "birth": ["2000-01-01", "2001", "2002-03"],
            "interview": ["2020-01-01", "2020-01-01", ""],
        }
    )
    milestones = pd.DataFrame(
        {
            "person": ["p1", "p2", "p2"],
            "milestone": ["first_intercourse", "first_intercourse", "first_kiss"],
            "date": ["2017-01-01", "2018", "2015-07"],
        }
    )
    ages = dl.history.milestone_ages(milestones, persons)
    # p1: 2000-01-01 → 2017-01-01 is 6210 days; p2: 1 July 2001 → 1 July 2018 is 6209 days
    np.testing.assert_allclose(ages["age"], [6210 / 365.25, 6209 / 365.25, 5127 / 365.25])
    assert ages["precision"].tolist() == ["day", "year", "month"]
    data = dl.history.event_ages(milestones, persons, event="first_intercourse", until="2021-03-15")
    assert data["event"].tolist() == [1, 1, 0]
    # p3: born 15 March 2002, no interview date: censored at until (19 years exactly)
    assert data.loc[2, "age"] == pytest.approx(6940 / 365.25)
    with pytest.raises(DyadicDataError, match="no milestone is called 'first_sex'"):
        dl.history.event_ages(milestones, persons, event="first_sex")
    with pytest.raises(DyadicDataError, match="before their birth"):
        dl.history.milestone_ages(milestones.assign(date=["1999", "2018", "2015-07"]), persons)


def test_a_separating_covariate_is_a_convergence_warning():
    d = pd.DataFrame(
        {"age": [1, 2, 3, 4, 5, 6, 7, 8], "event": [1, 1, 1, 1, 0, 0, 0, 0], "x": [1] * 4 + [0] * 4}
    )
    with pytest.warns(dl.ConvergenceWarning) as caught:
        res = dl.history.time_to_event(d, covariates=["x"])
    assert len(caught) == len(res.warnings) >= 1
    assert all("may not be trustworthy" in w for w in res.warnings)
