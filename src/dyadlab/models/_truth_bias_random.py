"""Person-level random effects of the truth and bias model, as an engine covariance.

The engine (:mod:`dyadlab.models._engine`) puts all random effects of a dyad in one
block with covariance ``sigma2 * psi``. The truth and bias model has, per person, a
random intercept (directional bias), a random truth slope and (optionally) a random
similarity slope. Their covariance here is block diagonal, in the Z column order

    [m0, m1, m0·tc_partner, m1·tc_partner, m0·tc_own, m1·tc_own]

(``m0``, ``m1`` indicate the dyad's members):

- the two partners' intercepts: unstructured 2 × 2 (distinguishable; nlme
  ``pdSymm(~ 0 + role)``) or exchangeable (indistinguishable; ``pdCompSymm(~ 0 +
  member)``);
- each slope: independent over persons, a variance per role (distinguishable;
  ``pdDiag(~ 0 + role:tc_partner + role:tc_own)``) or one variance for everyone
  (indistinguishable; ``pdIdent(~ 0 + member:tc_partner)``, ``pdIdent(~ 0 +
  member:tc_own)``).

This is ``pdBlocked`` in nlme. The engine's own structures (Unstructured, Exchangeable)
cover a full 6 × 6 covariance only; see the module docs of
:mod:`dyadlab.models.truth_bias` for why the block-diagonal form is used.

Examples
--------
>>> import numpy as np
>>> pe = PersonEffects(distinguishable=True, n_slopes=1)
>>> pe.q, pe.n_params
(4, 5)
>>> F = pe.factor(np.array([0.0, 0.5, 0.0, np.log(0.1), np.log(0.2)]))
>>> np.round(np.diag(F @ F.T), 3).tolist()
[1.0, 1.25, 0.01, 0.04]
"""

from __future__ import annotations

import math

import numpy as np

from dyadlab.models._engine_covariance import CovarianceStructure, Exchangeable, Unstructured
from dyadlab.models._engine_residual import RowLayout

__all__ = ["PersonEffects"]

#: the engine's bounds and boundary threshold for a log-SD (relative to the residual SD)
_LOG_SD_BOUNDS = (-12.0, 8.0)
_LOG_SD_BOUNDARY = -7.0
_SLOPE_NAMES = ("truth", "assumed_similarity")


def _start_log_sd(z: np.ndarray) -> float:
    """A rough starting log-SD for a random effect whose design column is ``z``."""
    nz = z[z != 0]
    scale = 0.5 / float(np.mean(nz**2)) if len(nz) else 0.5
    return 0.5 * math.log(scale)


class PersonEffects(CovarianceStructure):
    """Random intercepts (partners correlated) and independent random slopes per person.

    Parameters
    ----------
    distinguishable : bool
        Variances per role (and an unstructured 2 × 2 for the intercepts) or pooled.
    n_slopes : int
        Random slopes per person: 1 (truth) or 2 (truth and assumed similarity).
    """

    def __init__(self, *, distinguishable: bool, n_slopes: int) -> None:
        self.distinguishable = distinguishable
        self.n_slopes = n_slopes
        self.intercepts: CovarianceStructure = (
            Unstructured(2) if distinguishable else Exchangeable(1)
        )
        self.n_slope_params = 2 * n_slopes if distinguishable else n_slopes
        self.q = 2 + 2 * n_slopes
        self.n_params = self.intercepts.n_params + self.n_slope_params

    def slope_log_sds(self, theta: np.ndarray) -> np.ndarray:
        """Log-SD of every slope column (length ``2 * n_slopes``) from ``theta``."""
        t = np.asarray(theta[self.intercepts.n_params :], dtype=float)
        return t if self.distinguishable else np.repeat(t, 2)

    def factor(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        F = np.zeros((self.q, self.q))
        F[:2, :2] = self.intercepts.factor(theta[: self.intercepts.n_params])
        idx = np.arange(2, self.q)
        F[idx, idx] = np.exp(self.slope_log_sds(theta))
        return F

    def start(self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        inter = self.intercepts.start(Z[:, :2], resid, layout)
        logs = np.array([_start_log_sd(Z[:, c]) for c in range(2, self.q)])
        if not self.distinguishable:
            logs = logs.reshape(-1, 2).mean(axis=1)
        return np.concatenate([inter, logs])

    def bounds(self) -> list[tuple[float | None, float | None]]:
        slopes: list[tuple[float | None, float | None]] = [_LOG_SD_BOUNDS] * self.n_slope_params
        return self.intercepts.bounds() + slopes

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        theta = np.asarray(theta, dtype=float)
        k = self.intercepts.n_params
        out = [
            s.replace("random effect 1", "random intercepts (directional bias)").replace(
                "random effect 2", "random intercepts (directional bias)"
            )
            for s in self.intercepts.at_boundary(theta[:k])
        ]
        per = 2 if self.distinguishable else 1
        for i, value in enumerate(theta[k:]):
            if value < _LOG_SD_BOUNDARY:
                name = _SLOPE_NAMES[i // per]
                who = f" (member {i % per + 1})" if self.distinguishable else ""
                out.append(f"random {name} slope{who}: variance at zero (its boundary)")
        return out
