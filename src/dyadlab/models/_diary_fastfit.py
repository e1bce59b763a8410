"""REML fits of many simulated diaries at once, from per-couple sufficient statistics.

The model is :func:`dyadlab.diary`'s two-intercept APIM with ``residual="cs"`` (as
``nlme::lme`` with random role intercepts, ``corCompSymm(~1 | dyad/time)`` and, for
distinguishable dyads, ``varIdent(~1 | role)``), fitted to couples observed on
``T_d`` complete days (both partners' rows). For couple ``d`` the covariance of its
``2 T_d`` outcomes is ``J ⊗ G + I ⊗ Sigma``; with ``P = J / T_d`` and ``Q = I - P`` it
splits into ``P ⊗ A_d + Q ⊗ Sigma`` with ``A_d = T_d G + Sigma``, so that

    X' V⁻¹ X = Σ_d T_d x̄_d' A_d⁻¹ x̄_d + Σ_dt w_dt' Sigma⁻¹ w_dt,
    log |V| = Σ_d log |A_d| + (T_d - 1) log |Sigma|,

with ``x̄_d`` the couple's 2-row mean design (and outcome) and ``w_dt`` the day's
deviation from it. Every quantity of the REML criterion is then a 2 × 2-weighted sum
of two kinds of small cross-product matrices: the pooled within-couple products of
``(x1, x2, y1, y2)`` (4 × 4) and, per number of days, the between-couple products of
``(1, x̄1, x̄2, ȳ1, ȳ2)`` (5 × 5). A replication is reduced to those once; the REML
criterion of any variance parameters then costs a few 7 × 7 operations, done for all
replications (and all finite-difference points) in one array expression. Newton steps
with finite-difference derivatives, started at the true values, reach the optimum in
a handful of iterations.

Examples
--------
>>> import numpy as np
>>> from dyadlab.models._diary_sim import DiaryParams, simulate
>>> p = DiaryParams.standardised(0.3, 0.15)
>>> sim = simulate(p, couples=40, days=14, reps=2, rng=np.random.default_rng(0))
>>> fit = fit_batch(sufficient_stats(sim), start=true_theta(p))
>>> fit.beta.shape, bool(fit.converged.all())
((2, 6), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dyadlab.models._diary_sim import DiaryParams, Simulated
from dyadlab.models._numerics import newton_batch

__all__ = ["BatchFit", "Stats", "fit_batch", "sufficient_stats", "true_theta"]

_LOG2PI = math.log(2.0 * math.pi)
_ALL = slice(None)


@dataclass
class Stats:
    """Sufficient statistics of a batch of replications."""

    within: np.ndarray  # (R, 5, 5): within-couple products, row/col 0 (constant) zero
    between: np.ndarray  # (R, K, 5, 5): per day count, products of couple means
    n_couples: np.ndarray  # (R, K): couples with that many days
    days: np.ndarray  # (K,): the day counts
    n_obs: np.ndarray  # (R,): rows in the fit
    distinguishable: bool

    def __post_init__(self) -> None:
        # the criterion's products with the 2 × 2 weights become two batched matmuls:
        # M = Sigma⁻¹ (R, S, 4) @ w_rows (R, 4, q²) + A⁻¹ (R, S, K·4) @ b_rows (R, K·4, q²)
        e = _E[self.distinguishable]
        reps, q = self.within.shape[0], e.shape[1]
        self.w_rows = np.einsum("aik,rkl,bjl->rabij", e, self.within, e).reshape(reps, 4, q * q)
        self.b_rows = np.einsum(
            "aik,g,rgkl,bjl->rgabij", e, self.days.astype(float), self.between, e
        ).reshape(reps, -1, q * q)


def sufficient_stats(sim: Simulated, distinguishable: bool = True) -> Stats:
    """Reduce simulated replications to :class:`Stats` (complete couple-days only)."""
    keep = sim.keep.astype(float)
    t_d = keep.sum(axis=2)  # (R, n)
    v = np.concatenate([sim.x, sim.y], axis=-1)  # (R, n, T, 4): x1, x2, y1, y2
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.einsum("rntk,rnt->rnk", v, keep) / t_d[..., None]
    mean = np.nan_to_num(mean)
    dev = (v - mean[:, :, None, :]) * keep[..., None]
    w4 = np.einsum("rntk,rntl->rkl", dev, dev)
    reps = v.shape[0]
    within = np.zeros((reps, 5, 5))
    within[:, 1:, 1:] = w4
    days = np.unique(t_d[t_d > 0]).astype(int)
    onehot = (t_d[..., None] == days).astype(float)  # (R, n, K)
    m5 = np.concatenate([np.ones((*mean.shape[:2], 1)), mean], axis=-1)
    between = np.einsum("rng,rnk,rnl->rgkl", onehot, m5, m5)
    return Stats(
        within=within,
        between=between,
        n_couples=onehot.sum(axis=1),
        days=days,
        n_obs=2.0 * t_d.sum(axis=1),
        distinguishable=distinguishable,
    )


def _selectors(distinguishable: bool) -> np.ndarray:
    """E[a] maps (1, x1, x2, y1, y2) to member a's row (design columns, then y)."""
    if distinguishable:
        # columns: int1, int2, actor1, actor2, partner1, partner2, y
        e = np.zeros((2, 7, 5))
        e[0, 0, 0] = e[0, 2, 1] = e[0, 4, 2] = e[0, 6, 3] = 1.0
        e[1, 1, 0] = e[1, 3, 2] = e[1, 5, 1] = e[1, 6, 4] = 1.0
    else:
        # columns: intercept, actor, partner, y
        e = np.zeros((2, 4, 5))
        e[0, 0, 0] = e[0, 1, 1] = e[0, 2, 2] = e[0, 3, 3] = 1.0
        e[1, 0, 0] = e[1, 1, 2] = e[1, 2, 1] = e[1, 3, 4] = 1.0
    return e


