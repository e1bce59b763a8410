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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["EFFECTS", "PATHS", "MediationFit", "bootstrap_effects", "effects", "fit"]

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


def _saturated_loglik(data: np.ndarray) -> float:
    n, p = data.shape
    _, logdet = np.linalg.slogdet(np.cov(data, rowvar=False, bias=True))
    return float(-0.5 * n * (p * np.log(2 * np.pi) + logdet + p))


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
    loglik = _saturated_loglik(np.column_stack([x, m, y])) - _saturated_loglik(x)
    return MediationFit(paths, vcov, sigma_m, sigma_y, float(loglik), n)


def effects(paths: np.ndarray) -> np.ndarray:
    """Defined effects from paths (..., 12) -> (..., 16): EFFECTS × members 1, 2."""
    out = []
    for effect in EFFECTS:
        for k in (0, 1):
            total = np.zeros(paths.shape[:-1])
            for i, j in _terms(effect, k):
                total = total + (paths[..., i] if j is None else paths[..., i] * paths[..., j])
            out.append(total)
    return np.stack(out, axis=-1)


def effects_gradient(paths: np.ndarray) -> np.ndarray:
    """Jacobian (16, 12) of :func:`effects` at ``paths`` (for the delta method)."""
    rows = []
    for effect in EFFECTS:
        for k in (0, 1):
            g = np.zeros(12)
            for i, j in _terms(effect, k):
                if j is None:
                    g[i] += 1.0
                else:
                    g[i] += paths[j]
                    g[j] += paths[i]
            rows.append(g)
    return np.vstack(rows)


def bootstrap_effects(
    x: np.ndarray,
    m: np.ndarray,
    y: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
    chunk: int = 1000,
) -> tuple[np.ndarray, int]:
    """Paths and effects of ``resamples`` dyad-level bootstrap samples, vectorised.

    Returns an array (resamples, 28): the 12 paths then the 16 defined effects, and the
    number of resamples dropped because a design matrix was singular (rows NaN).
    """
    n = x.shape[0]
    z = np.column_stack([m, x])
    out = np.empty((resamples, 28))
    singular = 0
    for start in range(0, resamples, chunk):
        stop = min(start + chunk, resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        xb, zb, mb, yb = x[idx], z[idx], m[idx], y[idx]
        try:
            coef_m, _, _ = _ols_block(xb, mb)
            coef_y, _, _ = _ols_block(zb, yb)
            paths = _paths_from(coef_m, coef_y)
        except np.linalg.LinAlgError:
            paths = np.full((stop - start, 12), np.nan)
            for b in range(stop - start):  # rare: find the singular resamples one by one
                try:
                    cm, _, _ = _ols_block(xb[b], mb[b])
                    cy, _, _ = _ols_block(zb[b], yb[b])
                    paths[b] = _paths_from(cm, cy)
                except np.linalg.LinAlgError:
                    singular += 1
        out[start:stop, :12] = paths
        out[start:stop, 12:] = effects(paths)
    return out, singular
