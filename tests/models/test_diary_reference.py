"""dyadlab.diary() against nlme::lme fixtures (tests/reference/diary.R)."""

from __future__ import annotations

import numpy as np
import pytest

import dyadlab as dl
from tests.reference.fixtures import assert_close_est, assert_close_se, cases

CASES = cases("diary")


def _fit(case):  # type: ignore[no-untyped-def]
    return dl.diary(case.data, **case.args)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fixed_effects_match_nlme(case):  # type: ignore[no-untyped-def]
    res = _fit(case)
    exp = case.expected
    assert_close_est(res.estimates["estimate"], exp["estimate"], case)
    assert_close_se(res.estimates["se"], exp["se"], case)
    assert_close_est(res.estimates["statistic"], exp["t"], case, what="t")
    assert res.estimates["df"].tolist() == pytest.approx(exp["df"])
    assert res.n_obs == exp["n_obs"]
    assert res.n_dyads == exp["n_dyads"]
    assert res.fit["converged"]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_variance_components_and_loglik_match_nlme(case):  # type: ignore[no-untyped-def]
    res = _fit(case)
    exp = case.expected
    vc = res.variance_components
    sd_int = vc.loc[vc["name"] == "sd_intercept", "estimate"].to_numpy()
    re_sd = np.asarray(exp["re_sd"], dtype=float)
    if "role" in case.args:
        # R orders the random effects by its factor levels, as dyadlab sorts roles
        assert_close_est(sd_int, re_sd, case, what="random-intercept SDs")
    else:
        assert_close_est(sd_int, re_sd[:1], case, what="random-intercept SD")
    cor = vc.loc[vc["name"] == "cor_intercepts", "estimate"].to_numpy()
    assert_close_est(cor, [exp["re_cor"]], case, what="random-intercept correlation")
    sd_res = vc.loc[vc["name"] == "sd_residual"]
    if "role" in case.args:
        want = [exp["sigma"] * exp["varident"][r] for r in sd_res["role"]]
    else:
        want = [exp["sigma"]]
    assert_close_est(sd_res["estimate"], want, case, what="residual SDs")
    name = "residual_correlation" if case.args["residual"] == "cs" else "ar1_phi"
    got = vc.loc[vc["name"] == name, "estimate"].to_numpy()
    assert_close_est(got, [exp["cor_param"]], case, what=name)
    assert_close_est(res.fit["loglik"], exp["loglik"], case, what="loglik")
    assert_close_est(res.fit["aic"], exp["aic"], case, what="AIC")
    assert_close_est(res.fit["bic"], exp["bic"], case, what="BIC")