_E = {True: _selectors(True), False: _selectors(False)}


def true_theta(p: DiaryParams) -> np.ndarray:
    """The variance parameters of :class:`DiaryParams` on the optimiser's scale.

    Distinguishable: log residual SDs, Fisher-z residual correlation, log intercept
    SDs, Fisher-z intercept correlation (6); indistinguishable: one SD each (4).
    """
    z = [math.atanh(p.r_e), math.atanh(p.cor_intercepts)]
    ls = [math.log(max(s, 1e-3)) for s in p.sd_residual]
    li = [math.log(max(s, 1e-3)) for s in p.sd_intercept]
    if p.distinguishable:
        return np.array([ls[0], ls[1], z[0], li[0], li[1], z[1]])
    return np.array([sum(ls) / 2, z[0], sum(li) / 2, z[1]])


def _covs(theta: np.ndarray, distinguishable: bool) -> tuple[np.ndarray, np.ndarray]:
    """Sigma and G (..., 2, 2) from theta (..., k)."""
    if distinguishable:
        s0, s1, r, t0, t1, c = (theta[..., i] for i in range(6))
    else:
        s0, r, t0, c = (theta[..., i] for i in range(4))
        s1, t1 = s0, t0

    def cov(la: np.ndarray, lb: np.ndarray, z: np.ndarray) -> np.ndarray:
        a, b = np.exp(la), np.exp(lb)
        off = np.tanh(z) * a * b
        return np.stack([np.stack([a * a, off], -1), np.stack([off, b * b], -1)], -2)

    return cov(s0, s1, r), cov(t0, t1, c)


