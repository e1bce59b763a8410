"""dl.apim() against lavaan and nlme (fixtures from tests/reference/apim.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadlabWarning
from tests.reference.fixtures import Case, assert_close_est, assert_close_se, cases


def _fit(case: Case) -> dl.ModelResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return dl.apim(case.data, **case.args)


def _match(est: pd.DataFrame, expected: list[dict[str, object]], case: Case) -> pd.DataFrame:
    key = ["effect", "predictor", "role"]
    got = est[[*key, "estimate", "se", "statistic", "p"]].copy()
    got["predictor"] = got["predictor"].fillna("")
    got["role"] = got["role"].fillna("")
    exp = pd.DataFrame(expected)
    exp["predictor"] = exp["predictor"].fillna("")
    exp["role"] = exp["role"].fillna("")
    merged = exp.merge(got, on=key, how="left", suffixes=("_r", ""))
    assert len(got) == len(exp), f"{case.name}: {len(got)} estimates, R has {len(exp)}"
    assert merged["estimate"].notna().all(), f"{case.name}: rows missing\n{merged}"
    return merged


@pytest.mark.parametrize("case", cases("apim_sem"), ids=str)
def test_distinguishable_sem_matches_lavaan(case: Case) -> None:
    res = _fit(case)
    m = _match(res.estimates, case.expected["estimates"], case)
    assert_close_est(m["estimate"], m["estimate_r"], case)
    assert_close_se(m["se"], m["se_r"], case)
    assert_close_est(m["statistic"], m["statistic_r"], case, "z")
    e = case.expected
    assert res.n_dyads == e["n_dyads"]
    assert res.estimation == "ML"
    for ours, theirs in [("loglik", "logl"), ("aic", "aic"), ("bic", "bic"), ("n_params", "npar")]:
        assert_close_est(res.fit[ours], e["fit"][theirs], case, ours)
    vc = res.variance_components
    for role, value in e["variance_components"]["residual_variance"].items():
        got = vc[(vc["name"] == "residual_variance") & (vc["role"] == role)]["estimate"]
        assert_close_est(got, [value], case, f"residual variance {role}")
    corr = vc[vc["name"] == "residual_correlation"]["estimate"]
    assert_close_est(corr, [e["variance_components"]["residual_correlation"]], case, "rho")
    for t in e.get("tests", []):
        method = "likelihood_ratio" if t["kind"] == "lr" else "wald"
        got = [g for g in res.tests if g["name"] == t["name"] and g["method"] == method]
        assert len(got) == 1
        assert_close_est(got[0]["statistic"], t["statistic"], case, f"{t['name']} {method}")
        assert got[0]["df"] == t["df"]
        assert_close_est(got[0]["p"], t["p"], case, f"{t['name']} {method} p")


@pytest.mark.parametrize("case", cases("apim_isem"), ids=str)
def test_indistinguishable_sem_matches_lavaan(case: Case) -> None:
    res = _fit(case)
    m = _match(res.estimates, case.expected["estimates"], case)
    assert_close_est(m["estimate"], m["estimate_r"], case)
    assert_close_se(m["se"], m["se_r"], case)
    e = case.expected
    assert res.n_dyads == e["n_dyads"]
    for ours, theirs in [
        ("loglik", "logl"),
        ("aic", "aic"),
        ("bic", "bic"),
        ("n_params", "npar"),
        ("chisq", "chisq"),
        ("df", "df"),
        ("rmsea", "rmsea"),
        ("cfi", "cfi"),
    ]:
        assert_close_est(res.fit[ours], e["fit"][theirs], case, ours)
    assert_close_est(res.fit["pvalue"], e["fit"]["pvalue"], case, "pvalue")
    # Olsen & Kenny's I-SAT and I-NULL models (complete data)
    for model in ("isat", "inull"):
        if model in e:
            assert_close_est(res.fit[f"chisq_{model}"], e[model]["chisq"], case, model)
            assert res.fit[f"df_{model}"] == e[model]["df"]
            adj = res.fit["chisq"] - res.fit["chisq_isat"]
            assert_close_est(res.fit["chisq_adjusted"], adj, case, "adjusted chi-square")
    vc = res.variance_components.set_index("name")["estimate"]
    assert_close_est(vc["residual_variance"], e["variance_components"]["residual_variance"], case)
    assert_close_est(
        vc["residual_correlation"], e["variance_components"]["residual_correlation"], case
    )


@pytest.mark.parametrize("case", cases("apim_mlm"), ids=str)
def test_mlm_matches_nlme_gls(case: Case) -> None:
    res = _fit(case)
    m = _match(res.estimates, case.expected["estimates"], case)
    e = case.expected
    assert_close_est(m["estimate"], m["estimate_r"], case)
    assert_close_se(m["se"], m["se_r"], case)
    assert_close_est(m["statistic"], m["statistic_r"], case, "t")
    assert_close_est(m["p"], m["p_r"], case, "p")
    assert (res.estimates["df"] == e["df"]).all()
    assert res.n_obs == e["n_obs"]
    assert res.estimation == "REML"
    for ours in ["loglik", "aic", "bic"]:
        assert_close_est(res.fit[ours], e[ours], case, ours)
    vc = res.variance_components
    sds = e["residual_sd"]
    if isinstance(sds, dict):
        for role, sd in sds.items():
            got = vc[(vc["name"] == "residual_variance") & (vc["role"] == role)]["estimate"]
            assert_close_est(np.sqrt(got), [sd], case, f"residual SD {role}")
    else:
        got = vc[vc["name"] == "residual_variance"]["estimate"]
        assert_close_est(np.sqrt(got), [sds], case, "residual SD")
    corr = vc[vc["name"] == "residual_correlation"]["estimate"]
    assert_close_est(corr, [e["residual_correlation"]], case, "rho")
