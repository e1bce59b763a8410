"""The APIM mediation model (APIMeM) on arrays: estimates, delta-method SEs, bootstrap.

For distinguishable dyads with members 1 and 2 the model is (Ledermann, Macho & Kenny
2011), for k = 1, 2 and l the other member,

    M_k = i_k + a_actor_k X_k + a_partner_k X_l + u_k
    Y_k = j_k + b_actor_k M_k + b_partner_k M_l + c_actor_k X_k + c_partner_k X_l + v_k

with cov(u_1, u_2) and cov(v_1, v_2) free, u and v uncorrelated. With complete data the
model is saturated, so the ML estimates are least squares per equation, the residual
(co)variances are the residual cross-products over N, and — with fixed exogenous X as
in lavaan — the expected information gives, blockwise,

    Cov(M paths) = Σ_u ⊗ (Xc'Xc)⁻¹,   Cov(Y paths) = Σ_v ⊗ (Zc'Zc)⁻¹,

where Xc = centred (X_1, X_2), Zc = centred (M_1, M_2, X_1, X_2), and the two blocks are
independent. This equals ``lavaan::sem(..., estimator = "ML", se = "standard")``.
Indirect effects are products of paths; their SEs come from the delta method, as for
lavaan's defined parameters (``:=``).

For indistinguishable dyads the paths, the intercepts and the residual variances are
equal for both members (exchangeable members; X fixed). In the orthonormal sum and
difference coordinates ``S = (V1 + V2)/√2`` and ``D = (V1 - V2)/√2`` that model splits
exactly into two independent recursive models: the S model with intercepts and slopes
(actor + partner), the D model without intercepts and with slopes (actor - partner),
each equation fitted by least squares with ML residual variances. This equals lavaan
with equality labels on paths, intercepts and residual variances.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dyadlab.models._chunked import run_chunks, split, streams
from dyadlab.models._numerics import saturated_loglik

__all__ = [
    "EFFECTS",
    "PATHS",
    "POOLED_PATHS",
    "MediationFit",
    "bootstrap_effects",
    "effects",
    "fit",
    "fit_pooled",
]

# the 12 path coefficients, in this order: (name, member k, outcome block)
PATHS: tuple[tuple[str, int], ...] = (
    ("a_actor", 0),
    ("a_partner", 0),
    ("a_actor", 1),
    ("a_partner", 1),
    ("b_actor", 0),
    ("b_partner", 0),
    ("direct_actor", 0),
    ("direct_partner", 0),
    ("b_actor", 1),
    ("b_partner", 1),
    ("direct_actor", 1),
    ("direct_partner", 1),
)
_INDEX = {key: i for i, key in enumerate(PATHS)}


def _p(name: str, k: int) -> int:
    return _INDEX[(name, k)]


def _terms(effect: str, k: int) -> list[tuple[int, int | None]]:
    """Effect of member k's outcome: a sum of path products (i, j) or single paths (i, None)."""
    l = 1 - k  # noqa: E741 — the partner, as in the equations
    aa = (_p("a_actor", k), _p("b_actor", k))  # X_k -> M_k -> Y_k
    pp = (_p("a_partner", l), _p("b_partner", k))  # X_k -> M_l -> Y_k
    ap = (_p("a_actor", l), _p("b_partner", k))  # X_l -> M_l -> Y_k
    pa = (_p("a_partner", k), _p("b_actor", k))  # X_l -> M_k -> Y_k
    table: dict[str, list[tuple[int, int | None]]] = {
        "indirect_actor_actor": [aa],
        "indirect_partner_partner": [pp],
        "indirect_actor_partner": [ap],
        "indirect_partner_actor": [pa],
        "total_indirect_actor": [aa, pp],
        "total_indirect_partner": [ap, pa],
        "total_actor": [(_p("direct_actor", k), None), aa, pp],
        "total_partner": [(_p("direct_partner", k), None), ap, pa],
    }
    return table[effect]


#: the 6 paths of the model for indistinguishable dyads, in this order
POOLED_PATHS: tuple[str, ...] = (
    "a_actor",
    "a_partner",
    "b_actor",
    "b_partner",
    "direct_actor",
    "direct_partner",
)


