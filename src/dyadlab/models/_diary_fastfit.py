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
replications (and all finite-difference points) in one array expression. The shared
batched Newton (:func:`~dyadlab.models._numerics.newton_batch`), started at the true
values (power) or the fitted ones (refits), reaches the optimum in a handful of steps.

What is the engine's here
-------------------------
The criterion is the engine's profiled REML log-likelihood, with the engine's
parameters: ``Sigma⁻¹`` comes from the pattern weights of
:class:`~dyadlab.models._engine_residual.CompoundSymmetry` (``coefs``), ``G = F F'``
from the factor of the engine's covariance structure (``Unstructured(2)``, or
``Exchangeable(1)`` for indistinguishable members), both relative to member 0's
residual variance, and ``beta`` and ``sigma²`` are profiled out by
:func:`~dyadlab.models._engine._loglik`, the formula of
:func:`~dyadlab.models._engine.fit_mixed` and
:func:`~dyadlab.models._engine.fit_gls_batch`. ``tests/models/test_diary_fastfit.py``
checks the criterion against :func:`~dyadlab.models._engine.profiled_loglik` on the
same data at arbitrary parameters (to 1e-8), and a fitted ``theta`` is a start for
``fit_mixed`` as it is.

What is not: the way ``[X y]' V⁻¹ [X y]`` and ``log |V|`` are assembled. The engine's
``_core`` takes per-dyad cross products ``Z_d' Λ⁻¹ W_d`` and applies Woodbury with a
``q × q`` block per dyad, for one parameter vector and one data set per call (a
Cholesky looped over ``q``, scalars out of ``_profile``, a per-fit fallback for a
singular ``X'V⁻¹X``). A batch of 1,000 refits of 100 couples × 21 days needs about
1,000 × 5 Newton steps × 50 finite-difference points = 250,000 criterion values: at
the 0.4 ms one ``profiled_loglik`` call takes there (0.3 ms at 8 couples × 7 days;
one BLAS thread), about 100 s, where the target is 5 s for everything (here the whole
batch, outcomes drawn included, takes about 0.6 s of CPU). The
Woodbury correction is quadratic in the per-dyad products, so couples cannot be
summed before it, except where they share ``A_d``: couples with the same number of
complete days, whose correction is a contraction of their summed 5 × 5 products, which
is what the ``between`` statistics hold. Feeding that to ``_core`` would need
dyad-group weights in its log-determinant and batch axes over parameters and data sets
through ``_core``, ``_batched_chol_solve`` and ``_profile``: a rewrite of the hot path
of every engine fit, left to a later change.

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
from dyadlab.models._engine import _loglik
from dyadlab.models._engine_covariance import CovarianceStructure, Exchangeable, Unstructured
from dyadlab.models._engine_residual import CompoundSymmetry
from dyadlab.models._numerics import newton_batch

__all__ = [
    "BatchFit",
    "Stats",
    "engine_theta",
    "fit_batch",
    "structures",
    "sufficient_stats",
    "true_theta",
]

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


def structures(distinguishable: bool) -> tuple[CovarianceStructure, CompoundSymmetry]:
    """The engine's structures of the model: random role intercepts (unstructured, or
    exchangeable between indistinguishable members) and compound-symmetry residuals."""
    cov = Unstructured(2) if distinguishable else Exchangeable(1)
    return cov, CompoundSymmetry(distinguishable=distinguishable)


def engine_theta(
    sd_residual: Any, r_e: float, sd_intercept: Any, cor_intercepts: float, distinguishable: bool
) -> np.ndarray:
    """The engine's parameters of the variances (member 0's SD first; an SD pair or one).

    The log-Cholesky factor of the intercepts' covariance relative to member 0's residual
    variance (or, exchangeable, the log SDs of the sum and difference components), then
    the log SD ratio (distinguishable) and Fisher-z correlation of the residuals, as
    :func:`~dyadlab.models._engine.fit_mixed` has them. SDs are floored at 1e-3 of the
    residual SD and correlations clipped to ±0.999, so that a start on a boundary is
    still a start.
    """
    sd_e = np.broadcast_to(np.asarray(sd_residual, dtype=float), (2,))
    sd_u = np.maximum(np.broadcast_to(np.asarray(sd_intercept, dtype=float), (2,)), 1e-3 * sd_e[0])
    if not distinguishable:
        sd_e, sd_u = np.full(2, math.sqrt(sd_e @ sd_e / 2)), np.full(2, math.sqrt(sd_u @ sd_u / 2))
    r_u, r_e = (float(np.clip(r, -0.999, 0.999)) for r in (cor_intercepts, r_e))
    s0, s1 = sd_u / sd_e[0]
    c = r_u * s0 * s1
    if distinguishable:
        chol = np.linalg.cholesky(np.array([[s0 * s0, c], [c, s1 * s1]]))
        cov = [math.log(chol[0, 0]), chol[1, 0], math.log(chol[1, 1])]
        return np.array([*cov, math.log(sd_e[1] / sd_e[0]), math.atanh(r_e)])
    return np.array([0.5 * math.log(s0 * s0 + c), 0.5 * math.log(s0 * s0 - c), math.atanh(r_e)])


def true_theta(p: DiaryParams) -> np.ndarray:
    """The variance parameters of :class:`DiaryParams` on the engine's scale
    (:func:`engine_theta`): 5 distinguishable, 3 indistinguishable."""
    return engine_theta(p.sd_residual, p.r_e, p.sd_intercept, p.cor_intercepts, p.distinguishable)


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
    """M = [X y]' V⁻¹ [X y] (R, S, q+1, q+1) and log|V| (R, S), V relative to member 0's
    residual variance, for the engine's parameters theta (R, S, k) of the replications
    ``rows``: Sigma⁻¹ from the residual structure's pattern weights, G = F F' from the
    covariance structure's factor."""
    cov, residual = structures(st.distinguishable)
    f = cov.factor(theta[..., : cov.n_params])
    g = f @ np.swapaxes(f, -1, -2)
    w, logdet = residual.coefs(theta[..., cov.n_params :])
    s_inv = np.stack([w[..., [0, 2]], w[..., [2, 1]]], -2)  # the pair's precision
    s_logdet = logdet[..., 0]
    days = st.days.astype(float)
    a = days[:, None, None] * g[..., None, :, :] + _inv2(s_inv)[0][..., None, :, :]
    a_inv, a_logdet = _inv2(a)  # (R, S, K, 2, 2)
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


def _profiled(m: np.ndarray, logdet_v: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, ...]:
    """The engine's profiled REML log-likelihood (:func:`~dyadlab.models._engine._loglik`)
    from ``M`` and ``log|V|``; also ``log RSS``."""
    p = m.shape[-1] - 1
    log_diag = np.log(np.einsum("...ii->...i", np.linalg.cholesky(m)))
    log_rss, logdet_x = 2.0 * log_diag[..., p], 2.0 * log_diag[..., :p].sum(axis=-1)
    return _loglik(log_rss, logdet_x, logdet_v, n, p, "REML"), log_rss


def reml_criterion(theta: np.ndarray, st: Stats, rows: Any = _ALL) -> np.ndarray:
    """-2 × the profiled REML log-likelihood (as nlme, and as the engine's
    :func:`~dyadlab.models._engine.profiled_loglik`) of theta (R, S, k) → (R, S) of the
    replications ``rows`` (all by default)."""
    m, logdet_v = _normal_equations(theta, st, rows)
    out: np.ndarray = -2.0 * _profiled(m, logdet_v, st.n_obs[rows, None])[0]
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


def fit_batch(st: Stats, start: np.ndarray, *, max_iter: int = 200, tol: float = 1e-7) -> BatchFit:
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
    m, logdet_v = _normal_equations(theta[:, None, :], st)
    m, logdet_v = m[:, 0], logdet_v[:, 0]
    q = m.shape[-1] - 1
    ll, log_rss = _profiled(m, logdet_v, st.n_obs)
    xx_inv = np.linalg.inv(m[:, :q, :q])
    beta = np.einsum("rij,rj->ri", xx_inv, m[:, :q, q])
    sigma2 = np.exp(log_rss) / (st.n_obs - q)  # member 0's residual variance
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
        se=np.sqrt(sigma2[:, None] * np.einsum("rii->ri", xx_inv)),
        theta=theta,
        df=df,
        converged=converged,
        criterion=-2.0 * ll,
    )
