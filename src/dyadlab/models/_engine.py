"""The estimation engine: Gaussian linear mixed models with independent dyad blocks.

Every dyadic model of dyadlab that has random effects or a structured residual
covariance is a special case of

.. math::

    y_i = X_i \\beta + Z_i u_i + e_i, \\qquad u_i \\sim N(0, \\sigma^2 \\Psi), \\qquad
    e_i \\sim N(0, \\sigma^2 \\Lambda_i(\\theta_R)),

with one block :math:`i` per dyad. :math:`\\Psi` (``q × q``, q small: the two partners'
random intercepts, optionally random slopes per partner) has a structure from
:mod:`dyadlab.models._engine_covariance`; :math:`\\Lambda_i` (role-specific variances and
correlation within an occasion, AR(1) over occasions, or both as a Kronecker product)
comes from :mod:`dyadlab.models._engine_residual`.

Why a custom engine
-------------------
``statsmodels.MixedLM`` has neither correlated residuals within an occasion, nor AR(1)
residuals, nor role-specific residual variances, and it loops over groups in Python,
which is slow for tens of thousands of dyads. The reference implementation,
``nlme::lme``, takes seconds to minutes for a large diary study. This engine exploits
the structure of dyadic data instead:

* the residual precision :math:`\\Lambda_i^{-1}` is a sum of a handful of fixed sparse
  patterns (pairs of rows: the same row, the two partners on one occasion, one person on
  consecutive occasions with a given gap) weighted by coefficients that depend only on
  :math:`\\theta_R`. The cross products :math:`W_i' \\Lambda_i^{-1} W_i` of the data
  :math:`W = [Z, X, y]` are therefore linear combinations of per-pattern cross products
  computed once (O(N)), so a likelihood evaluation costs O(number of dyads), not O(N);
* the random effects enter by the Woodbury identity with a ``q × q`` matrix per dyad,
  batched over all dyads (no Python loop over dyads);
* the fixed effects (and :math:`\\sigma^2`) are profiled out by generalised least
  squares, so the optimiser (``scipy.optimize``, L-BFGS-B on an unconstrained
  parametrisation: log-Cholesky factors, log SD ratios, Fisher-z correlations) sees only
  the few variance parameters;
* the gradient with respect to the random-effect covariance is analytic
  (:func:`loglik_gradient`: one pass over the dyads gives ``Σ_d Z_d'V_d^{-1}[Z_d, X_d,
  y_d]`` by Woodbury), and so is the residual parameters' when the precision is a
  pattern sum (:func:`_pattern_score`: the same per-dyad quantities contracted with each
  pattern's sums; central differences of the likelihood otherwise); a few Newton steps
  with the Hessian as forward differences of that gradient end the optimisation. A
  start given by the caller (a refit, a model's own estimate from sufficient statistics)
  goes to those Newton steps directly, the quasi-Newton search only if they fail.

The restricted (REML) and full (ML) log-likelihoods, standard errors
:math:`\\hat\\sigma^2 (X'\\hat V^{-1}X)^{-1}` and the fixed-effect degrees of freedom
follow ``nlme::lme`` (Pinheiro & Bates 2000), so that results equal nlme's.

Building a model on the engine
------------------------------
A model (``diary``, ``truth_bias``) builds, for the rows it keeps, sorted by dyad:

1. ``X`` (N × p) and ``y`` — the fixed effects; ``Z`` (N × q) — the random effects of a
   dyad, typically the member indicators ``[member == 0, member == 1]`` (random
   intercepts per partner) times 1 or a predictor (random slopes);
2. a :class:`~dyadlab.models._engine_residual.RowLayout`: dyad codes 0..D-1 (rows
   grouped by dyad), member 0/1 and occasion (integer for AR(1)/Kronecker; any value
   matched for equality for compound symmetry);
3. a residual structure (``Independent``, ``CompoundSymmetry``, ``AR1``, ``Kronecker``)
   and a covariance structure for Z (``Unstructured(q)``, or ``Exchangeable(k)`` for
   indistinguishable members with Z ordered member 0's k terms, then member 1's;
   ``Diagonal``, ``Identity`` and ``Blocked([...])`` for nlme's ``pdDiag``, ``pdIdent``
   and ``pdBlocked``; a Z with no columns and ``Unstructured(0)`` for no random effects);

and calls :func:`fit_mixed`, which returns an :class:`EngineFit` (fixed effects, their
covariance and nlme's df, ``sigma2 * psi`` = the random-effect covariance, natural
residual parameters, log-likelihood, AIC, BIC, convergence and boundary notes). A variance
that may sit near zero can be re-examined by :func:`refit_small_log_sds`; the model
without random effects is refitted to many bootstrap resamples (frequency weights) at
once by :func:`fit_gls_batch`. A new residual structure needs only its precision
written as weighted row-pair patterns
(:class:`~dyadlab.models._engine_residual.PatternSums`) and its ``dense`` definition,
against which ``tests/models/test_engine.py`` checks it.

Examples
--------
>>> import numpy as np
>>> from dyadlab.models._engine import fit_mixed
>>> from dyadlab.models._engine_covariance import Unstructured
>>> from dyadlab.models._engine_residual import RowLayout, CompoundSymmetry
>>> rng = np.random.default_rng(1)
>>> dyad = np.repeat(np.arange(50), 10); member = np.tile([0, 1], 250)
>>> time = np.tile(np.repeat(np.arange(5), 2), 50)
>>> Z = np.column_stack([member == 0, member == 1]).astype(float)
>>> y = Z @ [1.0, 2.0] + rng.normal(size=500)
>>> layout = RowLayout(dyad=dyad, member=member, time=time)
>>> fit = fit_mixed(Z, y, Z, layout, CompoundSymmetry(distinguishable=True), Unstructured(2))
>>> bool(np.allclose(fit.beta, [1, 2], atol=0.5))
True
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import optimize

from dyadlab.models._bootstrap import safe_solve
from dyadlab.models._engine_covariance import CovarianceStructure
from dyadlab.models._engine_residual import CompoundSymmetry, ResidualStructure, RowLayout
from dyadlab.models._numerics import fd_gradient, newton_batch, newton_polish

__all__ = [
    "EngineFit",
    "fit_gls_batch",
    "fit_mixed",
    "loglik_gradient",
    "nlme_fixed_df",
    "profiled_loglik",
    "refit_small_log_sds",
]

_LOG2PI = math.log(2 * math.pi)
#: L-BFGS-B's relative-reduction stop. 1e-9 stopped on the flat log-SD plateau of a
#: variance near zero (0.01 log-likelihood short of the optimum on a truth-bias fixture,
#: rescued only by luck of rounding); 1e-11 costs a few more, cheap, evaluations.
_FTOL = 1e-11


@dataclass
class EngineFit:
    """The result of :func:`fit_mixed` (engine level, before a model names things).

    Attributes
    ----------
    beta, vcov : ndarray
        Fixed effects and their covariance :math:`\\hat\\sigma^2 (X'\\hat V^{-1}X)^{-1}`.
    df : ndarray
        nlme's degrees of freedom of each fixed effect (:func:`nlme_fixed_df`).
    sigma2 : float
        The residual variance of the reference member (member 0).
    psi : ndarray
        Random-effect covariance relative to ``sigma2``; the covariance is
        ``sigma2 * psi``.
    residual_params : dict
        Natural residual parameters (``sd_ratio``, ``rho``, ``phi``) as applicable.
    theta : ndarray
        The optimised unconstrained parameters (covariance first, then residual).
    theta_cov : ndarray
        Their approximate covariance, the inverse Hessian of the profiled negative
        log-likelihood (NaN for parameters at a bound), as nlme's ``apVar``; Wald
        intervals on this scale (Fisher z for correlations) are nlme's ``intervals()``.
    loglik : float
        The (restricted) log-likelihood at the optimum, on nlme's scale.
    n_params : int
        Fixed effects + variance parameters + 1 (sigma), as nlme counts for AIC/BIC.
    converged : bool
    boundary : list of str
        Variance parameters that ended at (or numerically near) their boundary.
    """

    beta: np.ndarray
    vcov: np.ndarray
    df: np.ndarray
    sigma2: float
    psi: np.ndarray
    residual_params: dict[str, float]
    theta: np.ndarray
    loglik: float
    estimator: str
    n_obs: int
    n_groups: int
    n_params: int
    aic: float
    bic: float
    converged: bool
    iterations: int
    message: str
    boundary: list[str] = field(default_factory=list)
    theta_cov: np.ndarray | None = None


def _core(
    ZW: np.ndarray,
    WW: np.ndarray,
    logdet_r: float,
    F: np.ndarray,
    q: int,
    p: int,
    n: int,
    estimator: str,
    score: bool = False,
) -> tuple[float, dict[str, Any]]:
    """Profiled log-likelihood from the Lambda-weighted cross products (Woodbury).

    With ``q = 0`` (no random effects: a GLS model) the Woodbury correction vanishes.
    """
    if q == 0:
        ll0, info0 = _profile(WW, logdet_r, 0.0, p, n, estimator)
        if score:
            info0["score_S"] = np.zeros((0, 0))
        return ll0, info0
    D = ZW.shape[2]
    # T[a, j, d] = sum_k F[k, a] ZW[k, j, d]: F' [Z'L^-1 Z, Z'L^-1 X, Z'L^-1 y]
    T = (F.T @ ZW.reshape(q, -1)).reshape(q, -1, D)
    M = np.tensordot(F, T[:, :q, :], axes=([0], [1]))  # [b, a, d]; symmetric in a, b
    M[np.arange(q), np.arange(q)] += 1.0
    # the X, y columns of T serve the likelihood; with the score, the Z columns and F'
    # (for N = F M^-1 F') serve the gradients
    if score:
        rhs = np.concatenate([T, np.broadcast_to(F.T[:, :, None], (q, q, D))], axis=1)
    else:
        rhs = T[:, q:, :]
    diag, YT, L = _batched_chol_solve(M, rhs)
    m = ZW.shape[1]
    Y = YT[:, q:m, :] if score else YT
    logdet_m = 2.0 * float(np.log(diag).sum())
    corr = sum(Y[i] @ Y[i].T for i in range(q))
    ll, info = _profile(WW[q:, q:] - corr, logdet_r, logdet_m, p, n, estimator)
    if score:
        info["Ainv"] = np.linalg.inv(info["XVX"])
        U = _back_solve(L, YT)  # M^-1 [F'Z'L^-1 W, F'] per dyad
        info["score_S"] = _cov_score(ZW, F, U[:, :m, :], info, q, p, estimator)
        info["C"] = np.einsum("ab,bjd->ajd", F, U[:, :m, :])  # N Z'L^-1 W
        info["N"] = np.einsum("ab,bjd->ajd", F, U[:, m:, :])  # F M^-1 F'
    return ll, info


def _back_solve(L: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """``L'^-1 Y`` for the batched lower-triangular ``L`` (q, q, D): back substitution."""
    q = L.shape[0]
    U = np.empty_like(Y)
    for i in range(q - 1, -1, -1):
        acc = Y[i].copy()
        for j in range(i + 1, q):
            acc -= L[j, i] * U[j]
        U[i] = acc / L[i, i]
    return U


