"""dyadlab.diary(family=...) against lme4::glmer / glmmTMB fixtures (tests/reference/diary_glmm.R).

Tolerances (issue 12): estimates 1e-3 absolute, standard errors 1e-2 relative (glmer's
default ``vcov``, from a finite-difference Hessian), log-likelihood 1e-3.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.models._glmm_laplace import Blocks, Cholesky, fit_glmm
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED, Case, cases

pytestmark = DATA_WARNINGS_EXPECTED

CASES = [c for c in cases("diary_glmm") if c.model == "diary_glmm"]
AGQ = [c for c in cases("diary_glmm") if c.model == "glmm_agq"]
TOL_EST, TOL_SE, TOL_LL = 1e-3, 1e-2, 1e-3


def _close(got, want, tol, case: Case, what: str, relative: bool = False) -> None:  # type: ignore[no-untyped-def]
    g = np.atleast_1d(np.asarray(got, dtype=float))
    w = np.atleast_1d(np.asarray(want, dtype=float))
    assert g.shape == w.shape and g.size, f"{case.name}: {what} shapes {g.shape} vs {w.shape}"
    err = np.abs(g - w) / (np.abs(w) if relative else 1.0)
    if not np.all(err <= tol):
        raise AssertionError(
            f"{case.name}: {what} differs from R\n got      {g}\n expected {w}\n"
            f" reference: {case.provenance}"
        )


@cache
def _fit(name: str):  # type: ignore[no-untyped-def]
    case = next(c for c in CASES if c.name == name)
    return dl.diary(case.data, **case.args)


def test_fixture_covers_the_issue() -> None:
    names = {c.name for c in CASES}
    families = {c.args["family"] for c in CASES}
    assert families == {"binomial", "poisson", "negative_binomial"}
    assert {"bin_balanced", "bin_unbalanced", "bin_indist", "bin_indist_unbalanced"} <= names
    rare = next(c for c in CASES if c.name == "bin_rare")
    assert rare.expected["mean_y"] < 0.06
    assert {c.expected["n_obs"] for c in AGQ} and len(AGQ) == 2


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fixed_effects_match_glmer(case: Case) -> None:
    res = _fit(case.name)
    exp = case.expected
    _close(res.estimates["estimate"], exp["estimate"], TOL_EST, case, "estimates")
    _close(res.estimates["se"], exp["se"], TOL_SE, case, "SEs", relative=True)
    assert res.n_obs == exp["n_obs"] and res.n_dyads == exp["n_dyads"]
    assert res.fit["converged"]
    assert res.estimation == "Laplace"


@pytest.mark.parametrize("case", CASES, ids=str)
def test_variance_components_and_fit_match_glmer(case: Case) -> None:
    res = _fit(case.name)
    exp = case.expected
    vc = res.variance_components.set_index("name")
    sd = vc.loc[["random_intercept_sd"], "estimate"]
    _close(sd, exp["re_sd"], TOL_EST, case, "random-intercept SDs")
    _close(vc.loc["random_intercept_correlation", "estimate"], exp["re_cor"], TOL_EST, case, "cor")
    if case.args["family"] == "negative_binomial":
        _close(vc.loc["nb_dispersion", "estimate"], exp["dispersion"], 1e-2, case, "theta", True)
    _close(res.fit["loglik"], exp["loglik"], TOL_LL, case, "loglik")
    _close(res.fit["aic"], exp["aic"], 2 * TOL_LL, case, "AIC")
    _close(res.fit["bic"], exp["bic"], 2 * TOL_LL, case, "BIC")
    assert res.fit["n_params"] == exp["n_params"]


@pytest.mark.parametrize("case", [c for c in CASES if c.args["family"] == "poisson"], ids=str)
def test_pearson_overdispersion_matches_r(case: Case) -> None:
    res = _fit(case.name)
    od = res.extra["overdispersion"]
    _close(od["ratio"], case.expected["pearson"]["ratio"], 1e-3, case, "Pearson ratio", True)
    assert od["df"] == case.expected["pearson"]["df"]
    flagged = any("overdispersed" in w for w in res.warnings)
    assert flagged == (case.expected["pearson"]["ratio"] > 1.2)


@pytest.mark.parametrize("case", AGQ, ids=str)
def test_adaptive_quadrature_matches_glmer_nagq(case: Case) -> None:
    d = case.data
    X = np.column_stack([np.ones(len(d)), d["x"].to_numpy(float)])
    blocks = Blocks(d["group"].to_numpy() - 1, np.zeros(len(d), dtype=np.int64))
    fit = fit_glmm(X, d["y"].to_numpy(float), blocks, "binomial", Cholesky(1),
                   nagq=case.args["nagq"])  # fmt: skip
    exp = case.expected
    _close(fit.beta, exp["estimate"], TOL_EST, case, "estimates")
    _close(np.sqrt(np.diag(fit.vcov)), exp["se"], TOL_SE, case, "SEs", relative=True)
    _close(np.sqrt(fit.G[0, 0]), exp["re_sd"], TOL_EST, case, "random-intercept SD")
    _close(fit.loglik, exp["loglik"], TOL_LL, case, "loglik")
    assert fit.converged


def test_nagq_changes_the_fit_as_glmer_does() -> None:
    lap, agq = (next(c for c in AGQ if c.args["nagq"] == n) for n in (1, 9))
    assert abs(lap.expected["loglik"] - agq.expected["loglik"]) > 0.01  # the check has teeth
