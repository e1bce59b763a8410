"""The couple-level model of per-couple Yule's Q against nlme::lme fixtures and known truth.

Fixtures (tests/reference/observe.R): ``nlme::lme(yules_q ~ direction, random = ~ 1 |
couple, method = "REML")`` on simulated per-couple Q, and ``nlme::lme(z ~ direction +
conflict, random = ~ 1 | session)`` (REML and ML) where z is Fisher's z of the
Haldane-corrected Q of simulated couples' demand–withdraw tables.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, DyadlabWarning
from tests.reference import fixtures as reference

# the data leave rows out or have small cells on purpose: the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = reference.DATA_WARNINGS_EXPECTED

CASES = [c for c in reference.cases("observe") if c.model == "observe_couple_model"]


def test_there_are_couple_model_fixtures():
    assert len(CASES) == 4


@pytest.mark.parametrize("case", CASES, ids=str)
def test_couple_model_matches_nlme_lme(case):
    args = dict(case.args)
    cov = args.pop("covariates", None)
    covariates = pd.read_csv(reference.data_path(cov)) if cov else None
    args.setdefault("transform", None)
    exp = case.expected
    if exp["sd_couple"] < 1e-3 * exp["sd_residual"]:  # nlme puts the couple variance at 0
        with pytest.warns(ConvergenceWarning, match="couple variance is at"):
            res = dl.observe.couple_model(case.data, covariates=covariates, **args)
    else:
        res = dl.observe.couple_model(case.data, covariates=covariates, **args)
    reference.assert_close_est(res.estimates["estimate"], exp["estimate"], case)
    reference.assert_close_se(res.estimates["se"], exp["se"], case)
    reference.assert_close_est(res.estimates["df"], exp["df"], case, "df")
    reference.assert_close_est([res.fit["loglik"]], [exp["loglik"]], case, "loglik")
    vc = res.variance_components.set_index("name")["estimate"]
    reference.assert_close_est(
        vc[["random_intercept_sd", "residual_sd"]],
        [exp["sd_couple"], exp["sd_residual"]],
        case,
        "sds",
    )


def _two_groups(strengths: tuple[float, float], n: int = 20) -> pd.DataFrame:
    frames = []
    for g, strength in enumerate(strengths):
        ev = dl.observe.simulate_sessions(
            n, minutes=8, demand_withdraw=strength, rng=300 + g
        ).for_coder("A")
        frames.append(ev.assign(session=ev["session"] + 1000 * g))
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(("strengths", "effect"), [((0.0, 0.0), False), ((0.0, 2.0), True)])
def test_couple_covariate_recovers_known_difference(strengths, effect):
    dw = dl.observe.demand_withdraw(_two_groups(strengths), window=5)
    covs = pd.DataFrame({"session": dw.table["session"].unique()})
    covs["strong"] = (covs["session"] >= 1000).astype(float)
    with warnings.catch_warnings(record=True) as caught:  # a zero couple variance warns
        warnings.simplefilter("always")
        res = dl.observe.couple_model(dw, predictors=["strong"], covariates=covs)
    assert [str(w.message) for w in caught] == res.warnings
    row = res.estimates.set_index("predictor").loc["strong"]
    if effect:
        assert row["ci_low"] > 0 and row["estimate"] > 0.3
    else:
        assert row["ci_low"] < 0 < row["ci_high"]
    assert res.n_dyads == 40 and res.n_obs == 80


def test_fisher_z_of_cells_equals_half_log_odds_ratio():
    t = pd.DataFrame(
        {
            "session": [1, 1, 2, 2],
            "yules_q": 0.0,
            "count": [3, 0, 5, 2],
            "given_units": [20, 10, 30, 25],
            "target_units": [6, 4, 9, 7],
            "units": [200, 200, 210, 210],
            "x": [0.0, 1.0, 0.0, 1.0],
        }
    )
    from dyadlab.observe._couple_model import _values

    z = _values(t, "yules_q", "fisher_z", "t")
    a, b, c = (
        t["count"] + 0.5,
        t["given_units"] - t["count"] + 0.5,
        t["target_units"] - t["count"] + 0.5,
    )
    d = t["units"] - t["given_units"] - t["target_units"] + t["count"] + 0.5
    q = (a * d - b * c) / (a * d + b * c)
    np.testing.assert_allclose(z, np.arctanh(q))


def test_one_row_per_couple_is_least_squares_and_bad_input():
    df = pd.DataFrame({"c": range(12), "yules_q": np.linspace(-0.5, 0.6, 12), "x": np.arange(12.0)})
    with pytest.warns(DyadlabWarning, match="ordinary least squares"):
        res = dl.observe.couple_model(df, couple="c", predictors=["x"])
    z = np.arctanh(df["yules_q"])
    slope, intercept = np.polyfit(df["x"], z, 1)
    np.testing.assert_allclose(res.estimates["estimate"], [intercept, slope], rtol=1e-8)
    assert "ordinary least squares" in res.warnings[0]
    bad = df.assign(yules_q=1.0)
    with pytest.raises(DyadicDataError, match="Fisher's z is infinite"):
        dl.observe.couple_model(bad, couple="c")


def test_constant_weights_reproduce_the_unweighted_model():
    # Var(e) = σ_w² · 0.04 is the unweighted model with σ = 0.2 σ_w: same estimates, SEs,
    # couple SD and log-likelihood (the Jacobian −½ Σ log v puts it on the data's scale)
    (case,) = [c for c in CASES if c.name == "couple_model_q"]
    data = case.data.assign(q_se=0.2)
    args = {"value": "yules_q", "couple": "couple", "predictors": ["direction"]}
    plain = dl.observe.couple_model(data, transform=None, **args)
    weighted = dl.observe.couple_model(
        data, transform=None, weights="inverse_variance", se="q_se", **args
    )
    np.testing.assert_allclose(weighted.estimates["estimate"], plain.estimates["estimate"])
    np.testing.assert_allclose(weighted.estimates["se"], plain.estimates["se"], rtol=1e-6)
    assert weighted.fit["loglik"] == pytest.approx(plain.fit["loglik"], abs=1e-6)
    w = weighted.variance_components.set_index("name")["estimate"]
    p = plain.variance_components.set_index("name")["estimate"]
    assert w["random_intercept_sd"] == pytest.approx(p["random_intercept_sd"], rel=1e-4)
    assert w["residual_sd"] * 0.2 == pytest.approx(p["residual_sd"], rel=1e-4)
    with pytest.raises(DyadicDataError, match="se="):
        dl.observe.couple_model(data, transform=None, weights="inverse_variance", **args)
