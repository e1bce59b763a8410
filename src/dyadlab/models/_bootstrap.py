"""Bootstrap over dyads: resample weights, batched refits, percentile and BCa intervals.

A bootstrap resample of dyads is a vector of multinomial counts, one per dyad. Models
that accept frequency weights are refitted on those counts, so the bootstrap never
copies data. For the saturated distinguishable APIM with complete data the ML
estimates are least squares per outcome, and all resamples are solved at once from the
per-dyad cross-product matrices (a batched normal-equations solve).

Examples
--------
>>> import numpy as np
>>> w = resample_weights(5, 3, np.random.default_rng(0))
>>> w.shape, bool((w.sum(axis=1) == 5).all())
((3, 5), True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from dyadlab.models._chunked import run_chunks, split, streams

__all__ = [
    "batched_ols",
    "bca_interval",
    "jackknife_weights",
    "percentile_interval",
    "replicates",
    "resample_weights",
    "safe_solve",
]

Array = NDArray[np.float64]

#: resamples per chunk: fixed, so that chunk ``j`` always draws from stream ``j``
CHUNK = 1000


def resample_weights(n: int, n_boot: int, rng: np.random.Generator) -> Array:
    """Multinomial counts (n_boot, n): how often each dyad is drawn in each resample.

    Draws n dyad indices with replacement per resample and counts them (one bincount
    over all resamples, faster than ``Generator.multinomial``).
    """
    draws = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    return np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


def jackknife_weights(n: int) -> Array:
    """Leave-one-dyad-out weights (n, n)."""
    return 1.0 - np.eye(n)


def batched_ols(x: Array, y: Array, weights: Array) -> Array:
    """Weighted least squares for many weight vectors at once.

    Parameters
    ----------
    x : ndarray (n, q)
        Design matrix, one row per dyad.
    y : ndarray (n, k)
        Outcomes sharing that design.
    weights : ndarray (b, n)
        One weight vector per fit.

    Returns
    -------
    ndarray (b, q, k)
        Coefficients of every fit (NaN where the design is singular).
    """
    n, q = x.shape
    xx = np.einsum("ni,nj->nij", x, x).reshape(n, q * q)
    xy = np.einsum("ni,nk->nik", x, y).reshape(n, q * y.shape[1])
    a = (weights @ xx).reshape(-1, q, q)
    b = (weights @ xy).reshape(-1, q, y.shape[1])
    out: Array = np.full_like(b, np.nan)
    scale = np.sqrt(np.einsum("bii->bi", a)).prod(axis=1) ** 2
    ok = np.abs(np.linalg.det(a)) > 1e-10 * np.where(scale > 0, scale, 1.0)
    out[ok] = np.linalg.solve(a[ok], b[ok])
    return out


def safe_solve(a: Array, b: Array) -> Array:
    """``np.linalg.solve`` over a batch (b, q, q) with NaN where a matrix is singular.

    A resample of few dyads can have a singular design; that resample gets NaN (left
    out of the intervals) instead of failing the whole bootstrap.
    """
    try:
        return np.asarray(np.linalg.solve(a, b), dtype=float)
    except np.linalg.LinAlgError:
        out: Array = np.full(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:], np.nan)
        for i in range(len(a)):
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = np.linalg.solve(a[i], b[i])
        return out


def percentile_interval(boot: Array, level: float) -> tuple[Array, Array]:
    """Percentile interval per column of ``boot`` (b, k), NaN resamples ignored."""
    alpha = (1 - level) / 2
    lo = np.full(boot.shape[1], np.nan)
    hi = np.full(boot.shape[1], np.nan)
    for j in range(boot.shape[1]):
        b = boot[:, j][np.isfinite(boot[:, j])]
        if b.size:
            lo[j], hi[j] = np.quantile(b, alpha), np.quantile(b, 1 - alpha)
    return lo, hi


def bca_interval(boot: Array, estimate: Array, jack: Array, level: float) -> tuple[Array, Array]:
    """Bias-corrected and accelerated interval (Efron 1987) per column.

    Parameters
    ----------
    boot : ndarray (b, k)
        Bootstrap replicates.
    estimate : ndarray (k,)
        The estimate on the full data.
    jack : ndarray (n, k)
        Leave-one-dyad-out estimates, for the acceleration.
    """
    alpha = (1 - level) / 2
    lo = np.full(boot.shape[1], np.nan)
    hi = np.full(boot.shape[1], np.nan)
    for j in range(boot.shape[1]):
        b = boot[:, j]
        b = b[np.isfinite(b)]
        if b.size < 10 or not np.isfinite(estimate[j]):
            continue
        prop = (np.sum(b < estimate[j]) + 0.5 * np.sum(b == estimate[j])) / b.size
        prop = min(max(prop, 1.0 / (b.size + 1)), 1 - 1.0 / (b.size + 1))
        z0 = stats.norm.ppf(prop)
        jk = jack[:, j]
        jk = jk[np.isfinite(jk)]
        d = jk.mean() - jk if jk.size else jk
        denom = 6.0 * (np.sum(d**2) ** 1.5)
        acc = float(np.sum(d**3) / denom) if denom > 0 else 0.0
        qs = []
        for z in (stats.norm.ppf(alpha), stats.norm.ppf(1 - alpha)):
            qs.append(stats.norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z))))
        lo[j], hi[j] = np.quantile(b, qs[0]), np.quantile(b, qs[1])
    return lo, hi


def bootstrap_loop(
    stat: Callable[[Array], Array], n: int, n_boot: int, rng: np.random.Generator
) -> Array:
    """Replicates of ``stat(weights)`` for resampled dyad weights (a refit per resample)."""
    w = resample_weights(n, n_boot, rng)
    return np.array([stat(wi) for wi in w])


def refit_chunk(refit: Callable[[Array], Array], n: int, size: int, seed: Any) -> Array:
    """``refit`` on ``size`` resampled weight vectors drawn from ``seed`` (one chunk)."""
    w = resample_weights(n, size, np.random.default_rng(seed))
    with np.errstate(all="ignore"):
        return np.asarray(refit(w), dtype=float)


def replicates(
    refit: Callable[[Array], Array],
    n: int,
    n_boot: int,
    rng: int | np.random.Generator | None,
    *,
    client: Any = None,
    progress: bool | None = None,
    func: str = "bootstrap",
) -> Array:
    """``refit(weights)`` for ``n_boot`` resamples of ``n`` dyads, in seeded chunks.

    Chunk ``j`` of :data:`CHUNK` resamples draws its weights from ``rng`` jumped ``j``
    times (:func:`dyadlab.models._chunked.streams`), so the replicates are the same
    here and on a Dask ``client``, and the first chunk equals
    ``refit(resample_weights(n, CHUNK, rng))``.

    Parameters
    ----------
    refit : callable
        Weights (b, n) to estimates (b, p); picklable (cloudpickle) for Dask.
    n, n_boot : int
        Dyads, resamples.
    rng : int, Generator or None
        Seed.
    client : dask.distributed.Client, optional
        Run the chunks on this cluster.
    progress : bool, optional
        Progress bar (None: only when stderr is a terminal).

    Examples
    --------
    >>> import numpy as np
    >>> def mean_of_first(w):
    ...     return (w[:, :1] * 1.0) / w.sum(axis=1, keepdims=True)
    >>> replicates(mean_of_first, 5, 3, 1).shape
    (3, 1)
    """
    sizes = split(n_boot, CHUNK)
    seeds = streams(rng, len(sizes), func=func)
    parts = run_chunks(
        refit_chunk,
        [(refit, n, size) for size in sizes],
        seeds,
        client=client,
        progress=progress,
        label=func,
    )
    return np.concatenate(parts, axis=0)
