"""The mixed-model engine: structured cross products equal the dense definitions, the
Kronecker structure reduces to the nlme fits, nlme's df rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dyadlab.models._engine import (
    _profile,
    fit_gls_batch,
    fit_mixed,
    loglik_gradient,
    nlme_fixed_df,
    profiled_loglik,
    refit_small_log_sds,
)
from dyadlab.models._engine_covariance import (
    Blocked,
    Diagonal,
    Exchangeable,
    Identity,
    Unstructured,
)
from dyadlab.models._engine_residual import (
    AR1,
    CompoundSymmetry,
    Independent,
    Kronecker,
    RowLayout,
)
from tests.reference.fixtures import assert_close_est, assert_close_se, cases


def _layout(rng: np.random.Generator, n_dyads: int = 7, n_days: int = 6, drop: float = 0.25):
    dyad, member, time = [], [], []
    for d in range(n_dyads):
        for t in range(n_days):
            for m in (0, 1):
                if rng.random() > drop:
                    dyad.append(d)
                    member.append(m)
                    time.append(t * (1 + (d % 2)))  # odd dyads: every other day (gaps of 2)
    order = np.lexsort((member, time, dyad))
    return RowLayout(
        dyad=np.asarray(dyad)[order],
        member=np.asarray(member)[order],
        time=np.asarray(time, dtype=float)[order],
    )


def _dense_cross(structure, theta, layout, W, q):  # type: ignore[no-untyped-def]
    lam = structure.dense(theta, layout)
    D = lam.shape[0]
    zw = np.zeros((q, W.shape[1], D))
    ww = np.zeros((W.shape[1], W.shape[1]))
    logdet = 0.0
    for d in range(D):
        rows = np.flatnonzero(layout.dyad == d)
        n = len(rows)
        L = lam[d, :n, :n]
        inv = np.linalg.inv(L)
        Wd = W[rows]
        zw[:, :, d] = Wd[:, :q].T @ inv @ Wd
        ww += Wd.T @ inv @ Wd
        logdet += np.linalg.slogdet(L)[1]
    return zw, ww, logdet


@pytest.mark.parametrize(
    ("structure", "theta"),
    [
        (Independent(distinguishable=True), [0.4]),
        (CompoundSymmetry(distinguishable=True), [0.3, np.arctanh(0.4)]),
        (CompoundSymmetry(distinguishable=False), [np.arctanh(-0.3)]),
        (AR1(distinguishable=True), [-0.2, np.arctanh(0.6)]),
        (AR1(distinguishable=False), [np.arctanh(-0.5)]),
        (Kronecker(distinguishable=True), [0.25, np.arctanh(0.35), np.arctanh(0.5)]),
        (Kronecker(distinguishable=False), [np.arctanh(0.2), np.arctanh(-0.4)]),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, list) else "",
)
@pytest.mark.parametrize("drop", [0.0, 0.25])
@pytest.mark.parametrize("slopes", [False, True], ids=["intercepts", "slopes"])
def test_pattern_cross_products_equal_dense_definition(structure, theta, drop, slopes):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    layout = _layout(rng, drop=drop)
    n = len(layout.dyad)
    Z = np.column_stack([layout.member == 0, layout.member == 1]).astype(float)
    if slopes:  # Z columns that are not 0/1 indicators (random slopes)
        Z = np.column_stack([Z, Z * rng.normal(size=(n, 1))])
    q = Z.shape[1]
    W = np.column_stack([Z, rng.normal(size=(n, 3))])
    prepared = structure.prepare(W, q, layout)
    zw, ww, logdet = prepared.cross(np.asarray(theta))
    zw_d, ww_d, logdet_d = _dense_cross(structure, np.asarray(theta), layout, W, q)
    np.testing.assert_allclose(zw, zw_d, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ww, ww_d, rtol=1e-9, atol=1e-9)
    assert logdet == pytest.approx(logdet_d, rel=1e-10, abs=1e-10)


def test_ar1_dense_uses_time_differences_like_nlme():
    # nlme: corMatrix(Initialize(corAR1(0.5, form = ~ t | g), data)) with t = 1, 2, 4, 7
    layout = RowLayout(
        dyad=np.zeros(4, dtype=int), member=np.zeros(4, dtype=int), time=np.array([1.0, 2, 4, 7])
    )
    lam = AR1(distinguishable=False).dense(np.array([np.arctanh(0.5)]), layout)[0]
    expected = np.array(
        [
            [1, 0.5, 0.125, 0.015625],
            [0.5, 1, 0.25, 0.03125],
            [0.125, 0.25, 1, 0.125],
            [0.015625, 0.03125, 0.125, 1],
        ]
    )
    np.testing.assert_allclose(lam, expected)


def test_exchangeable_is_pdcompsymm_and_psd():
    F = Exchangeable(1).factor(np.log([1.5, 0.5]))
    psi = F @ F.T
    assert psi[0, 0] == pytest.approx(psi[1, 1])
    assert psi[0, 1] == pytest.approx((1.5**2 - 0.5**2) / 2)
    F2 = Exchangeable(2).factor(np.array([0.1, 0.3, -0.2, -0.5, 0.4, 0.2]))
    psi2 = F2 @ F2.T
    np.testing.assert_allclose(psi2[:2, :2], psi2[2:, 2:])
    np.testing.assert_allclose(psi2[:2, 2:], psi2[2:, :2])
    assert np.linalg.eigvalsh(psi2).min() > 0


def test_unstructured_log_cholesky_round_trip():
    F = Unstructured(3).factor(np.array([0.1, 0.5, -0.3, 0.2, 0.4, -1.0]))
    psi = F @ F.T
    assert np.all(np.linalg.eigvalsh(psi) > 0)
    assert F[0, 0] == pytest.approx(math.exp(0.1))


def test_nlme_fixed_df_rules():
    # 3 groups of 4 rows: an inner column, an outer column, an intercept
    g = np.repeat(np.arange(3), 4)
    inner = np.tile([0.0, 1.0, 2.0, 3.0], 3)
    outer = g.astype(float) * 2.0 + 1.0
    starts = np.array([0, 4, 8])
    X = np.column_stack([np.ones(12), inner, outer])
    # nlme: N - m - 1 inner = 12 - 3 - 1 = 8; outer m - 1 - 1 = 1; intercept the max
    np.testing.assert_array_equal(nlme_fixed_df(X, starts), [8, 8, 1])
    # without an intercept column the residual stratum gains one (nlme's getFixDF)
    Xn = np.column_stack([(g == 0) * 1.0 + 0.5, inner])
    np.testing.assert_array_equal(nlme_fixed_df(Xn, starts), [2, 9])


def _kashy_design(case):  # type: ignore[no-untyped-def]
    from dyadlab.models import diary as diary_mod

    args = case.args
    df, predictors, _, roles = diary_mod._prepare(
        case.data,
        y=args["y"],
        xs=[args["x"]],
        covariates=[],
        dyad=args["dyad"],
        person=args["person"],
        time=args["time"],
        role=args["role"],
        center="none",
    )
    X, Z, _, _ = diary_mod._design(df, predictors, roles, False)
    layout = RowLayout(dyad=df["_dyad"], member=df["_member"], time=df["_time"])
    return X, df[args["y"]], Z, layout


@pytest.mark.parametrize(
    ("name", "fixed_index", "label"),
    [("kashy_cs_reml", 5, "phi = 0: corCompSymm"), ("kashy_ar1_reml", 4, "rho = 0: corAR1")],
)
def test_kronecker_reduces_to_nlme_fits(name, fixed_index, label):  # type: ignore[no-untyped-def]
    case = next(c for c in cases("diary") if c.name == name)
    X, y, Z, layout = _kashy_design(case)
    # theta = 3 covariance parameters, then log_sd_ratio, atanh_rho, atanh_phi
    fit = fit_mixed(
        X,
        y,
        Z,
        layout,
        Kronecker(distinguishable=True),
        Unstructured(2),
        fixed={fixed_index: 0.0},
    )
    exp = case.expected
    assert_close_est(fit.beta, exp["estimate"], case)
    assert_close_se(np.sqrt(np.diag(fit.vcov)), exp["se"], case)
    assert_close_est(fit.loglik, exp["loglik"], case, what=f"loglik ({label})")


def test_no_random_effects_is_gls_and_equals_a_zero_column() -> None:
    """Z with no columns (q = 0) is the GLS model: the same fit as a random effect whose
    design column is all zeros (its variance then does not enter the likelihood)."""
    rng = np.random.default_rng(5)
    layout = _layout(rng, n_dyads=30, n_days=5, drop=0.1)
    n = len(layout.dyad)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ [1.0, 0.5] + rng.normal(size=n)
    cs = CompoundSymmetry(distinguishable=True)
    gls = fit_mixed(X, y, np.zeros((n, 0)), layout, cs, Unstructured(0))
    dummy = fit_mixed(X, y, np.zeros((n, 1)), layout, cs, Unstructured(1), fixed={0: 0.0})
    assert gls.psi.shape == (0, 0)
    assert gls.n_params == dummy.n_params == 2 + 2 + 1
    assert gls.converged
    np.testing.assert_allclose(gls.loglik, dummy.loglik, rtol=0, atol=1e-9)
    np.testing.assert_allclose(gls.beta, dummy.beta, rtol=1e-7)
    np.testing.assert_allclose(gls.vcov, dummy.vcov, rtol=1e-6)
    assert gls.residual_params == pytest.approx(dummy.residual_params, rel=1e-6)


@pytest.mark.parametrize("estimator", ["REML", "ML"])
@pytest.mark.parametrize("distinguishable", [True, False])
def test_gls_batch_equals_fits_of_the_resampled_data(distinguishable: bool, estimator) -> None:  # type: ignore[no-untyped-def]
    """Frequency weights are repeated dyads: each batched refit equals ``fit_mixed`` on the
    data with every dyad repeated as often as its weight; an empty resample is NaN."""
    rng = np.random.default_rng(8)
    layout = _layout(rng, n_dyads=25, n_days=3, drop=0.2)
    n = len(layout.dyad)
    X = np.column_stack([np.ones(n), rng.normal(size=n), layout.member])
    y = X @ [1.0, 0.5, -0.3] + rng.normal(size=25)[layout.dyad] + rng.normal(size=n)
    cs = CompoundSymmetry(distinguishable=distinguishable)
    none = np.zeros((n, 0))
    full = fit_mixed(X, y, none, layout, cs, Unstructured(0), estimator=estimator)
    w = np.vstack([rng.multinomial(25, np.full(25, 1 / 25), size=3), np.zeros((1, 25), int)])
    batch = fit_gls_batch(X, y, layout, cs, w.astype(float), full.theta, estimator=estimator)
    for i in range(3):
        blocks = [np.flatnonzero(layout.dyad == d) for d in range(25) for _ in range(w[i, d])]
        rows = np.concatenate(blocks)
        code = np.repeat(np.arange(len(blocks)), [len(b) for b in blocks])
        lay = RowLayout(dyad=code, member=layout.member[rows], time=layout.time[rows])
        one = fit_mixed(X[rows], y[rows], none[rows], lay, cs, Unstructured(0), estimator=estimator)
        np.testing.assert_allclose(batch[i], one.beta, rtol=1e-6, atol=1e-8)
    assert np.isnan(batch[3]).all()


@pytest.mark.parametrize("estimator", ["REML", "ML"])
@pytest.mark.parametrize(
    "structure",
    [
        CompoundSymmetry(distinguishable=True),
        CompoundSymmetry(distinguishable=False),
        Independent(distinguishable=True),
        AR1(distinguishable=False),
        Kronecker(distinguishable=True),
    ],
    ids=lambda v: f"{type(v).__name__}-{v.n_params}",
)
@pytest.mark.parametrize("cov_name", ["un2", "un4", "exch2", "none", "blocked"])
@pytest.mark.parametrize("drop", [0.0, 0.15], ids=["complete", "incomplete"])
def test_gradient_equals_finite_differences(structure, cov_name, estimator, drop):  # type: ignore[no-untyped-def]
    """The analytic gradient of the profiled (RE)ML criterion (covariance parameters, and
    residual parameters from the pattern sums) equals central differences of the
    likelihood, for every residual structure (Kronecker with incomplete dyads: its
    residual part by differences)."""
    rng = np.random.default_rng(11)
    layout = _layout(rng, n_dyads=12, n_days=5, drop=drop)
    n = len(layout.dyad)
    x = rng.normal(size=n)
    X = np.column_stack([np.ones(n), x])
    y = X @ [1.0, 0.5] + rng.normal(size=n)
    ind = np.column_stack([layout.member == 0, layout.member == 1]).astype(float)
    Z, cov = {
        "un2": (ind, Unstructured(2)),
        "un4": (np.column_stack([ind, ind * x[:, None]]), Unstructured(4)),
        "exch2": (
            np.column_stack([ind[:, 0], ind[:, 0] * x, ind[:, 1], ind[:, 1] * x]),
            Exchangeable(2),
        ),
        "none": (np.zeros((n, 0)), Unstructured(0)),
        "blocked": (
            np.column_stack([ind, ind * x[:, None], ind * x[:, None] ** 2]),
            Blocked([Unstructured(2), Diagonal(2), Identity(2)]),
        ),
    }[cov_name]
    q = Z.shape[1]
    prepared = structure.prepare(np.column_stack([Z, X, y]), q, layout)
    theta = rng.normal(scale=0.5, size=cov.n_params + structure.n_params)
    if drop == 0.0:  # every structure's precision is a pattern sum: analytic residual part
        assert prepared.pattern_coefs(theta[cov.n_params :]) is not None
    ll, grad = loglik_gradient(theta, prepared, cov, q, 2, n, estimator)
    assert ll == pytest.approx(profiled_loglik(theta, prepared, cov, q, 2, n, estimator)[0])
    h = 1e-5
    fd = [
        (
            profiled_loglik(theta + e, prepared, cov, q, 2, n, estimator)[0]
            - profiled_loglik(theta - e, prepared, cov, q, 2, n, estimator)[0]
        )
        / (2 * h)
        for e in np.eye(len(theta)) * h
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6)


def test_blocked_is_block_diagonal_like_pdblocked() -> None:
    """Blocked: each block's factor on its own columns, zeros between blocks; Diagonal
    and Identity are pdDiag and pdIdent; the parameters and bounds follow block order."""
    st = Blocked([Unstructured(2), Diagonal(2), Identity(3)])
    assert (st.q, st.n_params) == (7, 3 + 2 + 1)
    theta = np.array([0.1, 0.4, -0.2, np.log(0.5), np.log(0.3), np.log(0.2)])
    psi = st.factor(theta) @ st.factor(theta).T
    top = Unstructured(2).factor(theta[:3])
    np.testing.assert_allclose(psi[:2, :2], top @ top.T)
    np.testing.assert_allclose(np.diag(psi)[2:], [0.25, 0.09, 0.04, 0.04, 0.04])
    off = psi.copy()
    off[:2, :2] = 0.0
    np.testing.assert_allclose(off, np.diag(np.diag(off)))
    assert len(st.bounds()) == st.n_params
    low = theta.copy()
    low[3] = -9.0
    assert st.at_boundary(low) == ["block 2: random effect 1: variance at zero (its boundary)"]


def test_blocked_with_one_block_fits_like_that_block() -> None:
    rng = np.random.default_rng(8)
    layout = _layout(rng, n_dyads=25, n_days=5, drop=0.1)
    n = len(layout.dyad)
    Z = np.column_stack([layout.member == 0, layout.member == 1]).astype(float)
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ [1.0, 0.5] + Z @ rng.normal(size=2) + rng.normal(size=n)
    cs = CompoundSymmetry(distinguishable=True)
    a = fit_mixed(X, y, Z, layout, cs, Unstructured(2))
    b = fit_mixed(X, y, Z, layout, cs, Blocked([Unstructured(2)]))
    assert a.loglik == b.loglik
    np.testing.assert_array_equal(a.beta, b.beta)


def test_refit_small_log_sds_keeps_the_better_fit() -> None:
    """A random slope with no variance: its log-SD ends low; the re-examination never
    returns a worse fit, and returns the fit itself when no listed log-SD is small."""
    rng = np.random.default_rng(21)
    layout = _layout(rng, n_dyads=40, n_days=6, drop=0.1)
    n = len(layout.dyad)
    x = rng.normal(size=n)
    ind = np.column_stack([layout.member == 0, layout.member == 1]).astype(float)
    Z = np.column_stack([ind, ind * x[:, None]])
    X = np.column_stack([np.ones(n), x])
    u = rng.normal(size=(layout.n_dyads, 2))[layout.dyad]
    y = X @ [1.0, 0.5] + (ind * u).sum(axis=1) + rng.normal(size=n)
    cs = CompoundSymmetry(distinguishable=True)
    cov = Blocked([Unstructured(2), Diagonal(2)])
    fit = fit_mixed(X, y, Z, layout, cs, cov, estimator="ML")
    assert (
        refit_small_log_sds(
            fit, X, y, Z, layout, cs, cov, positions=np.array([], dtype=int), estimator="ML"
        )
        is fit
    )
    assert np.min(fit.theta[3:5]) < -4.0
    again = refit_small_log_sds(
        fit, X, y, Z, layout, cs, cov, positions=np.arange(3, 5), estimator="ML"
    )
    assert again.loglik >= fit.loglik
    assert again.converged


def test_profile_with_a_singular_cross_product_falls_back_to_least_squares() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=20)
    X = np.column_stack([np.ones(20), x, x])  # the last two predictors identical
    y = 1.0 + 2.0 * x + rng.normal(scale=0.5, size=20)
    Xy = np.column_stack([X, y])
    ll, info = _profile(Xy.T @ Xy, 0.0, 0.0, 3, 20, "ML")
    fitted = X @ info["beta"]
    rss = float(((y - fitted) ** 2).sum())
    ols = np.linalg.lstsq(X[:, :2], y, rcond=None)[0]
    assert rss == pytest.approx(float(((y - X[:, :2] @ ols) ** 2).sum()), rel=1e-9)
    assert info["sigma2"] == pytest.approx(rss / 20, rel=1e-9)
    assert np.isfinite(ll)