def _inv2(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    det = m[..., 0, 0] * m[..., 1, 1] - m[..., 0, 1] * m[..., 1, 0]
    inv = np.empty_like(m)
    inv[..., 0, 0] = m[..., 1, 1] / det
    inv[..., 1, 1] = m[..., 0, 0] / det
    inv[..., 0, 1] = -m[..., 0, 1] / det
    inv[..., 1, 0] = -m[..., 1, 0] / det
    return inv, np.log(det)


def _normal_equations(
    theta: np.ndarray, st: Stats, rows: Any = _ALL
) -> tuple[np.ndarray, np.ndarray]:
    """M = [X y]' V⁻¹ [X y] (R, S, q+1, q+1) and log|V| (R, S) for theta (R, S, k) of
    the replications ``rows``."""
    sigma, g = _covs(theta, st.distinguishable)
    s_inv, s_logdet = _inv2(sigma)
    days = st.days.astype(float)
    a = days[:, None, None] * g[..., None, :, :] + sigma[..., None, :, :]  # (R,S,K,2,2)
    a_inv, a_logdet = _inv2(a)
    reps, npts = theta.shape[:2]
    q = _E[st.distinguishable].shape[1]
    m = (
        s_inv.reshape(reps, npts, 4) @ st.w_rows[rows]
        + a_inv.reshape(reps, npts, -1) @ st.b_rows[rows]
    ).reshape(reps, npts, q, q)
    n_couples = st.n_couples[rows]
    logdet_v = np.einsum("rg,rsg->rs", n_couples, a_logdet) + np.einsum(
        "rg,g,rs->rs", n_couples, days - 1.0, s_logdet
    )
    return m, logdet_v


def reml_criterion(theta: np.ndarray, st: Stats, rows: Any = _ALL) -> np.ndarray:
    """-2 × the REML log-likelihood (as nlme) of theta (R, S, k) → (R, S) of the
    replications ``rows`` (all by default)."""
    m, logdet_v = _normal_equations(theta, st, rows)
    q = m.shape[-1] - 1
    xx, xy, yy = m[..., :q, :q], m[..., :q, q], m[..., q, q]
    chol = np.linalg.cholesky(xx)
    z = np.linalg.solve(chol, xy[..., None])[..., 0]
    quad = yy - np.einsum("...i,...i->...", z, z)
    logdet_x = 2.0 * np.log(np.einsum("...ii->...i", chol)).sum(axis=-1)
    n = st.n_obs[rows, None]
    out: np.ndarray = (n - q) * _LOG2PI + logdet_v + logdet_x + quad
    return out


@dataclass
class BatchFit:
    """Fixed effects, their SEs and the variance parameters of every replication."""

    beta: np.ndarray  # (R, q)
    se: np.ndarray  # (R, q)
    theta: np.ndarray  # (R, k)
    df: np.ndarray  # (q,) or (R, q): nlme's df of each fixed effect
    converged: np.ndarray  # (R,) bool
    criterion: np.ndarray  # (R,) -2 REML log-likelihood


def fit_batch(st: Stats, start: np.ndarray, *, max_iter: int = 60, tol: float = 1e-7) -> BatchFit:
    """REML fits of all replications in ``st``, Newton from ``start`` (k,) or (R, k).

    Damped Newton steps for all replications together
    (:func:`~dyadlab.models._numerics.newton_batch`), every step's finite-difference
    points in one array expression; a replication stops at a Newton decrement below
    ``tol``.
    """
    reps = st.n_obs.shape[0]
    theta0 = np.array(np.broadcast_to(start, (reps, start.shape[-1])), dtype=float)

    def criterion(theta: np.ndarray, rows: Any) -> np.ndarray:
        with np.errstate(all="ignore"):
            return reml_criterion(theta, st, rows)

    theta, converged = newton_batch(
        criterion, theta0, max_iter=max_iter, stacked=True, tol=tol, shift=True
    )
    m, _ = _normal_equations(theta[:, None, :], st)
    m = m[:, 0]
    q = m.shape[-1] - 1
    cov = np.linalg.inv(m[:, :q, :q])
    beta = np.einsum("rij,rj->ri", cov, m[:, :q, q])
    crit = reml_criterion(theta[:, None, :], st)[:, 0]
    n_couples = st.n_couples.sum(axis=1)
    # nlme's df: every column varies within couples (role indicators too, when
    # distinguishable); the pooled intercept is constant (df of the larger stratum)
    if st.distinguishable:
        df = np.repeat((st.n_obs - n_couples - q + 1)[:, None], q, axis=1)
    else:
        inner = st.n_obs - n_couples - (q - 1)
        df = np.repeat(inner[:, None], q, axis=1)
        df[:, 0] = np.maximum(inner, n_couples - 1)
    return BatchFit(
        beta=beta,
        se=np.sqrt(np.einsum("rii->ri", cov)),
        theta=theta,
        df=df,
        converged=converged,
        criterion=crit,
    )
