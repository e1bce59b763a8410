"""Simulated couples' diaries for power analysis: many replications as arrays at once.

One replication is ``n`` couples × ``T`` days × 2 members from the two-intercept diary
APIM (PowerLAPIM's Model 1, Lafit et al. 2022), for member ``r`` of couple ``d`` on day
``t`` (``s`` is the partner)::

    y_dtr = c_r + a_r x_dtr + p_r x_dts + u_dr + e_dtr
    (u_d1, u_d2) ~ N(0, G)                       random intercepts per role
    e_dt = phi e_d,t-1 + sqrt(1 - phi²) eta_dt,  eta_dt ~ N(0, Sigma)
    x_dtr = b_dr + w_dtr                         between- and within-person parts

``Sigma`` (residual SDs per role, partners' residual correlation) is the stationary
covariance of the residuals, AR(1) over days with ``phi``; ``b`` and ``w`` have variance
``x_icc`` and ``1 - x_icc`` (x has unit variance) and the partners' correlation ``r_x``
at both levels. Person-days are missing at random with probability ``missing``; a
couple drops out with probability ``dropout`` after a day drawn uniformly from the
days before the last. The arrays are shaped ``(replications, couples, days)``.

With ``family="binomial"`` the same linear predictor without ``e`` is a log-odds, and
``y`` is 1 with probability ``1 / (1 + exp(-(c_r + a_r x_dtr + p_r x_dts + u_dr)))``:
the two-intercept dyadic GLMM of ``dl.diary(..., family="binomial")``.

Examples
--------
>>> import numpy as np
>>> p = DiaryParams.standardised(0.3, 0.15)
>>> sim = simulate(p, couples=5, days=7, reps=3, rng=np.random.default_rng(1))
>>> sim.y.shape, sim.keep.shape
((3, 5, 7, 2), (3, 5, 7))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas loads when a replication is written out, not with power
    import pandas as pd

__all__ = ["DiaryParams", "Simulated", "simulate", "to_frame"]

Pair = tuple[float, float]


@dataclass(frozen=True)
class DiaryParams:
    """Population values of a diary power analysis (raw scale; x has unit variance)."""

    actor: Pair
    partner: Pair
    intercept: Pair = (0.0, 0.0)
    sd_intercept: Pair = (0.5, 0.5)
    cor_intercepts: float = 0.3
    sd_residual: Pair = (0.8, 0.8)
    r_e: float = 0.3
    ar1: float = 0.0
    x_icc: float = 0.0
    r_x: float = 0.0
    missing: float = 0.0
    dropout: float = 0.0
    distinguishable: bool = True
    family: str = "gaussian"

    @staticmethod
    def standardised(
        actor: float | Pair,
        partner: float | Pair,
        *,
        icc: float = 0.3,
        r_x: float = 0.0,
        **kwargs: float | bool,
    ) -> DiaryParams:
        """Parameters for standardised effects: x and y have unit variance.

        The variance y's predictors leave, ``1 - a² - p² - 2 a p r_x`` per role, is split
        into the random intercept (share ``icc``) and the daily residual.
        """
        a, p = _pair(actor), _pair(partner)
        left = [unexplained(a[k], p[k], r_x) for k in (0, 1)]
        sd_i = (math.sqrt(max(icc * left[0], 0)), math.sqrt(max(icc * left[1], 0)))
        sd_e = (
            math.sqrt(max((1 - icc) * left[0], 0)),
            math.sqrt(max((1 - icc) * left[1], 0)),
        )
        return DiaryParams(
            actor=a,
            partner=p,
            sd_intercept=sd_i,
            sd_residual=sd_e,
            r_x=r_x,
            **kwargs,  # type: ignore[arg-type]
        )

    def g(self) -> np.ndarray:
        """Covariance matrix of the random intercepts."""
        return _cov(self.sd_intercept, self.cor_intercepts)

    def sigma(self) -> np.ndarray:
        """Covariance matrix of the partners' residuals on a day."""
        return _cov(self.sd_residual, self.r_e)


def unexplained(a: float, p: float, r_x: float) -> float:
    """Share of a standardised outcome's variance the actor and partner effects leave."""
    return 1.0 - a * a - p * p - 2.0 * a * p * r_x


