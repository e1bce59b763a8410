"""REML generalised least squares for two-person blocks (``nlme::gls``-equivalent).

The residuals of the two members of a dyad are correlated (``corCompSymm(form = ~1 |
dyad)``) and, for distinguishable dyads, have a variance per role (``varIdent(form = ~1
| role)``). With blocks of at most two rows the covariance matrix can be whitened in
closed form, dyad by dyad, all at once:

- indistinguishable: for a pair, ``u = (y_a + y_b)/sqrt(2)`` and ``v = (y_a - y_b)/sqrt(2)``
  are independent with variances ``sigma^2 (1 + rho)`` and ``sigma^2 (1 - rho)``;
- distinguishable: ``z_1 = y_1`` and ``z_2 = (y_2 - rho delta y_1) / (delta sqrt(1 - rho^2))``
  with ``delta = sigma_2 / sigma_1``.

After whitening the model is ordinary least squares, ``sigma^2`` and the fixed effects are
profiled out, and only ``rho`` (and ``delta``) are optimised. The restricted
log-likelihood is nlme's:

.. math::

    \\ell_R = -\\tfrac12\\left[(N-p)(\\log 2\\pi\\hat\\sigma^2 + 1) + \\log|\\Lambda|
              + \\log|X'\\Lambda^{-1}X|\\right]

(Harville's REML adds ``log|X'X|/2``; nlme, and so dyadlab, leave it out).

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(2)
>>> dyad = np.repeat(np.arange(100), 2); x = rng.normal(size=200)
>>> y = 1 + 0.5 * x + rng.normal(size=100).repeat(2) + rng.normal(size=200)
>>> fit = fit_gls(y, np.column_stack([np.ones(200), x]), dyad)
>>> round(float(fit.rho), 1) > 0
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from dyadlab.models._bootstrap import safe_solve
from dyadlab.models._numerics import fd_derivatives

__all__ = ["GlsFit", "fit_gls", "gls_bootstrap_dist", "gls_bootstrap_indist"]

Array = NDArray[np.float64]
_LOG2PI = float(np.log(2 * np.pi))


@dataclass
class GlsFit:
    """A REML fit of the dyadic GLS model."""

    beta: Array
    vcov: Array
    sigma: float  # residual SD of the reference role (or of everyone)
    rho: float
    delta: float  # SD of the second role / SD of the first (1 if indistinguishable)
    loglik: float
    n_obs: int
    n_coef: int
    n_var_params: int
    converged: bool

    @property
    def df(self) -> int:
        return self.n_obs - self.n_coef

    @property
    def sds(self) -> tuple[float, float]:
        return self.sigma, self.sigma * self.delta


def _blocks(dyad: NDArray[np.int64], role: NDArray[np.int64] | None) -> tuple[Array, Array, Array]:
    """Index arrays: (first, second) rows of the pairs and the singleton rows.

    For distinguishable dyads ``first`` is the row with role 0.
    """
    order = np.argsort(dyad, kind="stable")
    ds = dyad[order]
    starts = np.flatnonzero(np.r_[True, ds[1:] != ds[:-1]])
    sizes = np.diff(np.r_[starts, len(ds)])
    pair_start = starts[sizes == 2]
    first, second = order[pair_start], order[pair_start + 1]
    if role is not None:
        flip = role[first] == 1
        first, second = np.where(flip, second, first), np.where(flip, first, second)
    single = order[starts[sizes == 1]]
    return first, second, single


def _outer(g: Array, w: Array) -> Array:
    """Weighted cross-product matrix ``G' W G``."""
    return np.asarray((g * w[:, None]).T @ g, dtype=float)


def _indist_matrix(cu: Array, cv: Array, cs: Array, rho: Array) -> Array:
    r = rho[..., None, None]
    return np.asarray(cu / (1 + r) + cv / (1 - r) + cs, dtype=float)


def _dist_matrix(
    c11: Array, c22: Array, c12: Array, cs0: Array, cs1: Array, rho: Array, delta: Array
) -> Array:
    r, d = rho[..., None, None], delta[..., None, None]
    c = r * d
    s2 = d**2 * (1 - r**2)
    sym = c12 + np.swapaxes(c12, -1, -2)
    return np.asarray(c11 + (c22 - c * sym + c**2 * c11) / s2 + cs0 + cs1 / d**2, dtype=float)


def _reml(mat: Array, logdet: Array, n_eff: float, p: int) -> Array:
    """Profile REML log-likelihood from ``[X y]' V^-1 [X y]`` (sigma^2 and beta profiled)."""
    ld_c = np.linalg.slogdet(mat)[1]
    ld_x = np.linalg.slogdet(mat[..., :p, :p])[1]
    log_sigma2 = ld_c - ld_x - np.log(n_eff - p)
    return np.asarray(
        -0.5 * ((n_eff - p) * (_LOG2PI + log_sigma2 + 1) + logdet + ld_x), dtype=float
    )


