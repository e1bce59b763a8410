"""Chance-corrected agreement on nominal (or ordered) codes: Cohen, Fleiss, Gwet.

All functions take integer category codes (0..K-1, -1 for no rating) and return the
coefficient with its standard error:

* Cohen's κ (two coders), optionally weighted (linear or quadratic weights), with the
  large-sample variance of Fleiss, Cohen & Everitt (1969) — the unweighted variance is
  the one ``psych::cohen.kappa`` reports;
* Fleiss' κ (any fixed number of coders per unit; Fleiss 1971);
* Gwet's AC1 (Gwet 2008; any number of coders, units may lack some ratings).

Fleiss' κ and Gwet's AC1 get a jackknife standard error over units, computed for all
units at once from the per-unit category counts (no loop over units).

Examples
--------
>>> import numpy as np
>>> table = np.array([[20, 5], [10, 15]])
>>> k, se = cohen_kappa(table)
>>> round(k, 4)
0.4
"""

from __future__ import annotations

import numpy as np

__all__ = ["agreement_weights", "cohen_kappa", "fleiss_kappa", "gwet_ac1", "jackknife_se"]


def agreement_weights(k: int, kind: str) -> np.ndarray:
    """Agreement weights ``w[i, j]`` (1 on the diagonal): identity, linear or quadratic."""
    i, j = np.indices((k, k))
    if kind == "none" or k < 2:
        return np.asarray((i == j).astype(float))
    d = np.abs(i - j) / (k - 1)
    return np.asarray(1.0 - (d if kind == "linear" else d**2))


def cohen_kappa(table: np.ndarray, weights: np.ndarray | None = None) -> tuple[float, float]:
    """Cohen's (weighted) κ and its standard error from a K × K table of counts.

    The variance is that of Fleiss, Cohen & Everitt (1969, eq. 13)::

        var = [Σ p_ij (w_ij − (w̄_i· + w̄_·j)(1 − κ))² − (κ − p_c(1 − κ))²] / (n (1 − p_c)²)

    with ``w̄_i· = Σ_j w_ij p_·j`` and ``w̄_·j = Σ_i w_ij p_i·``.
    """
    x = np.asarray(table, dtype=float)
    n = x.sum()
    k = x.shape[0]
    w = np.eye(k) if weights is None else np.asarray(weights, dtype=float)
    p = x / n
    r, c = p.sum(axis=1), p.sum(axis=0)
    po = float((w * p).sum())
    pc = float((w * np.outer(r, c)).sum())
    if pc >= 1.0:
        return float("nan"), float("nan")
    kappa = (po - pc) / (1.0 - pc)
    wi = w @ c
    wj = r @ w
    inner = (p * (w - (wi[:, None] + wj[None, :]) * (1.0 - kappa)) ** 2).sum()
    var = (inner - (kappa - pc * (1.0 - kappa)) ** 2) / (n * (1.0 - pc) ** 2)
    return float(kappa), float(np.sqrt(max(var, 0.0)))


def jackknife_se(full: float, loo: np.ndarray) -> float:
    """Jackknife standard error from the leave-one-unit-out estimates."""
    loo = loo[np.isfinite(loo)]
    m = len(loo)
    if m < 2 or not np.isfinite(full):
        return float("nan")
    return float(np.sqrt((m - 1) / m * ((loo - loo.mean()) ** 2).sum()))


def _fleiss_from(pu_sum: np.ndarray, n_units: np.ndarray, cat: np.ndarray, m: int) -> np.ndarray:
    # a leave-one-out set of a single unit is empty: NaN, left out by the jackknife
    with np.errstate(divide="ignore", invalid="ignore"):
        pbar = pu_sum / n_units
        pk = cat / (n_units[:, None] * m)
        pe = (pk**2).sum(axis=1)
        return np.asarray((pbar - pe) / (1.0 - pe))


def fleiss_kappa(counts: np.ndarray) -> tuple[float, float]:
    """Fleiss' κ from ``counts[u, k]`` (every unit rated by the same number of coders)."""
    counts = np.asarray(counts, dtype=float)
    n = counts.shape[0]
    m = int(counts[0].sum())
    pu = ((counts**2).sum(axis=1) - m) / (m * (m - 1))
    cat = counts.sum(axis=0)
    full = _fleiss_from(np.array([pu.sum()]), np.array([float(n)]), cat[None, :], m)[0]
    loo = _fleiss_from(pu.sum() - pu, np.full(n, n - 1.0), cat[None, :] - counts, m)
    return float(full), jackknife_se(float(full), loo)


def _ac1_from(
    pa_sum: np.ndarray, n_pairable: np.ndarray, pi_sum: np.ndarray, n_rated: np.ndarray
) -> np.ndarray:
    k = pi_sum.shape[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = pa_sum / n_pairable
        pi = pi_sum / n_rated[:, None]
        pe = (pi * (1.0 - pi)).sum(axis=1) / (k - 1)
        return np.asarray((pa - pe) / (1.0 - pe))


def gwet_ac1(counts: np.ndarray) -> tuple[float, float]:
    """Gwet's AC1 from ``counts[u, k]``; units may have different numbers of ratings.

    ``p_a`` averages the agreement of units with two or more ratings, the category
    propensities ``π_k`` average over units with at least one (Gwet 2014, ch. 4).
    """
    counts = np.asarray(counts, dtype=float)
    r = counts.sum(axis=1)
    rated = r >= 1
    pairable = r >= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        pa_u = np.where(pairable, (counts * (counts - 1)).sum(axis=1) / (r * (r - 1)), 0.0)
        pi_u = np.where(rated[:, None], counts / r[:, None], 0.0)
    pa_s, n_p = pa_u.sum(), float(pairable.sum())
    pi_s, n_r = pi_u.sum(axis=0), float(rated.sum())
    full = _ac1_from(np.array([pa_s]), np.array([n_p]), pi_s[None, :], np.array([n_r]))[0]
    loo = _ac1_from(pa_s - pa_u, n_p - pairable, pi_s[None, :] - pi_u, n_r - rated)
    return float(full), jackknife_se(float(full), loo[rated])
