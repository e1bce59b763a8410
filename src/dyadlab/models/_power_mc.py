"""Monte Carlo power for the APIM: simulate many data sets and refit them all at once.

Every replication is a data set of ``n`` dyads drawn from the standardised APIM

    X = (X1, X2) ~ N(0, [[1, r_x], [r_x, 1]])
    Y1 = a X1 + p X2 + e1,   Y2 = a X2 + p X1 + e2,
    (e1, e2) ~ N(0, s2 [[1, r_e], [r_e, 1]]),   s2 = 1 - a² - p² - 2 a p r_x,

so that X and Y have unit variance and ``a``, ``p`` are standardised effects. All
replications of a chunk are refitted together with array arithmetic (no Python loop
over replications):

- **distinguishable dyads**: two least-squares regressions per replication with the
  same design ``[1, X1, X2]`` (``lm(y1 ~ x1 + x2)`` and ``lm(y2 ~ x2 + x1)``). With the
  same regressors in both equations these are also the estimates of the two-intercept
  ``nlme::gls`` model and of lavaan; the test is the OLS t test with ``n - 3`` df.
- **indistinguishable dyads**: ``nlme::gls(y ~ x + x_partner, correlation =
  corCompSymm(form = ~1 | dyad), method = "REML")``. With two members per dyad and
  compound symmetry the model splits exactly into the regression of the dyad sums
  ``Y1 + Y2`` on ``X1 + X2`` (with intercept; slope a + p) and the regression of the
  differences ``Y1 - Y2`` on ``X1 - X2`` (without intercept; slope a - p), whose REML
  variances are ``RSS / (n - 2)`` and ``RSS / (n - 1)``. The t test uses gls's
  ``2n - 3`` df.

Both tests are two-sided at level ``alpha``; power is the share of replications that
reject. The replications run in chunks (:func:`chunk_sizes`, each counted by
:func:`count_chunk` and added up by :func:`combine`), locally or on Dask through
:func:`dyadlab.models._chunked.run_chunks`. With equal effects for both members, both
members' tests are counted (they estimate the same power), which lowers the Monte
Carlo error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from dyadlab.models._chunked import split
from dyadlab.models._power_design import PowerScenario

__all__ = [
    "PowerScenario",
    "chunk_sizes",
    "combine",
    "count_chunk",
    "fit_distinguishable",
    "fit_indistinguishable",
]

#: the largest number of simulated values (replications × dyads) held at once
_CHUNK_VALUES = 2_000_000


def _simulate(
    design: PowerScenario, n: int, reps: int, rng: np.random.Generator
) -> tuple[np.ndarray, ...]:
    z = rng.standard_normal((4, reps, n))
    rx, re = design.r_x, design.r_e
    x1 = z[0]
    x2 = rx * z[0] + np.sqrt(1.0 - rx * rx) * z[1]
    s = np.sqrt(design.error_variance)
    e1 = s * z[2]
    e2 = s * (re * z[2] + np.sqrt(1.0 - re * re) * z[3])
    a, p = design.actor, design.partner
    y1 = a * x1 + p * x2 + e1
    y2 = a * x2 + p * x1 + e2
    return x1, x2, y1, y2


def _centre(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = v - v.mean(axis=1, keepdims=True)
    return out


def fit_distinguishable(
    x1: np.ndarray, x2: np.ndarray, y1: np.ndarray, y2: np.ndarray
) -> dict[str, np.ndarray]:
    """Least-squares APIM fits of many replications (rows) at once.

    Parameters
    ----------
    x1, x2, y1, y2 : ndarray of shape (replications, n)
        Predictor and outcome of member 1 and member 2 of each dyad.

    Returns
    -------
    dict
        ``actor1, partner1, actor2, partner2`` (estimates) and ``se_*`` of each, arrays
        of length ``replications``; ``df`` (``n - 3``). Member 1's partner effect is
        X2's effect on Y1.
    """
    n = x1.shape[1]
    x1c, x2c, y1c, y2c = _centre(x1), _centre(x2), _centre(y1), _centre(y2)
    s11 = np.einsum("rn,rn->r", x1c, x1c)
    s22 = np.einsum("rn,rn->r", x2c, x2c)
    s12 = np.einsum("rn,rn->r", x1c, x2c)
    det = s11 * s22 - s12 * s12
    out: dict[str, np.ndarray] = {}
    for k, (yc, own, other, s_own, s_other) in enumerate(
        ((y1c, x1c, x2c, s11, s22), (y2c, x2c, x1c, s22, s11)), start=1
    ):
        c_own = np.einsum("rn,rn->r", own, yc)
        c_other = np.einsum("rn,rn->r", other, yc)
        actor = (s_other * c_own - s12 * c_other) / det
        partner = (s_own * c_other - s12 * c_own) / det
        rss = np.einsum("rn,rn->r", yc, yc) - actor * c_own - partner * c_other
        sigma2 = rss / (n - 3)
        out[f"actor{k}"] = actor
        out[f"partner{k}"] = partner
        out[f"se_actor{k}"] = np.sqrt(sigma2 * s_other / det)
        out[f"se_partner{k}"] = np.sqrt(sigma2 * s_own / det)
    out["df"] = np.asarray(float(n - 3))
    return out


def fit_indistinguishable(
    x1: np.ndarray, x2: np.ndarray, y1: np.ndarray, y2: np.ndarray
) -> dict[str, np.ndarray]:
    """REML compound-symmetry APIM fits (as ``nlme::gls``) of many replications at once.

    Parameters
    ----------
    x1, x2, y1, y2 : ndarray of shape (replications, n)
        Predictor and outcome of the two members of each dyad (order arbitrary).

    Returns
    -------
    dict
        ``actor, partner, se_actor, se_partner, intercept, sigma2, rho`` (arrays of
        length ``replications``) and ``df`` (``2n - 3``).
    """
    n = x1.shape[1]
    sx, sy = x1 + x2, y1 + y2
    dx, dy = x1 - x2, y1 - y2
    sxc, syc = _centre(sx), _centre(sy)
    ss_s = np.einsum("rn,rn->r", sxc, sxc)
    slope_s = np.einsum("rn,rn->r", sxc, syc) / ss_s
    rss_s = np.einsum("rn,rn->r", syc, syc) - slope_s * slope_s * ss_s
    var_s = rss_s / (n - 2)
    ss_d = np.einsum("rn,rn->r", dx, dx)
    slope_d = np.einsum("rn,rn->r", dx, dy) / ss_d
    rss_d = np.einsum("rn,rn->r", dy, dy) - slope_d * slope_d * ss_d
    var_d = rss_d / (n - 1)
    se = 0.5 * np.sqrt(var_s / ss_s + var_d / ss_d)
    intercept = (sy.mean(axis=1) - slope_s * sx.mean(axis=1)) / 2.0
    # var(e1 + e2) = 2 s2 (1 + rho), var(e1 - e2) = 2 s2 (1 - rho)
    sigma2 = (var_s + var_d) / 4.0
    rho = (var_s - var_d) / (var_s + var_d)
    return {
        "actor": (slope_s + slope_d) / 2.0,
        "partner": (slope_s - slope_d) / 2.0,
        "se_actor": se,
        "se_partner": se,
        "intercept": intercept,
        "sigma2": sigma2,
        "rho": rho,
        "df": np.asarray(float(2 * n - 3)),
    }


def chunk_sizes(n: int, replications: int) -> list[int]:
    """Replications per chunk at ``n`` dyads: at most ``_CHUNK_VALUES`` values each.

    The sizes depend only on ``n`` and ``replications`` (never on the Dask client), so
    chunk ``j`` always draws from the same stream.
    """
    return split(replications, max(1, _CHUNK_VALUES // max(n, 1)))


def critical_t(design: PowerScenario, n: int) -> tuple[int, float]:
    """Residual df of the test at ``n`` dyads and its two-sided critical t."""
    df = n - 3 if design.distinguishable else 2 * n - 3
    return df, float(special.stdtrit(df, 1.0 - design.alpha / 2.0))


def count_chunk(design: PowerScenario, n: int, reps: int, seed: Any) -> dict[str, int]:
    """Simulate and refit ``reps`` data sets of ``n`` dyads; count the rejections.

    ``seed`` is anything :func:`numpy.random.default_rng` takes (one chunk's stream).
    Returns ``{"actor": hits, "partner": hits, "trials": tests}``; with distinguishable
    dyads both members' tests are counted, so ``trials`` is ``2 * reps``.
    """
    rng = np.random.default_rng(seed)
    _, crit = critical_t(design, n)
    data = _simulate(design, n, reps, rng)
    hits = {"actor": 0, "partner": 0}
    if design.distinguishable:
        fit = fit_distinguishable(*data)
        for eff in ("actor", "partner"):
            for k in (1, 2):
                t = fit[f"{eff}{k}"] / fit[f"se_{eff}{k}"]
                hits[eff] += int(np.count_nonzero(np.abs(t) > crit))
        return {**hits, "trials": 2 * reps}
    fit = fit_indistinguishable(*data)
    for eff in ("actor", "partner"):
        t = fit[eff] / fit[f"se_{eff}"]
        hits[eff] += int(np.count_nonzero(np.abs(t) > crit))
    return {**hits, "trials": reps}


def combine(
    design: PowerScenario, n: int, replications: int, counts: list[dict[str, int]]
) -> dict[str, float]:
    """Power and Monte Carlo SE at ``n`` dyads from the chunks' counts.

    The Monte Carlo standard error is ``sqrt(power (1 - power) / R)``, an upper bound
    when both members' tests are counted.
    """
    trials = sum(c["trials"] for c in counts)
    out: dict[str, float] = {"df": critical_t(design, n)[0]}
    for eff in ("actor", "partner"):
        pw = sum(c[eff] for c in counts) / trials
        out[eff] = pw
        out[f"{eff}_mc_se"] = float(np.sqrt(max(pw * (1.0 - pw), 1e-12) / replications))
    return out
