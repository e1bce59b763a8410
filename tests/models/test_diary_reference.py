"""dyadlab.diary() against nlme::lme fixtures (tests/reference/diary.R)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import dyadlab as dl
from tests.reference.fixtures import (
    DATA_WARNINGS_EXPECTED,
    assert_close_est,
    assert_close_se,
    cases,
)

pytestmark = DATA_WARNINGS_EXPECTED

CASES = cases("diary")


@cache
def _fit_cached(name: str):  # type: ignore[no-untyped-def]
    case = next(c for c in CASES if c.name == name)
    return dl.diary(case.data, **case.args)


def _fit(case):  # type: ignore[no-untyped-def]
    return _fit_cached(case.name)


def _r_name(label: str, role: str, x: str) -> str:
    return {"intercept": f"role{role}", "actor_slope": f"role{role}:{x}"}.get(
        label, f"role{role}:{x}_partner"
    )


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
    if case.args.get("random_slopes"):
        pass  # checked below with the whole G
    elif "role" in case.args:
        # R orders the random effects by its factor levels, as dyadlab sorts roles
        assert_close_est(sd_int, re_sd, case, what="random-intercept SDs")
    else:
        assert_close_est(sd_int, re_sd[:1], case, what="random-intercept SD")
    if case.args.get("random_slopes"):
        # all SDs and correlations of the 6 x 6 unstructured G, matched by R's names
        names = exp["re_names"]
        sd_rows = vc[vc["name"].str.startswith("sd_") & (vc["name"] != "sd_residual")]
        labels = [
            (n.removeprefix("sd_"), r)
            for n, r in zip(sd_rows["name"], sd_rows["role"], strict=True)
        ]
        idx = [names.index(_r_name(lab, r, case.args["x"])) for lab, r in labels]
        assert_close_est(sd_rows["estimate"], np.asarray(re_sd)[idx], case, what="G SDs")
        R = np.asarray(exp["re_cor_matrix"], dtype=float)
        for row in vc[vc["name"].str.startswith("cor(")].itertuples():
            a, b = row.name[4:-1].split(", ")
            ia = names.index(_r_name(a.split("[")[0], a.split("[")[1][:-1], case.args["x"]))
            ib = names.index(_r_name(b.split("[")[0], b.split("[")[1][:-1], case.args["x"]))
            assert_close_est(row.estimate, R[ia, ib], case, what=row.name)
    else:
        cor = vc.loc[vc["name"] == "cor_intercepts", "estimate"].to_numpy()
        assert_close_est(cor, [exp["re_cor"]], case, what="random-intercept correlation")
    sd_res = vc.loc[vc["name"] == "sd_residual"]
    if "role" in case.args:
        want = [exp["sigma"] * exp["varident"][r] for r in sd_res["role"]]
    else:
        want = [exp["sigma"]]
    assert_close_est(sd_res["estimate"], want, case, what="residual SDs")
    if "role" in case.args:
        r0, r1 = sd_res["role"]
        ratio = vc.loc[vc["name"] == "varident_ratio", "estimate"].to_numpy()
        vi = case.expected["varident"]
        assert_close_est(ratio, [vi[r1] / vi[r0]], case, what="varIdent ratio")
    name = "residual_correlation" if case.args["residual"] == "cs" else "ar1_phi"
    got = vc.loc[vc["name"] == name, "estimate"].to_numpy()
    assert_close_est(got, [exp["cor_param"]], case, what=name)
    assert_close_est(res.fit["loglik"], exp["loglik"], case, what="loglik")
    assert_close_est(res.fit["aic"], exp["aic"], case, what="AIC")
    assert_close_est(res.fit["bic"], exp["bic"], case, what="BIC")