def _cov_score(
    ZW: np.ndarray,
    F: np.ndarray,
    U: np.ndarray,
    info: dict[str, Any],
    q: int,
    p: int,
    estimator: str,
) -> np.ndarray:
    """The q × q matrix ``S`` of the gradient with respect to ``psi = F F'``.

    With ``V = Lambda + Z psi Z'`` (relative to sigma2), the profiled (restricted)
    log-likelihood changes by ``dl = -1/2 tr(d psi S)``,
    ``S = Σ_d [Z_d'V_d^-1 Z_d - B_d A^-1 B_d' (REML only) - c_d c_d' / sigma2]``, where
    ``B_d = Z_d'V_d^-1 X_d``, ``A = X'V^-1 X`` and ``c_d = Z_d'V_d^-1 (y_d - X_d beta)``;
    ``Z'V^-1 W = Z'L^-1 W - Z'L^-1 Z F M^-1 F' Z'L^-1 W`` by Woodbury, ``M = L L'``;
    ``U = M^-1 F' Z'L^-1 W`` per dyad.
    """
    ZZF = np.einsum("akd,kb->abd", ZW[:, :q, :], F)
    Q = ZW - np.einsum("abd,bjd->ajd", ZZF, U)  # Z' V^-1 [Z, X, y] per dyad
    G = Q[:, :q, :].sum(axis=2)
    B = Q[:, q : q + p, :]
    c = Q[:, q + p, :] - np.einsum("apd,p->ad", B, info["beta"])
    S = G - (c @ c.T) / info["sigma2"]
    if estimator == "REML":
        BA = np.einsum("apd,pr->ard", B, info["Ainv"])
        S -= np.einsum("ard,brd->ab", BA, B)
    out: np.ndarray = 0.5 * (S + S.T)
    return out


