"""The statistics behind :func:`dyadlab.nonindependence`, on plain arrays.

Every function here takes dyad-wide arrays (one row per dyad, column 0 and 1 the two
members) of complete dyads and returns plain numbers; validation, missing values and
the result table live in :mod:`dyadlab.models.nonindependence`.

Formulas follow Kenny, Kashy & Cook (2006, ch. 2 and 6) and Griffin & Gonzalez (1995);
``tests/reference/nonindependence.R`` computes the same quantities in R.

Examples
--------
>>> import numpy as np
>>> x = np.array([[1.0, 2.0], [2.0, 2.5], [3.0, 3.5], [4.0, 3.0]])
>>> round(icc_anova(x, None).estimate, 4)
0.6907
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from dyadlab.models._numerics import normal_loglik

__all__ = [
    "CorrelationStat",
    "DistinguishabilityStat",
    "IccStat",
    "distinguishability_test",
    "icc_anova",
    "pairwise_r",
    "partner_pearson",
]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class CorrelationStat:
    """A correlation with its test: ``statistic`` is t (``df`` set) or z (``df`` None)."""

    estimate: float
    se: float
    statistic: float
    df: float | None
    p: float
    ci_low: float
    ci_high: float
    n: int
    k: int


@dataclass(frozen=True)
class IccStat:
    """The ANOVA intraclass correlation with its F test (Kenny et al. 2006, ch. 2)."""

    estimate: float
    statistic: float
    df1: float
    df2: float
    p: float
    ci_low: float
    ci_high: float
    ms_between: float
    ms_within: float
    ss_between: float
    ss_within: float
    n: int
    k_between: int
    k_within: int


@dataclass(frozen=True)
class DistinguishabilityStat:
    """The likelihood-ratio test of the saturated against the I-SAT model."""

    statistic: float
    df: int
    p: float
    n: int
    loglik_saturated: float
    loglik_indistinguishable: float


def _fisher_ci(r: float, se_z: float, level: float) -> tuple[float, float]:
    if not math.isfinite(se_z) or abs(r) >= 1:
        return (math.nan, math.nan)
    crit = float(stats.norm.ppf(0.5 + level / 2))
    z = math.atanh(r)
    return (math.tanh(z - crit * se_z), math.tanh(z + crit * se_z))


def _residuals(y: Array, design: Array | None, *, intercept: bool) -> tuple[Array, int]:
    """OLS residuals of ``y`` on ``design`` (plus an intercept); return them and the rank.

    The rank counts the design's columns only (not the intercept), like ``lm()$rank - 1``.
    Residuals within rounding of zero are set to zero.
    """
    cols = []
    if intercept:
        cols.append(np.ones(len(y)))
    if design is not None and design.shape[1]:
        cols.extend(design.T)
    if not cols:
        return y.copy(), 0
    x = np.column_stack(cols)
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    if float(np.sum(resid * resid)) <= 1e-24 * float(np.sum(y * y)):
        resid = np.zeros_like(y)
    return resid, int(rank) - (1 if intercept else 0)


def partner_pearson(x: Array, covariates: Array | None, *, level: float) -> CorrelationStat:
    """Pearson (or partial) correlation of the two roles' values.

    Parameters
    ----------
    x : ndarray of shape (n, 2)
        Column 0 the first role's value, column 1 the second's, complete dyads only.
    covariates : ndarray of shape (n, m) or None
        Covariates of both partners (a dyad-level covariate once). Both columns of
        ``x`` are residualised on them; ``k`` is the rank of the covariate block.
    level : float
        Confidence level of the Fisher-z interval.

    Returns
    -------
    CorrelationStat
        ``t = r sqrt(df / (1 - r^2))`` on ``df = n - 2 - k``; CI
        ``tanh(atanh(r) -/+ z / sqrt(n - 3 - k))`` — R's ``cor.test()`` when ``k = 0``.
    """
    n = x.shape[0]
    e1, k = _residuals(x[:, 0], covariates, intercept=True)
    e2, _ = _residuals(x[:, 1], covariates, intercept=True)
    denominator = math.sqrt(float(np.sum(e1 * e1) * np.sum(e2 * e2)))
    r = float(np.sum(e1 * e2)) / denominator if denominator > 0 else math.nan
    df = n - 2 - k
    if math.isnan(r):
        se, stat, p = math.nan, math.nan, math.nan
    elif abs(r) < 1:
        se = math.sqrt((1 - r * r) / df)
        stat = r / se
        p = float(2 * stats.t.sf(abs(stat), df))
    else:
        se, stat, p = 0.0, math.copysign(math.inf, r), 0.0
    se_z = 1 / math.sqrt(n - 3 - k) if n - 3 - k > 0 else math.nan
    lo, hi = _fisher_ci(r, se_z, level)
    return CorrelationStat(r, se, stat, float(df), p, lo, hi, n, k)


def _strata(x: Array, covariates: Array | None) -> tuple[float, float, int, int]:
    """Between- and within-dyad sums of squares (of residuals when covariates are given).

    ``covariates`` has shape (n, 2, m): both members' values of m covariates. The
    between stratum regresses the dyad means on the covariates' dyad means (with an
    intercept); the within stratum regresses the differences on the covariates'
    differences (no intercept). Returns ``SS_B, SS_W, k_b, k_w``.
    """
    m = x.mean(axis=1)
    d = x[:, 0] - x[:, 1]
    if covariates is None or covariates.shape[2] == 0:
        return 2 * float(np.sum((m - x.mean()) ** 2)), float(np.sum(d * d)) / 2, 0, 0
    zb = covariates.mean(axis=1)
    zd = covariates[:, 0, :] - covariates[:, 1, :]
    zd = zd[:, np.any(zd != 0, axis=0)]
    eb, kb = _residuals(m, zb, intercept=True)
    ew, kw = _residuals(d, zd, intercept=False)
    return 2 * float(np.sum(eb * eb)), float(np.sum(ew * ew)) / 2, kb, kw


def icc_anova(x: Array, covariates: Array | None, *, level: float = 0.95) -> IccStat:
    """The ANOVA intraclass correlation of Kenny, Kashy & Cook (2006, ch. 2).

    ``MS_B = SS_B / (n - 1 - k_b)``, ``MS_W = SS_W / (n - k_w)``,
    ``ICC = (MS_B - MS_W) / (MS_B + MS_W)``. F is ``MS_B / MS_W`` on (n - 1 - k_b,
    n - k_w) df when the ICC is positive, else ``MS_W / MS_B`` on the reversed df; the
    p value is two-tailed (twice the upper tail, at most 1). The CI inverts the F
    distribution: ``F_L = F0 / F_crit(df1, df2)``, ``F_U = F0 F_crit(df2, df1)``,
    limits ``(F - 1) / (F + 1)``. Equals the rho of ``nlme::gls(y ~ covariates,
    correlation = corCompSymm(form = ~1 | dyad), method = "REML")``.
    """
    n = x.shape[0]
    ssb, ssw, kb, kw = _strata(x, covariates)
    df1, df2 = n - 1 - kb, n - kw
    msb, msw = ssb / df1, ssw / df2
    if not (msb > 0 and msw > 0):
        nan = math.nan
        return IccStat(nan, nan, df1, df2, nan, nan, nan, msb, msw, ssb, ssw, n, kb, kw)
    icc = (msb - msw) / (msb + msw)
    if icc >= 0:
        f, fd1, fd2 = msb / msw, df1, df2
    else:
        f, fd1, fd2 = msw / msb, df2, df1
    p = min(1.0, float(2 * stats.f.sf(f, fd1, fd2)))
    f0 = msb / msw
    q = 0.5 + level / 2
    fl = f0 / float(stats.f.ppf(q, df1, df2))
    fu = f0 * float(stats.f.ppf(q, df2, df1))
    return IccStat(
        estimate=float(icc),
        statistic=float(f),
        df1=float(fd1),
        df2=float(fd2),
        p=p,
        ci_low=(fl - 1) / (fl + 1),
        ci_high=(fu - 1) / (fu + 1),
        ms_between=msb,
        ms_within=msw,
        ss_between=ssb,
        ss_within=ssw,
        n=n,
        k_between=kb,
        k_within=kw,
    )


def pairwise_r(x: Array, covariates: Array | None, *, level: float = 0.95) -> CorrelationStat:
    """The pairwise (double-entry) intraclass correlation of Griffin & Gonzalez (1995).

    ``r_p = (SS_B - SS_W) / (SS_B + SS_W)``: the Pearson correlation of the
    double-entry data (each dyad entered twice, the members swapped) — of the stratum
    residuals when covariates are given. Tested by ``Z = r_p sqrt(n)`` (n dyads), CI
    ``tanh(atanh(r_p) -/+ z / sqrt(n))``. Equals the rho of the ``method = "ML"`` fit of
    the gls model in :func:`icc_anova`.
    """
    n = x.shape[0]
    ssb, ssw, kb, kw = _strata(x, covariates)
    r = (ssb - ssw) / (ssb + ssw) if ssb > 0 and ssw > 0 else math.nan
    se = 1 / math.sqrt(n)
    stat = r / se
    p = float(2 * stats.norm.sf(abs(stat)))
    lo, hi = _fisher_ci(r, se, level)
    return CorrelationStat(float(r), se, float(stat), None, p, lo, hi, n, kb + kw)


def distinguishability_test(w: Array) -> DistinguishabilityStat:
    """Omnibus test of distinguishability (Kenny et al. 2006, ch. 6).

    Parameters
    ----------
    w : ndarray of shape (n, 2p)
        Complete dyads; columns ``0..p-1`` the first role's p variables, ``p..2p-1`` the
        second role's, in the same order.

    Notes
    -----
    The saturated model has free means and covariances: ML estimates are the sample
    mean and the covariance with divisor n. The indistinguishable (I-SAT) model
    constrains means, variances, within-person covariances and the cross-partner
    covariances ``cov(X_i1, X_j2) = cov(X_j1, X_i2)`` to be equal across roles, i.e.
    the distribution is invariant under swapping the partners. For such a
    permutation-invariant Gaussian model the ML estimates are the mean and the
    divisor-2n covariance of the double-entry data (every dyad once as is and once
    with the partners swapped), because the likelihood of an invariant model depends on
    the data only through their swap-averaged moments. The likelihood-ratio statistic
    ``2 (l_SAT - l_ISAT)`` has ``p (p + 1)`` df, as in ``lavaan::anova()`` of the two
    models fit with ``estimator = "ML"``.
    """
    n, q = w.shape
    p = q // 2
    swap = np.concatenate([np.arange(p, q), np.arange(p)])
    mean_s = w.mean(axis=0)
    cov_s = (w - mean_s).T @ (w - mean_s) / n
    both = np.vstack([w, w[:, swap]])
    mean_i = both.mean(axis=0)
    cov_i = (both - mean_i).T @ (both - mean_i) / (2 * n)
    ll_s = normal_loglik(w - mean_s, cov_s)
    ll_i = normal_loglik(w - mean_i, cov_i)
    stat = float(max(0.0, 2 * (ll_s - ll_i)))
    df = p * (p + 1)
    return DistinguishabilityStat(
        statistic=stat,
        df=df,
        p=float(stats.chi2.sf(stat, df)),
        n=n,
        loglik_saturated=float(ll_s),
        loglik_indistinguishable=float(ll_i),
    )