def _pooled_terms(effect: str) -> list[tuple[int, int | None]]:
    """As :func:`_terms` for the pooled (indistinguishable) paths."""
    aa, pp, ap, pa = (0, 2), (1, 3), (0, 3), (1, 2)
    table: dict[str, list[tuple[int, int | None]]] = {
        "indirect_actor_actor": [aa],
        "indirect_partner_partner": [pp],
        "indirect_actor_partner": [ap],
        "indirect_partner_actor": [pa],
        "total_indirect_actor": [aa, pp],
        "total_indirect_partner": [ap, pa],
        "total_actor": [(4, None), aa, pp],
        "total_partner": [(5, None), ap, pa],
    }
    return table[effect]


def _all_terms(pooled: bool) -> list[list[tuple[int, int | None]]]:
    if pooled:
        return [_pooled_terms(e) for e in EFFECTS]
    return [_terms(e, k) for e in EFFECTS for k in (0, 1)]


#: the defined (derived) effects, each reported for both members' outcomes
EFFECTS: tuple[str, ...] = (
    "indirect_actor_actor",
    "indirect_partner_partner",
    "indirect_actor_partner",
    "indirect_partner_actor",
    "total_indirect_actor",
    "total_indirect_partner",
    "total_actor",
    "total_partner",
)


@dataclass(frozen=True)
class MediationFit:
    """Path estimates, their covariance matrix and the residual covariances."""

    paths: np.ndarray  # (12,) in PATHS order
    vcov: np.ndarray  # (12, 12)
    sigma_m: np.ndarray  # (2, 2) residual covariance of the mediators (ML, over N)
    sigma_y: np.ndarray  # (2, 2) residual covariance of the outcomes (ML, over N)
    loglik: float
    n: int
    pooled: bool = False


