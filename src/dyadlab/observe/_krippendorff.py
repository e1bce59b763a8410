"""Krippendorff's α for nominal, ordinal, interval and ratio data, missing values allowed.

From the per-unit value counts ``n[u, c]`` the coincidence matrix is
``o = Σ_u (n_u n_uᵀ − diag n_u) / (m_u − 1)`` over units with ``m_u ≥ 2`` values, and

.. math:: \\alpha = 1 - (n_{\\cdot\\cdot} - 1) \\frac{\\sum_{ck} o_{ck} \\delta^2_{ck}}
          {\\sum_{ck} n_c n_k \\delta^2_{ck}}

with the difference function δ² of the level of measurement (Krippendorff 2011,
"Computing Krippendorff's alpha-reliability"). The standard error is a jackknife over
units, all leave-one-out values computed at once from per-unit terms.

Examples
--------
>>> import numpy as np
>>> counts = np.array([[2, 0], [0, 2], [1, 1], [2, 0]])
>>> round(krippendorff_alpha(counts, np.array([0.0, 1.0]), "nominal")[0], 4)
0.5333
"""

from __future__ import annotations

import numpy as np

from dyadlab.observe._kappa import jackknife_se

__all__ = [
    "alpha_replicates",
    "difference_matrix",
    "krippendorff_alpha",
    "krippendorff_bootstrap",
]


def difference_matrix(values: np.ndarray, marginals: np.ndarray, level: str) -> np.ndarray:
    """δ²[c, k] for the level of measurement (``marginals`` = n_c, used by ordinal)."""
    v = np.asarray(values, dtype=float)
    if level == "nominal":
        return 1.0 - np.eye(len(v))
    if level == "interval":
        return np.asarray((v[:, None] - v[None, :]) ** 2)
    if level == "ratio":
        s = v[:, None] + v[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(s == 0, 0.0, ((v[:, None] - v[None, :]) / s) ** 2)
        return d
    # ordinal: (Σ_{g between c and k} n_g − (n_c + n_k)/2)², categories in their order
    cum = np.concatenate([[0.0], np.cumsum(marginals)])
    lo = np.minimum.outer(np.arange(len(v)), np.arange(len(v)))
    hi = np.maximum.outer(np.arange(len(v)), np.arange(len(v)))
    between = cum[hi + 1] - cum[lo]
    return np.asarray((between - (marginals[:, None] + marginals[None, :]) / 2.0) ** 2)


def _alpha(o_delta: np.ndarray, nc: np.ndarray, delta: np.ndarray) -> np.ndarray:
    n = nc.sum(axis=-1)
    de = np.einsum("...c,...ck,...k->...", nc, delta, nc)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(1.0 - (n - 1.0) * o_delta / de)


def krippendorff_alpha(counts: np.ndarray, values: np.ndarray, level: str) -> tuple[float, float]:
    """α and its jackknife standard error from ``counts[u, c]`` and the category values."""
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    counts, m = counts[m >= 2], m[m >= 2]
    weight = 1.0 / (m - 1.0)
    nc = counts.sum(axis=0)  # n_c = Σ_k o_ck: every pairable value counts once
    delta = difference_matrix(values, nc, level)
    # Σ_ck o_u[c,k] δ²_ck = n_uᵀ δ² n_u / (m_u − 1), as δ²_cc = 0
    od_u = np.einsum("uc,ck,uk->u", counts, delta, counts) * weight
    full = float(_alpha(np.array(od_u.sum()), nc, delta))
    nc_loo = nc[None, :] - counts
    k = len(nc)
    if level == "ordinal" and counts.shape[0] * k * k <= 20_000_000:
        # ordinal δ² depends on the marginals, so each leave-one-out α has its own δ²
        cum = np.concatenate([np.zeros((len(nc_loo), 1)), np.cumsum(nc_loo, axis=1)], axis=1)
        idx = np.arange(k)
        lo, hi = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
        between = cum[:, hi + 1] - cum[:, lo]
        deltas = (between - (nc_loo[:, :, None] + nc_loo[:, None, :]) / 2.0) ** 2
        o = np.einsum("uc,uk,u->ck", counts, counts, weight) - np.diag(counts.T @ weight)
        own = np.einsum("vc,vck,vk->v", counts, deltas, counts) * weight
        loo = _alpha(np.einsum("ck,vck->v", o, deltas) - own, nc_loo, deltas)
    else:
        loo = _alpha(od_u.sum() - od_u, nc_loo, delta)
    return full, jackknife_se(full, loo)


def alpha_replicates(
    patterns: np.ndarray, weights: np.ndarray, values: np.ndarray, level: str
) -> np.ndarray:
    """α of data sets made of ``weights[b, p]`` copies of unit pattern ``patterns[p]``.

    ``patterns[p, c]`` are a unit's value counts (each with at least 2 values); one row
    of ``weights`` is one data set, so a bootstrap over units is a multinomial draw of
    pattern frequencies — exactly the same as resampling the units themselves.
    """
    patterns = np.asarray(patterns, dtype=float)
    w = np.asarray(weights, dtype=float)
    m = patterns.sum(axis=1)
    nc = w @ patterns  # (B, K)
    k = patterns.shape[1]
    if level == "ordinal":
        cum = np.concatenate([np.zeros((len(nc), 1)), np.cumsum(nc, axis=1)], axis=1)
        idx = np.arange(k)
        lo, hi = np.minimum.outer(idx, idx), np.maximum.outer(idx, idx)
        between = cum[:, hi + 1] - cum[:, lo]
        deltas = (between - (nc[:, :, None] + nc[:, None, :]) / 2.0) ** 2
        od = np.einsum("pc,bck,pk,p,bp->b", patterns, deltas, patterns, 1.0 / (m - 1.0), w)
        return _alpha(od, nc, deltas)
    delta = difference_matrix(values, patterns.sum(axis=0), level)
    od_p = np.einsum("pc,ck,pk->p", patterns, delta, patterns) / (m - 1.0)
    return _alpha(w @ od_p, nc, np.broadcast_to(delta, (len(nc), k, k)))


def krippendorff_bootstrap(
    counts: np.ndarray,
    values: np.ndarray,
    level: str,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """α of ``n_boot`` bootstrap resamples of the units (Efron's nonparametric bootstrap).

    Units with fewer than 2 values add no pairs and are left out first; the rest are
    resampled with replacement, as many as there are, through their distinct patterns.
    """
    counts = np.asarray(counts)
    counts = counts[counts.sum(axis=1) >= 2]
    patterns, freq = np.unique(counts, axis=0, return_counts=True)
    draws = rng.multinomial(int(freq.sum()), freq / freq.sum(), size=n_boot)
    return alpha_replicates(patterns, draws, values, level)
