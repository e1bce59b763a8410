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

This is ``pdBlocked`` in nlme, built from the engine's
:class:`~dyadlab.models._engine_covariance.Blocked`; this module only fixes the blocks
and words the boundary notes in the model's terms.

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

import numpy as np

from dyadlab.models._engine_covariance import (
    Blocked,
    CovarianceStructure,
    Diagonal,
    Exchangeable,
    Identity,
    Unstructured,
)

__all__ = ["PersonEffects"]

#: a log-SD below this (relative to the residual SD) counts as a variance at zero
_LOG_SD_BOUNDARY = -7.0
_SLOPE_NAMES = ("truth", "assumed_similarity")


class PersonEffects(Blocked):
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
        slopes: list[CovarianceStructure] = (
            [Diagonal(2 * n_slopes)] if distinguishable else [Identity(2) for _ in range(n_slopes)]
        )
        super().__init__([self.intercepts, *slopes])
        self.n_slope_params = self.n_params - self.intercepts.n_params

    def slope_log_sds(self, theta: np.ndarray) -> np.ndarray:
        """Log-SD of every slope column (length ``2 * n_slopes``) from ``theta``."""
        t = np.asarray(theta[self.intercepts.n_params :], dtype=float)
        return t if self.distinguishable else np.repeat(t, 2)

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