def _pattern_score(
    sums: Any, info: dict[str, Any], q: int, p: int, n: int, estimator: str
) -> np.ndarray:
    """Derivatives of ``-2 ×`` the profiled log-likelihood with respect to the weights
    ``c_k`` of the residual precision's patterns, ``Lambda^-1 = Σ_k c_k P_k``
    (``logdet_r`` aside).

    ``V^-1 = R - R Z N Z' R`` (``R = Lambda^-1``, ``N = F M^-1 F'``) changes with ``R``
    in the direction ``P_k`` by ``(I - R Z N Z')P_k(I - Z N Z' R)``, so that
    ``d(W'V^-1 W) = G_k - Σ_d (H_k'C + C'H_k - C'H_k^ZZ C)`` with ``G_k = W'P_k W``
    (``sums.ww``), ``H_k = Z'P_k W`` per dyad (``sums.zw``) and ``C = N Z'R W``; the
    log-determinant of ``M`` changes by ``Σ_d tr(N H_k^ZZ)``. With ``e = (-beta, 1)``
    the residual sum of squares changes by ``e' dA e`` (beta optimal), and
    ``log|X'V^-1 X|`` (REML) by ``tr((X'V^-1X)^-1 dA_XX)``: two contractions of the
    pattern sums with weights built once, whatever the number of patterns.
    """
    beta = np.asarray(info["beta"], dtype=float)
    m = q + p + 1
    nr = n - p if estimator == "REML" else n
    rss = float(info["sigma2"]) * nr
    e = np.zeros(m)
    e[q : q + p] = -beta
    e[q + p] = 1.0
    Gw = (nr / rss) * np.outer(e, e)
    Ainv = (info.get("Ainv") if q else np.linalg.inv(info["XVX"])) if estimator == "REML" else None
    if Ainv is not None:
        Gw[q : q + p, q : q + p] += Ainv
    K = sums.ww.shape[0]
    out: np.ndarray = np.einsum("kn,n->k", sums.ww.reshape(K, -1), Gw.ravel())
    if q:
        C, N = info["C"], info["N"]
        ce = np.einsum("ajd,j->ad", C, e)  # (q, D)
        Wf = np.empty_like(C)
        Wf[:, :q, :] = (nr / rss) * ce[:, None, :] * ce[None, :, :] + N
        Wf[:, q:, :] = (-2.0 * nr / rss) * ce[:, None, :] * e[None, q:, None]
        if Ainv is not None:
            CA = np.einsum("aid,ij->ajd", C[:, q : q + p, :], Ainv)  # (q, p, D)
            Wf[:, :q, :] += np.einsum("ajd,bjd->abd", CA, C[:, q : q + p, :])
            Wf[:, q : q + p, :] -= 2.0 * CA
        out = out + np.einsum("kn,n->k", sums.zw.reshape(K, -1), Wf.ravel())
    return out