def fit_gls(
    y: Array,
    x: Array,
    dyad: NDArray[np.int64],
    role: NDArray[np.int64] | None = None,
    *,
    weights: Array | None = None,
) -> GlsFit:
    """Fit ``y = X beta + e`` by REML with correlated residuals within dyad.

    All the data enter through a few weighted cross-product matrices of ``[X, y]``
    (pairs' sums and differences, or the two roles, and the singletons), so each
    evaluation of the restricted likelihood costs O(p^3), not O(N).

    Parameters
    ----------
    y, x : ndarray
        Outcome (N,) and design matrix (N, p) of the rows used (no missing values).
    dyad : ndarray of int
        Dyad code per row; a dyad has one or two rows.
    role : ndarray of int (0 or 1), optional
        Role per row for distinguishable dyads (``varIdent``); None for indistinguishable.
    weights : ndarray, optional
        Frequency weight per row (equal within a dyad): a dyad with weight 2 counts twice.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    dyad = np.asarray(dyad)
    first, second, single = _blocks(dyad, None if role is None else np.asarray(role))
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    wp, ws = w[first], w[single]
    n_eff = float(2 * wp.sum() + ws.sum())
    p = x.shape[1]
    g = np.column_stack([x, y])
    g1, g2, gs = g[first], g[second], g[single]
    dist = role is not None
    if dist:
        srole = np.asarray(role)[single]
        c11, c22 = _outer(g1, wp), _outer(g2, wp)
        c12 = np.asarray((g1 * wp[:, None]).T @ g2, dtype=float)
        cs0 = _outer(gs[srole == 0], ws[srole == 0])
        cs1 = _outer(gs[srole == 1], ws[srole == 1])
        w_pairs, w_s1 = float(wp.sum()), float(ws[srole == 1].sum())

        def matrix(params: Array) -> tuple[Array, float]:
            rho, delta = np.tanh(params[0]), np.exp(params[1])
            mat = _dist_matrix(c11, c22, c12, cs0, cs1, np.asarray(rho), np.asarray(delta))
            logdet = w_pairs * np.log(delta**2 * (1 - rho**2)) + w_s1 * 2 * np.log(delta)
            return mat, float(logdet)

    else:
        cu = _outer((g1 + g2) / np.sqrt(2), wp)
        cv = _outer((g1 - g2) / np.sqrt(2), wp)
        cs = _outer(gs, ws)
        w_pairs = float(wp.sum())

        def matrix(params: Array) -> tuple[Array, float]:
            rho = np.tanh(params[0])
            mat = _indist_matrix(cu, cv, cs, np.asarray(rho))
            return mat, float(w_pairs * (np.log(1 + rho) + np.log(1 - rho)))

    def negll(params: Array) -> float:
        mat, logdet = matrix(params)
        return -float(_reml(mat, np.asarray(logdet), n_eff, p))

    n_var = 2 if dist else 1
    if dist:
        params, converged = _newton2(negll, np.array([0.0, 0.0]))
    else:
        b = optimize.minimize_scalar(
            lambda t: negll(np.array([t])),
            bounds=(-12.0, 12.0),
            method="bounded",
            options={"xatol": 1e-12},
        )
        params = np.array([b.x])
        converged = bool(b.success) and abs(b.x) < 11.9
    mat, _ = matrix(params)
    xtx, xty, yty = mat[:p, :p], mat[:p, p], mat[p, p]
    # a singular X'V^-1X (too few rows for the coefficients, e.g. in a bootstrap
    # resample of few dyads) leaves the coefficients undefined: NaN, not converged
    try:
        beta: Array = np.asarray(np.linalg.solve(xtx, xty), dtype=float)
        vcov: Array = np.asarray(np.linalg.inv(xtx), dtype=np.float64)
    except np.linalg.LinAlgError:
        beta, vcov = np.full(p, np.nan), np.full((p, p), np.nan)
        converged = False
    sigma2 = float(yty - xty @ beta) / (n_eff - p) if n_eff > p else np.nan
    vcov = np.asarray(sigma2 * vcov, dtype=np.float64)
    return GlsFit(
        beta=beta,
        vcov=vcov,
        sigma=float(np.sqrt(sigma2)),
        rho=float(np.tanh(params[0])),
        delta=float(np.exp(params[1])) if dist else 1.0,
        loglik=-negll(params),
        n_obs=round(n_eff),
        n_coef=p,
        n_var_params=n_var,
        converged=converged,
    )


def gls_bootstrap_indist(
    y: Array, x: Array, dyad: NDArray[np.int64], dyad_weights: Array, *, iterations: int = 80
) -> Array:
    """Fixed effects of the indistinguishable model for many dyad-weight vectors at once.

    Per-dyad cross-product matrices are combined by a matrix product with the weights
    (b, n_dyads); the correlation of every resample is found by one vectorised
    golden-section search over ``atanh(rho)``.

    Returns
    -------
    ndarray (b, p)
    """
    first, second, single = _blocks(np.asarray(dyad), None)
    p = x.shape[1]
    g = np.column_stack([x, y])
    k = p + 1

    def per_dyad(rows: Array) -> Array:
        return np.asarray(np.einsum("ni,nj->nij", rows, rows).reshape(len(rows), k * k))

    u = per_dyad((g[first] + g[second]) / np.sqrt(2))
    v = per_dyad((g[first] - g[second]) / np.sqrt(2))
    s = per_dyad(g[single])
    wp = dyad_weights[:, dyad[first]]
    wsg = dyad_weights[:, dyad[single]]
    cu = (wp @ u).reshape(-1, k, k)
    cv = (wp @ v).reshape(-1, k, k)
    cs = (wsg @ s).reshape(-1, k, k)
    w_pairs = wp.sum(axis=1)
    n_eff = 2 * w_pairs + wsg.sum(axis=1)

    def f(t: Array) -> Array:
        rho = np.tanh(t)
        mat = _indist_matrix(cu, cv, cs, rho)
        logdet = w_pairs * (np.log1p(rho) + np.log1p(-rho))
        return -_reml_batch(mat, logdet, n_eff, p)

    lo = np.full(len(cu), -12.0)
    hi = np.full(len(cu), 12.0)
    gr = (np.sqrt(5) - 1) / 2
    c = hi - gr * (hi - lo)
    d = lo + gr * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(iterations):
        left = fc < fd
        hi = np.where(left, d, hi)
        lo = np.where(left, lo, c)
        new_c = hi - gr * (hi - lo)
        new_d = lo + gr * (hi - lo)
        c_next = np.where(left, new_c, d)
        d_next = np.where(left, c, new_d)
        fc_next = np.where(left, f(new_c), fd)
        fd_next = np.where(left, fc, f(new_d))
        c, d, fc, fd = c_next, d_next, fc_next, fd_next
    t = (lo + hi) / 2
    mat = _indist_matrix(cu, cv, cs, np.tanh(t))
    return safe_solve(mat[:, :p, :p], mat[:, :p, p:])[..., 0]


def _newton2(f: Callable[[Array], float], x0: Array, *, h: float = 1e-4) -> tuple[Array, bool]:
    """Minimise a smooth function of 2 parameters by damped Newton steps.

    Gradient and Hessian by central differences with a step large enough to be immune
    to rounding in ``f`` (which is computed from cross-product matrices).
    """
    x = np.asarray(x0, dtype=float)
    fx = f(x)
    for _ in range(100):
        grad, hess = fd_derivatives(f, x, fx, np.arange(2), h)
        try:
            step = np.linalg.solve(hess, grad)
            if grad @ step <= 0:
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            step = grad / max(np.abs(np.diag(hess)).max(), 1.0)
        t = 1.0
        while t > 1e-8:
            cand = x - t * step
            fc = f(cand)
            if np.isfinite(fc) and fc <= fx + 1e-12 * abs(fx):
                break
            t /= 2
        else:
            return x, bool(np.max(np.abs(grad)) < 1e-4)
        x, fx = cand, fc
        if np.max(np.abs(t * step)) < 1e-10:
            return x, bool(np.all(np.abs(x) < 12))
    return x, False


def _reml_batch(mat: Array, logdet: Array, n_eff: Array, p: int) -> Array:
    ld_c = np.linalg.slogdet(mat)[1]
    ld_x = np.linalg.slogdet(mat[..., :p, :p])[1]
    log_sigma2 = ld_c - ld_x - np.log(n_eff - p)
    return np.asarray(
        -0.5 * ((n_eff - p) * (_LOG2PI + log_sigma2 + 1) + logdet + ld_x), dtype=float
    )


def _newton_batch(
    f: Callable[[Array, NDArray[np.intp]], Array],
    t0: Array,
    *,
    h: float = 1e-4,
    max_iter: int = 100,
    converged_out: NDArray[np.bool_] | None = None,
) -> Array:
    """Minimise ``f`` for every row of ``t0`` at once by damped Newton steps.

    ``f(t, rows)`` returns the objective of the parameter rows ``t`` (r, k) of the
    problems ``rows``. Gradient and Hessian by central differences; a row whose Hessian
    is not positive definite takes a gradient step; step halving keeps every row from
    getting worse; rows that have converged are left alone. ``converged_out`` (b,), if
    given, is set to whether each row converged within ``max_iter`` iterations.
    """
    t = np.array(t0, dtype=float)
    k = t.shape[1]
    eye = np.eye(k) * h
    active = np.arange(len(t))
    f0 = f(t, active)
    for _ in range(max_iter):
        if active.size == 0:
            break
        ta, fa = t[active], f0[active]
        fp = np.stack([f(ta + eye[i], active) for i in range(k)], 1)
        fm = np.stack([f(ta - eye[i], active) for i in range(k)], 1)
        grad = (fp - fm) / (2 * h)
        hess = np.empty((active.size, k, k))
        for i in range(k):
            hess[:, i, i] = (fp[:, i] - 2 * fa + fm[:, i]) / h**2
            for j in range(i + 1, k):
                e, d = eye[i] + eye[j], eye[i] - eye[j]
                hess[:, i, j] = hess[:, j, i] = (
                    f(ta + e, active) - f(ta + d, active) - f(ta - d, active) + f(ta - e, active)
                ) / (4 * h**2)
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                step = np.full_like(grad, np.nan)
        bad = ~np.isfinite(step).all(axis=1) | (np.einsum("bk,bk->b", step, grad) <= 0)
        step[bad] = 0.1 * grad[bad]
        step = np.clip(step, -1.0, 1.0)
        scale = np.ones(active.size)
        for _ in range(30):
            cand = ta - scale[:, None] * step
            fc = f(cand, active)
            worse = ~(fc <= fa + 1e-10 * np.abs(fa))
            if not worse.any():
                break
            scale[worse] /= 2
        moved = ~worse
        t[active[moved]] = cand[moved]
        f0[active[moved]] = fc[moved]
        size = np.max(np.abs(scale[:, None] * step), axis=1)
        small_grad = np.max(np.abs(grad), axis=1) < 1e-9
        active = active[moved & (size >= 1e-8) & ~small_grad]
    if converged_out is not None:
        converged_out[:] = True
        converged_out[active] = False
    return t


def gls_bootstrap_dist(
    y: Array,
    x: Array,
    dyad: NDArray[np.int64],
    role: NDArray[np.int64],
    dyad_weights: Array,
    start: tuple[float, float],
) -> Array:
    """Fixed effects of the distinguishable model (``varIdent``) for many weight vectors.

    Per-dyad cross-products of the two roles' rows are combined with the weights in
    one matrix product; ``(rho, delta)`` of all resamples are found together by damped
    Newton steps starting from ``start`` (the full-data estimates).

    Returns
    -------
    ndarray (b, p)
    """
    first, second, single = _blocks(np.asarray(dyad), np.asarray(role))
    p = x.shape[1]
    k = p + 1
    g = np.column_stack([x, y])

    def per(a: Array, c: Array) -> Array:
        return np.asarray(np.einsum("ni,nj->nij", a, c).reshape(len(a), k * k))

    g1, g2, gs = g[first], g[second], g[single]
    srole = np.asarray(role)[single]
    wp = dyad_weights[:, dyad[first]]
    ws0 = dyad_weights[:, dyad[single[srole == 0]]]
    ws1 = dyad_weights[:, dyad[single[srole == 1]]]
    c11 = (wp @ per(g1, g1)).reshape(-1, k, k)
    c22 = (wp @ per(g2, g2)).reshape(-1, k, k)
    c12 = (wp @ per(g1, g2)).reshape(-1, k, k)
    cs0 = (ws0 @ per(gs[srole == 0], gs[srole == 0])).reshape(-1, k, k)
    cs1 = (ws1 @ per(gs[srole == 1], gs[srole == 1])).reshape(-1, k, k)
    w_pairs, w_s1 = wp.sum(axis=1), ws1.sum(axis=1)
    n_eff = 2 * w_pairs + ws0.sum(axis=1) + w_s1

    def matrix(t: Array) -> tuple[Array, Array]:
        rho, delta = np.tanh(t[:, 0]), np.exp(t[:, 1])
        mat = _dist_matrix(c11, c22, c12, cs0, cs1, rho, delta)
        logdet = w_pairs * np.log(delta**2 * (1 - rho**2)) + w_s1 * 2 * np.log(delta)
        return mat, logdet

    def negll(t: Array, rows: NDArray[np.intp]) -> Array:
        rho, delta = np.tanh(t[:, 0]), np.exp(t[:, 1])
        mat = _dist_matrix(c11[rows], c22[rows], c12[rows], cs0[rows], cs1[rows], rho, delta)
        logdet = w_pairs[rows] * np.log(delta**2 * (1 - rho**2)) + w_s1[rows] * 2 * np.log(delta)
        return -_reml_batch(mat, logdet, n_eff[rows], p)

    t0 = np.tile([np.arctanh(start[0]), np.log(start[1])], (len(dyad_weights), 1))
    t = _newton_batch(negll, t0)
    mat = matrix(t)[0]
    return safe_solve(mat[:, :p, :p], mat[:, :p, p:])[..., 0]