def _pair(v: float | Pair) -> Pair:
    if isinstance(v, tuple | list):
        return (float(v[0]), float(v[1]))
    return (float(v), float(v))


def _cov(sd: Pair, r: float) -> np.ndarray:
    return np.array([[sd[0] ** 2, r * sd[0] * sd[1]], [r * sd[0] * sd[1], sd[1] ** 2]])


def _chol(m: np.ndarray) -> np.ndarray:
    # a PSD matrix with a zero SD (no random intercept) has no Cholesky factor
    vals, vecs = np.linalg.eigh(m)
    out: np.ndarray = vecs * np.sqrt(np.clip(vals, 0, None))
    return out


@dataclass
class Simulated:
    """Replications as arrays: ``x``, ``y`` (reps, couples, days, 2); ``keep`` (reps,
    couples, days), True where both partners' reports of the day are in the data."""

    x: np.ndarray
    y: np.ndarray
    keep: np.ndarray


def simulate(
    p: DiaryParams, *, couples: int, days: int, reps: int, rng: np.random.Generator
) -> Simulated:
    """Draw ``reps`` replications of ``couples`` × ``days`` from :class:`DiaryParams`."""
    shape = (reps, couples, days, 2)
    rx = _cov((1.0, 1.0), p.r_x)
    cx = _chol(rx)
    b = rng.standard_normal((reps, couples, 1, 2)) @ cx.T * math.sqrt(p.x_icc)
    w = rng.standard_normal(shape) @ cx.T * math.sqrt(1.0 - p.x_icc)
    x = b + w
    u = rng.standard_normal((reps, couples, 1, 2)) @ _chol(p.g()).T
    a, pp, c = np.array(p.actor), np.array(p.partner), np.array(p.intercept)
    if p.family == "binomial":
        from scipy import special

        logit = c + a * x + pp * x[..., ::-1] + u
        y = (rng.random(shape) < special.expit(logit)).astype(float)
        return Simulated(x=x, y=y, keep=_kept(p, couples, days, reps, rng))
    eta = rng.standard_normal(shape) @ _chol(p.sigma()).T
    if p.ar1:
        e = np.empty(shape)
        e[:, :, 0] = eta[:, :, 0]
        s = math.sqrt(1.0 - p.ar1 * p.ar1)
        for t in range(1, days):
            e[:, :, t] = p.ar1 * e[:, :, t - 1] + s * eta[:, :, t]
    else:
        e = eta
    y = c + a * x + pp * x[..., ::-1] + u + e
    return Simulated(x=x, y=y, keep=_kept(p, couples, days, reps, rng))


def _kept(
    p: DiaryParams, couples: int, days: int, reps: int, rng: np.random.Generator
) -> np.ndarray:
    """Couple-days in the data: missing person-days and dropout as :class:`DiaryParams` says."""
    shape = (reps, couples, days, 2)
    keep = np.ones((reps, couples, days), dtype=bool)
    if p.missing:
        keep &= (rng.random(shape) >= p.missing).all(axis=-1)
    if p.dropout and days > 1:
        drops = rng.random((reps, couples)) < p.dropout
        last = rng.integers(1, days, size=(reps, couples))  # days kept: 1 .. days-1
        keep &= ~(drops[..., None] & (np.arange(days) >= last[..., None]))
    return keep


def to_frame(sim: Simulated, rep: int = 0) -> pd.DataFrame:
    """One replication in individual (long) format, the layout ``dl.diary`` reads.

    Columns ``dyad, person, role, time, x, y``; a missing day has no rows.
    """
    import pandas as pd

    _, n, t, _ = sim.y.shape
    d, day, m = np.meshgrid(np.arange(n), np.arange(t), np.arange(2), indexing="ij")
    keep = np.broadcast_to(sim.keep[rep][..., None], (n, t, 2))
    frame = pd.DataFrame(
        {
            "dyad": d[keep] + 1,
            "person": 2 * d[keep] + m[keep] + 1,
            "role": np.where(m[keep] == 0, "a", "b"),
            "time": day[keep] + 1,
            "x": sim.x[rep][keep],
            "y": sim.y[rep][keep],
        }
    )
    return frame