def _profile(
    full: np.ndarray, logdet_r: float, logdet_m: float, p: int, n: int, estimator: str
) -> tuple[float, dict[str, Any]]:
    """Profile beta and sigma2 out of ``[X y]' V^-1 [X y]`` (``full``)."""
    XVX = full[:p, :p]
    # the last diagonal element of the Cholesky factor of [X y]'V^-1[X y] is sqrt(RSS),
    # exact even for a nearly collinear X (where y'V^-1y - XVy'beta cancels)
    try:
        log_diag = np.log(np.diagonal(np.linalg.cholesky(full)))
        beta = np.linalg.solve(XVX, full[:p, p])
        log_rss, logdet_x = 2.0 * float(log_diag[p]), 2.0 * float(log_diag[:p].sum())
    except np.linalg.LinAlgError:
        # X'V^-1X singular to working precision (predictors collinear to ~1e-7, which
        # the data checks warn about): least squares by the pseudo-inverse, as the
        # rounding decides between this and the Cholesky above from one BLAS to another
        beta = np.linalg.lstsq(XVX, full[:p, p], rcond=None)[0]
        rss = float(full[p, p] - beta @ full[:p, p])
        log_rss = math.log(max(rss, np.finfo(float).tiny))
        logdet_x = float(np.linalg.slogdet(XVX)[1])
    ll = float(_loglik(log_rss, logdet_x, logdet_r + logdet_m, n, p, estimator))
    sigma2 = math.exp(log_rss) / (n - p if estimator == "REML" else n)
    return ll, {"beta": beta, "XVX": XVX, "sigma2": sigma2}


def _loglik(log_rss: Any, logdet_x: Any, logdet_v: Any, n: Any, p: int, estimator: str) -> Any:
    """The profiled (restricted) log-likelihood from ``log(y'V^-1 y - ...)`` (the GLS
    residual sum of squares), ``log|X'V^-1 X|`` and ``log|V|`` (relative to sigma2), as
    nlme (REML without Harville's ``log|X'X|/2``); floats or arrays over resamples."""
    nr = n - p if estimator == "REML" else n
    ll = -0.5 * (nr * (_LOG2PI + 1.0 + log_rss - np.log(nr)) + logdet_v)
    return ll - 0.5 * logdet_x if estimator == "REML" else ll


