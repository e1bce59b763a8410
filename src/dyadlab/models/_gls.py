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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

__all__ = ["GlsFit", "fit_gls"]

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


def fit_gls(
    y: Array,
    x: Array,
    dyad: NDArray[np.int64],
    role: NDArray[np.int64] | None = None,
    *,
    weights: Array | None = None,
) -> GlsFit:
    """Fit ``y = X beta + e`` by REML with correlated residuals within dyad.

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
    y1, y2, ys = y[first], y[second], y[single]
    x1, x2, xs = x[first], x[second], x[single]
    sw_p, sw_s = np.sqrt(wp), np.sqrt(ws)
    dist = role is not None
    if dist:
        srole = np.asarray(role)[single]
    else:
        u_y, v_y = (y1 + y2) / np.sqrt(2), (y1 - y2) / np.sqrt(2)
        u_x, v_x = (x1 + x2) / np.sqrt(2), (x1 - x2) / np.sqrt(2)

    def whiten(params: Array) -> tuple[Array, Array, float]:
        rho = np.tanh(params[0])
        if dist:
            delta = float(np.exp(params[1]))
            s = delta * np.sqrt(1 - rho**2)
            zy = np.concatenate(
                [y1, (y2 - rho * delta * y1) / s, ys / np.where(srole == 1, delta, 1)]
            )
            zx = np.vstack(
                [x1, (x2 - rho * delta * x1) / s, xs / np.where(srole == 1, delta, 1)[:, None]]
            )
            logdet = float(wp.sum() * 2 * np.log(s) + ws[srole == 1].sum() * 2 * np.log(delta))
        else:
            a, b = np.sqrt(1 + rho), np.sqrt(1 - rho)
            zy = np.concatenate([u_y / a, v_y / b, ys])
            zx = np.vstack([u_x / a, v_x / b, xs])
            logdet = float(wp.sum() * (np.log(1 + rho) + np.log(1 - rho)))
        sw = np.concatenate([sw_p, sw_p, sw_s])
        return zy * sw, zx * sw[:, None], logdet

    def solve(params: Array) -> tuple[float, Array, Array, float]:
        zy, zx, logdet = whiten(params)
        q, r = np.linalg.qr(zx)
        beta = np.linalg.solve(r, q.T @ zy)
        res = zy - zx @ beta
        rss = float(res @ res)
        sigma2 = rss / (n_eff - p)
        logdet_xvx = 2 * np.sum(np.log(np.abs(np.diag(r))))
        ll = -0.5 * ((n_eff - p) * (_LOG2PI + np.log(sigma2) + 1) + logdet + logdet_xvx)
        return float(ll), beta, r, sigma2

    n_var = 2 if dist else 1
    converged = True
    if dist:
        best = optimize.minimize(
            lambda t: -solve(t)[0],
            np.array([0.0, 0.0]),
            method="BFGS",
            options={"gtol": 1e-10, "maxiter": 500},
        )
        params = best.x
        converged = bool(best.success or np.max(np.abs(best.jac)) < 1e-5)
    else:
        b = optimize.minimize_scalar(
            lambda t: -solve(np.array([t]))[0],
            bounds=(-12.0, 12.0),
            method="bounded",
            options={"xatol": 1e-12},
        )
        params = np.array([b.x])
        converged = bool(b.success) and abs(b.x) < 11.9
    ll, beta, r, sigma2 = solve(params)
    rinv = np.linalg.inv(r)
    vcov = sigma2 * rinv @ rinv.T
    return GlsFit(
        beta=beta,
        vcov=vcov,
        sigma=float(np.sqrt(sigma2)),
        rho=float(np.tanh(params[0])),
        delta=float(np.exp(params[1])) if dist else 1.0,
        loglik=ll,
        n_obs=round(n_eff),
        n_coef=p,
        n_var_params=n_var,
        converged=converged,
    )