def _ols_block(
    design: np.ndarray, outcomes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred least squares of each column of ``outcomes`` on ``design`` (batched).

    ``design`` (..., n, q) and ``outcomes`` (..., n, 2). Returns the coefficients
    (..., q, 2), the ML residual covariance (..., 2, 2) and inv(Xc'Xc) (..., q, q).
    """
    xc = design - design.mean(axis=-2, keepdims=True)
    yc = outcomes - outcomes.mean(axis=-2, keepdims=True)
    sxx = np.swapaxes(xc, -1, -2) @ xc
    sxy = np.swapaxes(xc, -1, -2) @ yc
    coef = np.linalg.solve(sxx, sxy)
    resid = yc - xc @ coef
    n = design.shape[-2]
    sigma = (np.swapaxes(resid, -1, -2) @ resid) / n
    return coef, sigma, np.linalg.inv(sxx)


def _paths_from(coef_m: np.ndarray, coef_y: np.ndarray) -> np.ndarray:
    """Arrange block coefficients (regressors X1, X2 | M1, M2, X1, X2) into PATHS order."""
    # member 1 (k = 0): own X is X1 (row 0); member 2: own X is X2 (row 1)
    return np.stack(
        [
            coef_m[..., 0, 0],  # a_actor 1: X1 -> M1
            coef_m[..., 1, 0],  # a_partner 1: X2 -> M1
            coef_m[..., 1, 1],  # a_actor 2: X2 -> M2
            coef_m[..., 0, 1],  # a_partner 2: X1 -> M2
            coef_y[..., 0, 0],  # b_actor 1: M1 -> Y1
            coef_y[..., 1, 0],  # b_partner 1: M2 -> Y1
            coef_y[..., 2, 0],  # direct_actor 1: X1 -> Y1
            coef_y[..., 3, 0],  # direct_partner 1: X2 -> Y1
            coef_y[..., 1, 1],  # b_actor 2: M2 -> Y2
            coef_y[..., 0, 1],  # b_partner 2: M1 -> Y2
            coef_y[..., 3, 1],  # direct_actor 2: X2 -> Y2
            coef_y[..., 2, 1],  # direct_partner 2: X1 -> Y2
        ],
        axis=-1,
    )


# (path index) -> (block, regressor row, equation column)
_M_LAYOUT = {0: (0, 0), 1: (1, 0), 2: (1, 1), 3: (0, 1)}
_Y_LAYOUT = {
    4: (0, 0),
    5: (1, 0),
    6: (2, 0),
    7: (3, 0),
    8: (1, 1),
    9: (0, 1),
    10: (3, 1),
    11: (2, 1),
}


def fit(x: np.ndarray, m: np.ndarray, y: np.ndarray) -> MediationFit:
    """Fit the APIMeM to complete data of ``n`` dyads.

    Parameters
    ----------
    x, m, y : ndarray of shape (n, 2)
        Predictor, mediator and outcome of member 1 (column 0) and member 2.
    """
    n = x.shape[0]
    z = np.column_stack([m, x])
    coef_m, sigma_m, inv_x = _ols_block(x, m)
    coef_y, sigma_y, inv_z = _ols_block(z, y)
    paths = _paths_from(coef_m, coef_y)
    vcov = np.zeros((12, 12))
    for layout, sigma, inv in ((_M_LAYOUT, sigma_m, inv_x), (_Y_LAYOUT, sigma_y, inv_z)):
        for i, (ri, ei) in layout.items():
            for j, (rj, ej) in layout.items():
                vcov[i, j] = sigma[ei, ej] * inv[ri, rj]
    # lavaan with fixed x reports the log-likelihood of (M, Y) given X: that of the
    # saturated normal model of all six variables minus that of X alone
    loglik = saturated_loglik(np.column_stack([x, m, y])) - saturated_loglik(x)
    return MediationFit(paths, vcov, sigma_m, sigma_y, float(loglik), n)


def effects(paths: np.ndarray, pooled: bool = False) -> np.ndarray:
    """Defined effects from paths: (..., 12) -> (..., 16) = EFFECTS × members 1, 2, or
    for the pooled model (..., 6) -> (..., 8) = EFFECTS."""
    out = []
    for terms in _all_terms(pooled):
        total = np.zeros(paths.shape[:-1])
        for i, j in terms:
            total = total + (paths[..., i] if j is None else paths[..., i] * paths[..., j])
        out.append(total)
    return np.stack(out, axis=-1)


def effects_gradient(paths: np.ndarray, pooled: bool = False) -> np.ndarray:
    """Jacobian of :func:`effects` at ``paths`` (for the delta method)."""
    rows = []
    for terms in _all_terms(pooled):
        g = np.zeros(paths.shape[-1])
        for i, j in terms:
            if j is None:
                g[i] += 1.0
            else:
                g[i] += paths[j]
                g[j] += paths[i]
        rows.append(g)
    return np.vstack(rows)


def _ols(
    design: np.ndarray, outcome: np.ndarray, centre: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batched least squares of one outcome (..., n) on ``design`` (..., n, q).

    With ``centre`` an intercept is fitted (by centring). Returns the coefficients
    (..., q), the ML residual variance (...,) and inv(X'X) (..., q, q).
    """
    if centre:
        design = design - design.mean(axis=-2, keepdims=True)
        outcome = outcome - outcome.mean(axis=-1, keepdims=True)
    xtx = np.swapaxes(design, -1, -2) @ design
    xty = np.einsum("...nq,...n->...q", design, outcome)
    coef = np.linalg.solve(xtx, xty[..., None])[..., 0]
    resid = outcome - np.einsum("...nq,...q->...n", design, coef)
    return coef, np.einsum("...n,...n->...", resid, resid) / design.shape[-2], np.linalg.inv(xtx)


# pooled paths from (alpha, beta, gamma) of the S block (first 3) and D block (last 3)
_POOL = 0.5 * np.array(
    [
        [1, 0, 0, 1, 0, 0],  # a_actor = (a_S + a_D) / 2
        [1, 0, 0, -1, 0, 0],  # a_partner = (a_S - a_D) / 2
        [0, 1, 0, 0, 1, 0],  # b_actor
        [0, 1, 0, 0, -1, 0],  # b_partner
        [0, 0, 1, 0, 0, 1],  # direct_actor
        [0, 0, 1, 0, 0, -1],  # direct_partner
    ]
)


def _pooled_blocks(
    x: np.ndarray, m: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pooled paths (..., 6), their covariance (..., 6, 6) and the residual variances
    of (M_S, Y_S, M_D, Y_D) (..., 4) from the sum/difference models."""
    r2 = np.sqrt(0.5)
    phi: list[np.ndarray] = []
    var: list[np.ndarray] = []
    blocks = []
    for sign, centre in ((1.0, True), (-1.0, False)):
        xs = r2 * (x[..., 0] + sign * x[..., 1])
        ms = r2 * (m[..., 0] + sign * m[..., 1])
        ys = r2 * (y[..., 0] + sign * y[..., 1])
        ca, va, ia = _ols(xs[..., None], ms, centre)
        cb, vb, ib = _ols(np.stack([ms, xs], axis=-1), ys, centre)
        blocks.append((ca, va, ia, cb, vb, ib))
    for ca, _, _, cb, _, _ in blocks:
        phi += [ca[..., 0], cb[..., 0], cb[..., 1]]
    shape = phi[0].shape
    vphi = np.zeros((*shape, 6, 6))
    for offset, (_, va, ia, _, vb, ib) in zip((0, 3), blocks, strict=True):
        vphi[..., offset, offset] = va * ia[..., 0, 0]
        vphi[..., offset + 1 : offset + 3, offset + 1 : offset + 3] = vb[..., None, None] * ib
        var += [va, vb]
    paths = np.einsum("pq,...q->...p", _POOL, np.stack(phi, axis=-1))
    cov = np.einsum("pq,...qr,sr->...ps", _POOL, vphi, _POOL)
    return paths, cov, np.stack(var, axis=-1)


def fit_pooled(x: np.ndarray, m: np.ndarray, y: np.ndarray) -> MediationFit:
    """Fit the APIMeM for indistinguishable dyads (see the module docstring).

    ``x, m, y`` are (n, 2) arrays; the order of the two members does not matter.
    """
    n = x.shape[0]
    paths, vcov, v = _pooled_blocks(x, m, y)
    # v = (M_S, Y_S, M_D, Y_D): var(S) = s2 + c, var(D) = s2 - c
    sigma_m = np.array([[v[0] + v[2], v[0] - v[2]], [v[0] - v[2], v[0] + v[2]]]) / 2.0
    sigma_y = np.array([[v[1] + v[3], v[1] - v[3]], [v[1] - v[3], v[1] + v[3]]]) / 2.0
    loglik = float(-0.5 * n * np.sum(np.log(2 * np.pi) + np.log(v) + 1.0))
    return MediationFit(paths, vcov, sigma_m, sigma_y, loglik, n, pooled=True)


def _paths_distinguishable(x: np.ndarray, m: np.ndarray, y: np.ndarray) -> np.ndarray:
    coef_m, _, _ = _ols_block(x, m)
    coef_y, _, _ = _ols_block(np.concatenate([m, x], axis=-1), y)
    return _paths_from(coef_m, coef_y)


def _paths_pooled(x: np.ndarray, m: np.ndarray, y: np.ndarray) -> np.ndarray:
    return _pooled_blocks(x, m, y)[0]


def _bootstrap_chunk(
    x: np.ndarray, m: np.ndarray, y: np.ndarray, size: int, pooled: bool, seed: Any
) -> tuple[np.ndarray, int]:
    """Paths and effects of ``size`` resamples drawn from ``seed`` (one chunk)."""
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    paths_of = _paths_pooled if pooled else _paths_distinguishable
    n_paths = len(POOLED_PATHS) if pooled else len(PATHS)
    singular = 0
    idx = rng.integers(0, n, size=(size, n))
    xb, mb, yb = x[idx], m[idx], y[idx]
    try:
        paths = paths_of(xb, mb, yb)
    except np.linalg.LinAlgError:
        paths = np.full((size, n_paths), np.nan)
        for b in range(size):  # rare: find the singular resamples one by one
            try:
                paths[b] = paths_of(xb[b], mb[b], yb[b])
            except np.linalg.LinAlgError:
                singular += 1
    return np.concatenate([paths, effects(paths, pooled)], axis=1), singular


def bootstrap_effects(
    x: np.ndarray,
    m: np.ndarray,
    y: np.ndarray,
    resamples: int,
    rng: int | np.random.Generator | None,
    *,
    pooled: bool = False,
    chunk: int = 1000,
    client: Any = None,
    progress: bool | None = None,
) -> tuple[np.ndarray, int]:
    """Paths and effects of ``resamples`` dyad-level bootstrap samples, vectorised.

    Returns an array (resamples, paths + effects): the 12 paths and 16 defined effects
    (6 and 8 when ``pooled``), and the number of resamples left out because a design
    matrix was singular (their rows are NaN). The resamples run in chunks of ``chunk``;
    chunk ``j`` draws from ``rng`` jumped ``j`` times
    (:func:`dyadlab.models._chunked.streams`), here or on a Dask ``client`` alike, and
    chunk 0 draws what ``rng`` itself would.
    """
    sizes = split(resamples, chunk)
    if not sizes:
        n_cols = (len(POOLED_PATHS) + len(EFFECTS)) if pooled else (len(PATHS) + 2 * len(EFFECTS))
        return np.empty((0, n_cols)), 0
    seeds = streams(rng, len(sizes), func="apim_mediation")
    parts = run_chunks(
        _bootstrap_chunk,
        [(x, m, y, size, pooled) for size in sizes],
        seeds,
        client=client,
        progress=progress,
        label="apim_mediation bootstrap",
    )
    return np.concatenate([p[0] for p in parts], axis=0), sum(p[1] for p in parts)