def _batched_chol_solve(M: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cholesky ``M = L L'`` of many small matrices and ``Y = L^{-1} H``, looping over q.

    ``M`` is (q, q, D) and ``H`` (q, k, D), dyads last: each step is an elementwise
    operation on contiguous length-D vectors, far faster than LAPACK called per block.
    Returns the diagonals of ``L`` (q, D), ``Y`` (q, k, D) and ``L`` (q, q, D).
    """
    q = M.shape[0]
    L = np.zeros_like(M)
    for j in range(q):
        s = M[j, j] - (L[j, :j] ** 2).sum(axis=0)
        if np.any(s <= 0):
            raise np.linalg.LinAlgError("a random-effect block is not positive definite")
        L[j, j] = np.sqrt(s)
        for i in range(j + 1, q):
            L[i, j] = (M[i, j] - (L[i, :j] * L[j, :j]).sum(axis=0)) / L[j, j]
    Y = np.empty_like(H)
    for i in range(q):
        acc = H[i].copy()
        for j in range(i):
            acc -= L[i, j] * Y[j]
        Y[i] = acc / L[i, i]
    return L[np.arange(q), np.arange(q)], Y, L


def profiled_loglik(
    theta: np.ndarray,
    prepared: Any,
    cov: CovarianceStructure,
    q: int,
    p: int,
    n: int,
    estimator: str,
    score: bool = False,
) -> tuple[float, dict[str, Any]]:
    """Profiled (restricted) log-likelihood at the variance parameters ``theta``.

    ``score=True`` adds ``info["score_S"]``, the gradient with respect to ``psi``
    (:func:`_cov_score`)."""
    k = cov.n_params
    F = cov.factor(theta[:k])
    ZW, WW, logdet_r = prepared.cross(theta[k:])
    return _core(ZW, WW, logdet_r, F, q, p, n, estimator, score)


def loglik_gradient(
    theta: np.ndarray,
    prepared: Any,
    cov: CovarianceStructure,
    q: int,
    p: int,
    n: int,
    estimator: str,
    h: float = 1e-5,
    central: bool = True,
) -> tuple[float, np.ndarray]:
    """Profiled (restricted) log-likelihood and its gradient with respect to ``theta``.

    The covariance parameters' part is analytic (:func:`_cov_score`, one evaluation for
    all of them; ``dF/dtheta`` of the small factor by central differences). The residual
    parameters' part is analytic too when the residual precision is a sum of weighted
    patterns (:func:`_pattern_score`; the weights' and ``log|Lambda|``'s derivatives by
    central differences of those closed forms, no pass over the data); otherwise (a
    Kronecker structure with dyads that break it) by central differences of the
    likelihood (step ``h``), or forward differences (``central=False``: one evaluation
    each, as quasi-Newton needs).
    """
    k = cov.n_params
    ll, info = profiled_loglik(theta, prepared, cov, q, p, n, estimator, score=True)
    grad = np.empty(len(theta))
    if k:
        # d ll / d theta_i = -sum(S F' * dF/dtheta_i): S F' is fixed, so the derivative
        # of that one scalar function of the factor
        SF = info["score_S"] @ cov.factor(theta[:k])
        grad[:k] = -fd_gradient(lambda t: float(np.sum(SF * cov.factor(t))), theta[:k], 1e-7)
    if len(theta) == k:
        return ll, grad
    coefs_at = getattr(prepared, "pattern_coefs", None)
    if coefs_at is not None and coefs_at(theta[k:]) is not None:
        d_coef = _pattern_score(prepared.sums, info, q, p, n, estimator)

        def weighted(t: np.ndarray) -> float:
            coefs, logdet = coefs_at(t)
            return float(d_coef @ coefs) + float(logdet)

        grad[k:] = -0.5 * fd_gradient(weighted, theta[k:], 1e-6)
        return ll, grad

    def loglik(t: np.ndarray) -> float:
        return float(profiled_loglik(t, prepared, cov, q, p, n, estimator)[0])

    residual = range(k, len(theta))
    if central:
        grad[k:] = fd_gradient(loglik, theta, h, residual)[k:]
    else:  # forward, scipy's 2-point step: one evaluation per parameter
        steps = 1.49e-8 * np.maximum(1.0, np.abs(theta))
        grad[k:] = fd_gradient(loglik, theta, steps, residual, at=ll)[k:]
    return ll, grad


def nlme_fixed_df(X: np.ndarray, group_starts: np.ndarray) -> np.ndarray:
    """Degrees of freedom of the fixed effects as ``nlme::lme`` reports them (one level).

    A column that varies within at least one group is estimated in the residual stratum
    (df = N - groups - its columns), a column constant within every group in the group
    stratum (df = groups - its columns); an intercept-like constant column takes the
    larger. Without such a column, the residual stratum gains one (nlme's
    ``getFixDF``).
    """
    n = X.shape[0]
    m = len(group_starts)
    tol = math.sqrt(np.finfo(float).eps)
    XT = np.ascontiguousarray(X.T)  # reductions run along contiguous columns
    lo, hi = XT.min(axis=1), XT.max(axis=1)
    first = XT[:, 0]
    scale = np.where(first == 0, 1.0, np.abs(first))
    const = (hi - lo) / scale < tol
    # a column varies within a group where two neighbouring rows of the group differ
    # (one pass over X; the rows are grouped)
    same_group = np.ones(n - 1 if n else 0, dtype=bool)
    same_group[group_starts[1:] - 1] = False
    inner = ~const & ((XT[:, 1:] != XT[:, :-1]) & same_group).any(axis=1)
    df_strata = np.array([m, n - m], dtype=float)
    stratum = np.where(inner, 1, 0)
    for s in (0, 1):
        df_strata[s] -= np.sum(~const & (stratum == s))
    if const.any():
        df_strata[0] -= 1
    else:
        df_strata[1] += 1
    out = np.where(const, df_strata.max(), df_strata[stratum])
    return out.astype(float)


def fit_mixed(
    X: np.ndarray,
    y: np.ndarray,
    Z: np.ndarray,
    layout: RowLayout,
    residual: ResidualStructure,
    cov: CovarianceStructure,
    *,
    estimator: Literal["REML", "ML"] = "REML",
    start: np.ndarray | None = None,
    fixed: dict[int, float] | None = None,
    check_rank: bool = True,
) -> EngineFit:
    """Fit a Gaussian linear mixed model with independent dyad blocks by (RE)ML.

    Parameters
    ----------
    X : ndarray (N, p)
        Fixed-effect design, rows in ``layout`` order (sorted by dyad).
    y : ndarray (N,)
        Outcome.
    Z : ndarray (N, q)
        Random-effect design; the effects of one dyad share a covariance ``sigma2 psi``.
        ``q = 0`` (with ``Unstructured(0)``) fits the model without random effects
        (nlme's ``gls`` with the residual structure).
    layout : RowLayout
        Dyad, member (0/1) and time of every row.
    residual : ResidualStructure
        The residual covariance structure (compound symmetry, AR(1), Kronecker).
    cov : CovarianceStructure
        The structure of ``psi`` (unstructured or exchangeable between members).
    estimator : {"REML", "ML"}
    start : ndarray, optional
        Starting values of the unconstrained parameters (covariance, then residual).
    fixed : dict, optional
        Parameter positions held fixed at the given unconstrained values (used to show
        that a structure reduces to another).
    check_rank : bool
        Refuse a design whose scaled ``X'X`` has an eigenvalue below 1e-10 (False: the
        caller has checked the rank and warns of a nearly collinear design itself).

    Returns
    -------
    EngineFit
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Z = np.asarray(Z, dtype=float)
    n, p = X.shape
    q = Z.shape[1]
    XtX = X.T @ X
    ev = np.linalg.eigvalsh(
        XtX
        / np.maximum(np.diag(XtX), 1e-300)[:, None] ** 0.5
        / np.maximum(np.diag(XtX), 1e-300)[None, :] ** 0.5
    )
    if check_rank and (ev[0] < 1e-10 or np.any(np.diag(XtX) == 0)):
        raise np.linalg.LinAlgError("the fixed-effect design is rank deficient")
    # column-major: the pattern sums run along each column's contiguous values
    W = np.empty((n, q + p + 1), order="F")
    W[:, :q], W[:, q : q + p], W[:, q + p] = Z, X, y
    prepared = residual.prepare(W, q, layout)
    k = cov.n_params
    warm = start is not None
    if start is None:
        beta0 = np.linalg.solve(XtX, X.T @ y)
        resid = y - X @ beta0
        start = np.concatenate([cov.start(Z, resid, layout), residual.start(resid, layout)])
    start = np.asarray(start, dtype=float).copy()
    fixed = dict(fixed or {})
    free = np.array([i for i in range(len(start)) if i not in fixed], dtype=int)
    for i, v in fixed.items():
        start[i] = v
    bounds = cov.bounds() + residual.bounds()

    def full_theta(t: np.ndarray) -> np.ndarray:
        th = start.copy()
        th[free] = t
        return th

    def objective(t: np.ndarray) -> float:
        try:
            ll, _ = profiled_loglik(full_theta(t), prepared, cov, q, p, n, estimator)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return 1e100
        return -ll if math.isfinite(ll) else 1e100

    def objective_grad(t: np.ndarray, central: bool = True) -> tuple[float, np.ndarray]:
        try:
            th = full_theta(t)
            ll, g = loglik_gradient(th, prepared, cov, q, p, n, estimator, central=central)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return 1e100, np.zeros(len(t))
        if not (math.isfinite(ll) and np.all(np.isfinite(g))):
            return 1e100, np.zeros(len(t))
        return -ll, -g[free]

    converged = True
    theta_cov = np.full((len(start), len(start)), np.nan)
    iterations = 0
    message = "no free parameters"
    theta = start
    if len(free):
        lo = np.array([bounds[i][0] if bounds[i][0] is not None else -np.inf for i in free])
        hi = np.array([bounds[i][1] if bounds[i][1] is not None else np.inf for i in free])
        t0 = start[free]

        def grad(t: np.ndarray) -> np.ndarray:
            return objective_grad(t)[1]

        # an analytic gradient (pattern-sum residuals): the Hessian by forward differences
        # of it (k gradients; standard errors within ~1e-5 of central differences' 2k)
        analytic = getattr(prepared, "pattern_coefs", None)
        forward = 1e-5 if analytic is not None and analytic(start[k:]) is not None else None

        with np.errstate(all="ignore"):
            newton = None
            if warm and np.all((t0 - lo > 1e-2) & (hi - t0 > 1e-2)):
                # a start near the optimum (a refit, a start from sufficient statistics):
                # Newton steps from it, the quasi-Newton search only if they fail
                newton = newton_polish(
                    objective, t0, objective(t0), lo, hi, grad=grad, forward=forward
                )
                if not (newton[3] and newton[1] < 1e99):
                    newton = None
            if newton is not None:
                t_hat, f_hat, n_newton, newton_ok, hess_inv = newton
                iterations, message = n_newton, "Newton steps from the given start"
                converged = True
            else:
                res = optimize.minimize(
                    functools.partial(objective_grad, central=False),
                    t0,
                    jac=True,
                    method="L-BFGS-B",
                    bounds=list(zip(lo, hi, strict=True)),
                    # loose: quasi-Newton only gets close; the Newton polish gives precision
                    options={"maxiter": 500, "ftol": _FTOL, "gtol": 1e-4, "maxls": 30},
                )
                t_hat, f_hat, n_newton, newton_ok, hess_inv = newton_polish(
                    objective, res.x, float(res.fun), lo, hi, grad=grad, forward=forward
                )
                iterations, message = int(res.nit) + n_newton, str(res.message)
                converged = bool(f_hat < 1e99 and (newton_ok or res.success))
            theta = full_theta(t_hat)
            theta_cov[np.ix_(free, free)] = hess_inv
    ll, info = profiled_loglik(theta, prepared, cov, q, p, n, estimator)
    sigma2 = float(info["sigma2"])
    # nlme scales the fixed effects' covariance by the REML-type variance even under ML
    scale = sigma2 * (n / (n - p) if estimator == "ML" else 1.0)
    vcov = scale * np.linalg.inv(info["XVX"])
    n_var = cov.n_params + residual.n_params - len(fixed) + 1
    n_params = p + n_var
    n_bic = n - p if estimator == "REML" else n
    boundary = cov.at_boundary(theta[:k]) + residual.at_boundary(theta[k:])
    starts = np.flatnonzero(np.r_[True, np.diff(layout.dyad) != 0])
    F = cov.factor(theta[:k])
    return EngineFit(
        beta=info["beta"],
        vcov=vcov,
        df=nlme_fixed_df(W[:, q : q + p], starts),
        sigma2=sigma2,
        psi=F @ F.T,
        residual_params=residual.natural(theta[k:]),
        theta=theta,
        loglik=float(ll),
        estimator=estimator,
        n_obs=n,
        n_groups=len(starts),
        n_params=n_params,
        aic=-2 * ll + 2 * n_params,
        bic=-2 * ll + math.log(n_bic) * n_params,
        converged=converged,
        iterations=iterations,
        message=message,
        boundary=boundary,
        theta_cov=theta_cov,
    )


