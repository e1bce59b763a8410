"""dl.truth_bias() against nlme::lme / nlme::gls fixtures (tests/reference/truth_bias.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from tests.reference.fixtures import Case, assert_close_est, assert_close_se, cases

CASES = cases("truth_bias")


def _fit(case: Case) -> dl.ModelResult:
    data = case.data
    args = dict(case.args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dl.DyadlabWarning)  # rows left out, as in R
        return dl.truth_bias(data, **args)


@pytest.fixture(scope="module")
def fits() -> dict[str, dl.ModelResult]:
    return {c.name: _fit(c) for c in CASES}


def _r_term(row: pd.Series, roles: list[str]) -> str:
    """The R coefficient name of an estimates row."""
    base = {"directional_bias": "", "truth": "tc_partner", "assumed_similarity": "tc_own"}
    effect, _, mod = str(row["effect"]).partition(":")
    parts = [p for p in (base[effect], mod) if p]
    if row["role"] is None or (isinstance(row["role"], float) and np.isnan(row["role"])):
        return ":".join(parts) if parts else "(Intercept)"
    return ":".join([f"role{row['role']}", *parts])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fixed_effects_match_nlme(case: Case, fits: dict[str, dl.ModelResult]) -> None:
    res = fits[case.name]
    exp = case.expected
    est = res.estimates
    names = [_r_term(r, res.roles) for _, r in est.iterrows()]
    assert sorted(names) == sorted(exp["terms"])
    order = [exp["terms"].index(n) for n in names]
    assert_close_est(est["estimate"], np.asarray(exp["estimate"])[order], case)
    assert_close_se(est["se"], np.asarray(exp["se"])[order], case)
    if exp["df"][0] is not None:
        np.testing.assert_array_equal(est["df"], np.asarray(exp["df"], dtype=float)[order])
    assert res.fit["converged"]
    assert_close_est(
        [res.fit["loglik"], res.fit["aic"], res.fit["bic"]],
        [exp["loglik"], exp["aic"], exp["bic"]],
        case,
        "loglik/AIC/BIC",
    )
    assert res.n_obs == exp["n_obs"] and res.n_dyads == exp["n_dyads"]
    assert res.extra["n_excluded"] == exp["n_excluded"]
    assert_close_est(res.extra["truth_mean"], exp["truth_mean"], case, "truth mean")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_variance_components_match_nlme(case: Case, fits: dict[str, dl.ModelResult]) -> None:
    res = fits[case.name]
    exp = case.expected
    vc = res.variance_components
    resid = vc[vc["name"] == "residual_sd"]
    if res.distinguishable:
        ratios = exp["varident"]
        ref = next(r for r, v in ratios.items() if v == 1)
        sd = {str(r.role): r.estimate for r in resid.itertuples()}
        assert_close_est(sd[ref], exp["sigma"], case, "residual SD")
        for r, v in ratios.items():
            assert_close_est(sd[r] / sd[ref], v, case, f"varIdent {r}")
    else:
        assert_close_est(resid["estimate"].iloc[0], exp["sigma"], case, "residual SD")
    rho = vc.loc[vc["name"] == "residual_correlation", "estimate"].iloc[0]
    assert_close_est(rho, np.ravel(exp["cor_param"])[0], case, "residual correlation")
    if exp["random"] is None:
        assert res.extra["random_covariance"] is None
        return
    V = np.asarray(exp["random"]["cov"])
    got = np.asarray(res.extra["random_covariance"]["matrix"])
    # R's order: (bias x2 | truth x2, similarity x2) -- the same block order as dyadlab's,
    # with roles sorted as R sorts factor levels; compare SDs where they are not ~0
    sd_r, sd_g = np.sqrt(np.diag(V)), np.sqrt(np.diag(got))
    big = sd_r > 1e-2 * sd_r.max()
    # variance parameters are flatter than fixed effects: 1e-3 relative
    np.testing.assert_allclose(sd_g[big], sd_r[big], rtol=1e-3, err_msg=case.provenance)
    np.testing.assert_allclose(got[0, 1], V[0, 1], rtol=2e-3, err_msg=case.provenance)
