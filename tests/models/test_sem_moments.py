"""Issue 21: the SEM fits from sufficient statistics (pattern moments), not from rows.

With complete data the log-likelihood depends on the rows only through their means and
cross-products; with missing values, through those of every missing pattern. These
tests check the reduction against the row-wise definitions, so a wrong pattern grouping
or a wrong gradient fails here (the lavaan fixtures in test_apim_reference.py check the
end results).
"""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.models._numerics import saturated_loglik as complete_saturated_loglik
from dyadlab.models._sem import (
    SemSpec,
    _chain,
    _jacobians,
    _loglik_grad,
    apim_spec,
    exo_loglik,
    fit_sem,
    implied,
    sem_data,
)

_LOG2PI = np.log(2 * np.pi)


def _data(n: int, seed: int, missing: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = x[:, :2] @ [[0.5, 0.2], [0.1, 0.4]] + rng.normal(size=(n, 2))
    d = np.column_stack([y, x])
    d[:, :2][rng.random((n, 2)) < missing] = np.nan
    return d


def _rowwise_loglik(d: np.ndarray, mu: np.ndarray, sig: np.ndarray) -> float:
    """The FIML log-likelihood summed row by row (the definition)."""
    total = 0.0
    for row in d:
        o = ~np.isnan(row)
        if not o.any():
            continue
        s = sig[np.ix_(o, o)]
        r = row[o] - mu[o]
        total -= 0.5 * (o.sum() * _LOG2PI + np.linalg.slogdet(s)[1] + r @ np.linalg.solve(s, r))
    return total


@pytest.mark.parametrize("missing", [0.0, 0.15])
def test_pattern_moments_give_the_rowwise_loglik(missing: float) -> None:
    d = _data(120, 1, missing)
    d[5, :] = np.nan  # a row with nothing observed is left out
    spec = apim_spec(3, [[0, 1, 2], [1, 0, 2]], term_groups=["actor", "partner", "other"])
    sd = sem_data(d)
    assert sd.complete == (missing == 0.0)
    assert sd.n == 119
    rng = np.random.default_rng(2)
    theta = rng.normal(size=spec.n_params) * 0.3
    theta[spec.psi_idx] = [1.3, 0.9, 0.4]
    mu, sig = implied(spec, theta, sd.mx, sd.sx)
    ll = _loglik_grad(sd.pats, mu, sig, False)[0]
    assert ll == pytest.approx(_rowwise_loglik(d, mu, sig), rel=1e-12)


def test_complete_data_keep_no_rows_and_match_least_squares() -> None:
    d = _data(200, 3, 0.0)
    sd = sem_data(d)
    assert sd.rows.shape[0] == 0  # the fit works from the moments alone
    spec = apim_spec(3, [[0, 1, 2], [1, 0, 2]], term_groups=["actor", "partner", "other"])
    fit = fit_sem(sd, spec)
    # saturated and complete: ML = least squares per outcome, residual (co)variances / n
    design = np.column_stack([np.ones(200), d[:, 2:]])
    coef, *_ = np.linalg.lstsq(design, d[:, :2], rcond=None)
    resid = d[:, :2] - design @ coef
    assert fit.theta[spec.a_idx] == pytest.approx(coef[0], rel=1e-8)
    assert fit.theta[spec.b_idx[0, [0, 1, 2]]] == pytest.approx(coef[1:, 0], rel=1e-8)
    psi = resid.T @ resid / 200
    assert fit.theta[spec.psi_idx] == pytest.approx([psi[0, 0], psi[1, 1], psi[0, 1]], rel=1e-8)
    # and the same fit as from the rows
    assert fit.loglik == pytest.approx(fit_sem(d, spec).loglik, rel=1e-12)
    assert exo_loglik(sd) == pytest.approx(complete_saturated_loglik(d[:, 2:]), rel=1e-12)


@pytest.mark.parametrize(
    "spec",
    [
        apim_spec(3, [[0, 1, 2], [1, 0, 2]], term_groups=["actor", "partner", "other"]),
        apim_spec(
            3,
            [[0, 1, 2], [1, 0, 2]],
            term_groups=["actor", "partner", "other"],
            equal=("all",),
            fixed_x=False,
            swap=[1, 0, 2],
        ),
        apim_spec(3, [[0, 1], [1, 0]], term_groups=["actor", "partner"], equal=("actor",)),
    ],
)
def test_chain_rule_gradient_equals_the_jacobian_one(spec: SemSpec) -> None:
    sd = sem_data(_data(150, 4, 0.1))
    rng = np.random.default_rng(5)
    theta = rng.normal(size=spec.n_params) * 0.3
    theta[spec.psi_idx] = [1.2, 1.1, 0.3]
    if not spec.fixed_x:
        theta[spec.sx_idx[np.diag_indices(3)]] = 1.5
    mu, sig = implied(spec, theta, sd.mx, sd.sx)
    _, gm, gs = _loglik_grad(sd.pats, mu, sig, True)
    jm, js = _jacobians(spec, theta, sd.mx, sd.sx)
    expected = gm @ jm + np.einsum("ij,ijk->k", gs, js)
    got = _chain(spec, theta, sd.mx, sd.sx, gm, gs)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-10)