def refit_small_log_sds(
    fit: EngineFit,
    X: np.ndarray,
    y: np.ndarray,
    Z: np.ndarray,
    layout: RowLayout,
    residual: ResidualStructure,
    cov: CovarianceStructure,
    *,
    positions: np.ndarray,
    estimator: Literal["REML", "ML"] = "REML",
    below: float = -4.0,
) -> EngineFit:
    """Re-examine log-SD parameters that ended near zero variance; the better fit.

    A variance near zero sits on a plateau of the log-SD scale (the gradient there is
    ``2 sigma^2`` times that on the variance scale), where quasi-Newton can stop short.
    Each listed log-SD parameter below ``below`` is searched in one dimension (the
    profiled likelihood on a grid from -10 to 0, then Brent around the best point), the
    model is refitted from there, and the refit is kept if its likelihood is higher.

    Parameters
    ----------
    fit : EngineFit
        The fit of :func:`fit_mixed` with these arguments.
    positions : ndarray of int
        Positions in ``theta`` of the log-SD parameters to re-examine.

    Returns
    -------
    EngineFit
    """
    positions = np.asarray(positions, dtype=int)
    small = positions[fit.theta[positions] < below]
    if not len(small):
        return fit
    q, (n, p) = Z.shape[1], X.shape
    prepared = residual.prepare(np.column_stack([Z, X, y]), q, layout)
    t = fit.theta.copy()

    def negll(value: float, i: int) -> float:
        trial = t.copy()
        trial[i] = value
        try:
            ll, _ = profiled_loglik(trial, prepared, cov, q, p, n, estimator)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            return 1e100
        return -ll if math.isfinite(ll) else 1e100

    grid = np.arange(-10.0, 0.01, 0.5)
    for i in small:
        vals = [negll(g, int(i)) for g in grid]
        best = float(grid[int(np.argmin(vals))])
        res = optimize.minimize_scalar(
            negll,
            bounds=(best - 0.5, best + 0.5),
            args=(int(i),),
            method="bounded",
            options={"xatol": 1e-6},
        )
        t[i] = float(res.x) if res.fun <= min(vals) else best
    try:
        again = fit_mixed(X, y, Z, layout, residual, cov, estimator=estimator, start=t)
    except (np.linalg.LinAlgError, ValueError):
        return fit
    return again if again.loglik > fit.loglik + 1e-9 and again.converged else fit


