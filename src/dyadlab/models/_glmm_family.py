"""Response families of the dyadic GLMM: log-density and its derivatives in the linear predictor.

Each family gives, for outcomes ``y`` and linear predictors ``eta``, the log-density
``log p(y | eta)`` (with every constant, as ``lme4``'s and ``glmmTMB``'s log-likelihoods
have it), the score ``s = d log p / d eta``, the weight ``w = -d² log p / d eta²`` and
its derivative ``w' = dw / d eta``. :mod:`dyadlab.models._glmm_laplace` needs nothing
else: the conditional modes use ``s`` and ``w``, the Laplace approximation ``w``, and its
exact gradient ``w'``.

* ``binomial`` (0/1, logit link): ``s = y - mu``, ``w = mu (1 - mu)``;
* ``poisson`` (log link): ``s = y - mu``, ``w = mu``;
* ``negative_binomial`` (NB2, log link, ``Var = mu + mu² / theta`` as glmmTMB's
  ``nbinom2``): with ``g = mu / (theta + mu)``, ``s = y - (y + theta) g``,
  ``w = (y + theta) g (1 - g)`` (the observed information, as glmmTMB's Laplace uses).

Examples
--------
>>> import numpy as np
>>> fam = FAMILIES["poisson"]
>>> lp, s, w, dw = fam.derivatives(np.array([2.0]), np.array([0.0]), None)
>>> float(s[0]), float(w[0])
(1.0, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["FAMILIES", "Family"]


@dataclass(frozen=True)
class Family:
    """A response family of the GLMM (see the module docstring)."""

    name: str
    link: str
    ratio_name: str
    has_dispersion: bool = False

    def mean(self, eta: np.ndarray) -> np.ndarray:
        """The inverse link: probabilities (logit) or expected counts (log)."""
        if self.link == "logit":
            out: np.ndarray = special.expit(eta)
            return out
        mu: np.ndarray = np.exp(np.minimum(eta, 700.0))
        return mu

    def log_density(self, y: np.ndarray, eta: np.ndarray, theta: float | None) -> np.ndarray:
        """``log p(y | eta)`` per row, constants included."""
        return self.derivatives(y, eta, theta, order=0)[0]

    def derivatives(
        self, y: np.ndarray, eta: np.ndarray, theta: float | None, order: int = 3
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(log p, s, w, w')`` per row; with ``order=0`` only ``log p`` is meaningful."""
        empty = np.empty(0)
        if self.name == "binomial":
            # log p = y eta - log(1 + e^eta), computed without overflow
            lp = y * eta - np.logaddexp(0.0, eta)
            if order == 0:
                return lp, empty, empty, empty
            mu = special.expit(eta)
            w = mu * (1.0 - mu)
            return lp, y - mu, w, w * (1.0 - 2.0 * mu)
        mu = np.exp(np.minimum(eta, 700.0))
        if self.name == "poisson":
            lp = y * eta - mu - special.gammaln(y + 1.0)
            if order == 0:
                return lp, empty, empty, empty
            return lp, y - mu, mu, mu
        assert theta is not None
        # nbinom2: log p = lgamma(y+θ) - lgamma(θ) - lgamma(y+1) + θ log(θ/(θ+μ)) + y log(μ/(θ+μ))
        log_t_mu = np.logaddexp(np.log(theta), eta)  # log(θ + μ)
        lp = (
            special.gammaln(y + theta)
            - special.gammaln(theta)
            - special.gammaln(y + 1.0)
            + theta * (np.log(theta) - log_t_mu)
            + y * (eta - log_t_mu)
        )
        if order == 0:
            return lp, empty, empty, empty
        g = np.exp(eta - log_t_mu)  # μ / (θ + μ)
        w = (y + theta) * g * (1.0 - g)
        return lp, y - (y + theta) * g, w, w * (1.0 - 2.0 * g)

    def pearson_variance(self, mu: np.ndarray, theta: float | None) -> np.ndarray:
        """The variance function at ``mu`` (for Pearson residuals)."""
        if self.name == "binomial":
            return mu * (1.0 - mu)
        if self.name == "poisson":
            return mu
        assert theta is not None
        return mu + mu**2 / theta


FAMILIES: dict[str, Family] = {
    "binomial": Family("binomial", "logit", "odds_ratio"),
    "poisson": Family("poisson", "log", "rate_ratio"),
    "negative_binomial": Family("negative_binomial", "log", "rate_ratio", has_dispersion=True),
}