def test_closed_form_saturated_fit_equals_the_iterative_one() -> None:
    # complete data, saturated: least squares from the moments with the analytic
    # information, against BFGS from a perturbed start with the finite-difference Hessian
    d = _data(300, 6, 0.0)
    spec = apim_spec(3, [[0, 1, 2], [1, 0, 2]], term_groups=["actor", "partner", "other"])
    sd = sem_data(d)
    closed = fit_sem(sd, spec)
    assert closed.iterations == 0
    start = closed.theta + 0.05
    iterative = fit_sem(sd, spec, start=start)
    assert iterative.iterations > 0
    assert closed.theta == pytest.approx(iterative.theta, rel=1e-7, abs=1e-9)
    assert closed.loglik == pytest.approx(iterative.loglik, rel=1e-12)
    assert closed.vcov == pytest.approx(iterative.vcov, rel=1e-6, abs=1e-12)
    # equality constraints are not least squares: those still iterate
    con = apim_spec(
        3, [[0, 1, 2], [1, 0, 2]], term_groups=["actor", "partner", "other"], equal=("actor",)
    )
    assert fit_sem(sd, con).iterations > 0


@pytest.mark.parametrize("equal", [("actor",), ("intercept", "actor", "partner", "variance")])
def test_constrained_refit_from_the_minimum_distance_start_reaches_the_same_optimum(
    equal: tuple[str, ...],
) -> None:
    from dyadlab.models._apim_fit import _constrained_start

    sd = sem_data(_data(400, 8, 0.0))
    terms = [[0, 1, 2], [1, 0, 2]]
    groups = ["actor", "partner", "other"]
    full = fit_sem(sd, apim_spec(3, terms, term_groups=groups))
    con = apim_spec(3, terms, term_groups=groups, equal=equal)
    start, curvature = _constrained_start(
        apim_spec(3, terms, term_groups=groups), con, full.theta, full.vcov
    )
    assert start is not None and curvature is not None
    # the warm start is BFGS's (missing values, or when iterated GLS falls short)
    plain = fit_sem(sd, con, compute_se=False, optimizer="bfgs")
    warm = fit_sem(sd, con, compute_se=False, start=start, hess_inv=curvature, optimizer="bfgs")
    assert warm.loglik == pytest.approx(plain.loglik, rel=1e-12)
    assert warm.theta == pytest.approx(plain.theta, rel=1e-5, abs=1e-7)
    assert warm.iterations < plain.iterations


@pytest.mark.parametrize(
    "equal",
    [("actor",), ("partner",), ("variance",), ("intercept", "actor", "partner", "variance")],
)
@pytest.mark.parametrize("shift", [0.0, 50.0])
def test_iterated_gls_reaches_the_bfgs_optimum(equal: tuple[str, ...], shift: float) -> None:
    # complete data, fixed x, constraints: iterated GLS from the moments, the same
    # optimum as BFGS from the rows' moments (also with means far from 0), with a
    # gradient at zero where BFGS stops at its tolerance
    from dyadlab.models._sem import _chain, _loglik_grad, _Pattern
    from dyadlab.models._sem_gls import iterated_gls

    d = _data(250, 9, 0.0) + shift
    terms = [[0, 1, 2], [1, 0, 2]]
    groups = ["actor", "partner", "other"]
    con = apim_spec(3, terms, term_groups=groups, equal=equal)
    sd = sem_data(d)
    fast = fit_sem(sd, con, compute_se=False)
    bfgs = fit_sem(sd, con, compute_se=False, optimizer="bfgs")
    assert fast.loglik == pytest.approx(bfgs.loglik, rel=1e-12)
    assert fast.theta == pytest.approx(bfgs.theta, rel=1e-6, abs=1e-8)
    assert fast.converged
    pat: _Pattern = sd.pats[0]
    got = iterated_gls(con, pat.mean, pat.cross / sd.n, np.array([1.0, 1.0, 0.0]))
    assert got is not None
    mu, sig = implied(con, got[0], sd.mx, sd.sx)
    _, gm, gs = _loglik_grad(sd.pats, mu, sig, True)
    assert np.abs(_chain(con, got[0], sd.mx, sd.sx, gm, gs) / sd.n).max() < 1e-9
    # with standard errors: the same estimates and information as BFGS's
    a, b = fit_sem(sd, con), fit_sem(sd, con, optimizer="bfgs")
    assert a.theta == pytest.approx(b.theta, rel=1e-8, abs=1e-10)
    assert a.vcov == pytest.approx(b.vcov, rel=1e-5, abs=1e-10)


def test_iterated_gls_declines_other_models() -> None:
    # free x (Olsen & Kenny) is not its structure; a bad start covariance fails cleanly
    from dyadlab.models._sem_gls import iterated_gls

    sd = sem_data(_data(100, 10, 0.0))
    mean, cov = sd.pats[0].mean, sd.pats[0].cross / sd.n
    free_x = apim_spec(3, [[0, 1, 2], [1, 0, 2]], equal=("all",), fixed_x=False, swap=[1, 0, 2])
    assert iterated_gls(free_x, mean, cov, np.array([1.0, 1.0, 0.0])) is None
    spec = apim_spec(3, [[0, 1, 2], [1, 0, 2]], equal=("actor",))
    assert iterated_gls(spec, mean, cov, np.array([1.0, 1.0, 2.0])) is None
    with pytest.raises(ValueError, match="optimizer"):
        fit_sem(sd, spec, optimizer="newton")