def fit_gls_batch(
    X: np.ndarray,
    y: np.ndarray,
    layout: RowLayout,
    residual: CompoundSymmetry,
    weights: np.ndarray,
    start: np.ndarray,
    *,
    estimator: Literal["REML", "ML"] = "REML",
) -> np.ndarray:
    """Fixed effects of the model without random effects for many frequency weights at once.

    Each row of ``weights`` (b, D) counts how often each dyad is drawn (a bootstrap
    resample): the fit equals :func:`fit_mixed` with ``q = 0`` on the data with every dyad
    repeated that often. The per-dyad cross products of the residual patterns are
    combined with the weights in one matrix product, and the residual parameters of all
    resamples are found together by damped Newton steps
    (:func:`~dyadlab.models._numerics.newton_batch`) from ``start`` (the full data's
    ``theta``), with the same profiled (restricted) likelihood as :func:`fit_mixed`.

    Returns
    -------
    ndarray (b, p)
        NaN in the rows whose resample leaves the design singular.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> dyad = np.repeat(np.arange(40), 2); member = np.tile([0, 1], 40)
    >>> X = np.column_stack([np.ones(80), rng.normal(size=80)])
    >>> y = X @ [1.0, 0.5] + rng.normal(size=40).repeat(2) + rng.normal(size=80)
    >>> layout = RowLayout(dyad=dyad, member=member, time=np.zeros(80))
    >>> from dyadlab.models._engine_covariance import Unstructured
    >>> cs = CompoundSymmetry(distinguishable=False)
    >>> fit = fit_mixed(X, y, np.zeros((80, 0)), layout, cs, Unstructured(0))
    >>> b = fit_gls_batch(X, y, layout, cs, np.ones((2, 40)), fit.theta)
    >>> bool(np.allclose(b, fit.beta))
    True
    """
    p = X.shape[1]
    m, D = p + 1, layout.n_dyads
    prepared = residual.prepare(np.column_stack([X, y]), m, layout)  # all columns per dyad
    K = prepared.sums.zw.shape[0]
    sums = (weights @ prepared.sums.zw.reshape(-1, D).T).reshape(len(weights), K, m, m)
    counts = weights @ prepared.counts.T
    n = weights @ np.bincount(layout.dyad, minlength=D).astype(float)

    def full(t: np.ndarray, rows: Any) -> tuple[np.ndarray, np.ndarray]:
        coefs, logdet = prepared.coefs(t)
        return np.einsum("rk,rkij->rij", coefs, sums[rows]), np.sum(logdet * counts[rows], 1)

    def negll(t: np.ndarray, rows: Any) -> np.ndarray:
        c, logdet_v = full(t, rows)
        sign_c, logdet_c = np.linalg.slogdet(c)
        sign_x, logdet_x = np.linalg.slogdet(c[:, :p, :p])
        ll = _loglik(logdet_c - logdet_x, logdet_x, logdet_v, n[rows], p, estimator)
        out: np.ndarray = np.where((sign_c > 0) & (sign_x > 0), -ll, np.nan)
        return out

    with np.errstate(all="ignore"):  # a singular resample's rows become NaN
        t, _ = newton_batch(negll, np.tile(np.asarray(start, dtype=float), (len(weights), 1)))
    c, _ = full(t, slice(None))
    return safe_solve(c[:, :p, :p], c[:, :p, p:])[..., 0]
