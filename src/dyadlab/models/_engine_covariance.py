"""Random-effect covariance structures for the engine (:mod:`dyadlab.models._engine`).

A structure maps unconstrained parameters ``theta`` to a factor ``F`` with
``psi = F F'``, the random-effect covariance relative to the residual variance. The
engine never inverts ``psi``, so a variance at zero (a boundary) is harmless.

- :class:`Unstructured` — any positive semi-definite ``q × q`` matrix by its log-Cholesky
  factor (nlme's ``pdLogChol``, the default of ``lme``).
- :class:`Exchangeable` — the two members of an indistinguishable dyad are
  interchangeable: the random effects are ``(u_1, u_2)``, each a block of ``K`` terms
  (intercept, slopes), and ``psi = [[A, B], [B, A]]``. In the basis of sums and
  differences this is ``diag(A + B, A - B)``, each factored by log-Cholesky. With
  ``K = 1`` it is nlme's ``pdCompSymm(~ 0 + member)``.

Examples
--------
>>> import numpy as np
>>> cs = Exchangeable(1)
>>> F = cs.factor(np.log([2.0, 1.0]))
>>> np.round(F @ F.T, 3).tolist()
[[2.5, 1.5], [1.5, 2.5]]
"""

from __future__ import annotations

import functools
import math

import numpy as np

from dyadlab.models._engine_residual import RowLayout

__all__ = ["CovarianceStructure", "Exchangeable", "Unstructured"]

#: a log-SD below this (relative to the residual SD) counts as a variance at zero
_LOG_SD_BOUNDARY = -7.0
_LOG_SD_BOUNDS = (-12.0, 8.0)


@functools.cache
def _tril(k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row and column indices of the lower triangle, and of the diagonal (cached: the
    factor is built at every likelihood evaluation)."""
    rows, cols = np.tril_indices(k)
    return rows, cols, np.arange(k)


def _chol_from(theta: np.ndarray, k: int) -> np.ndarray:
    L = np.zeros((k, k))
    rows, cols, d = _tril(k)
    L[rows, cols] = theta
    L[d, d] = np.exp(L[d, d])
    return L


def _theta_from(mat: np.ndarray) -> np.ndarray:
    L = np.linalg.cholesky(mat)
    d = np.arange(len(mat))
    L[d, d] = np.log(L[d, d])
    return L[np.tril_indices(len(mat))]


def _chol_bounds(k: int) -> list[tuple[float | None, float | None]]:
    rows, cols = np.tril_indices(k)
    return [_LOG_SD_BOUNDS if r == c else (None, None) for r, c in zip(rows, cols, strict=True)]


def _diag_positions(k: int) -> np.ndarray:
    rows, cols = np.tril_indices(k)
    return np.flatnonzero(rows == cols)


def _start_scale(Z: np.ndarray) -> np.ndarray:
    """A rough relative variance per random effect: 0.5 for an indicator, scaled by z²."""
    out = np.empty(Z.shape[1])
    for k in range(Z.shape[1]):
        z = Z[:, k]
        nz = z[z != 0]
        out[k] = 0.5 / float(np.mean(nz**2)) if len(nz) else 0.5
    return out


class CovarianceStructure:
    """Base class: ``n_params``, ``factor(theta)``, ``start``, ``bounds``, ``at_boundary``."""

    q: int
    n_params: int

    def factor(self, theta: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(
        self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout
    ) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def bounds(self) -> list[tuple[float | None, float | None]]:  # pragma: no cover
        raise NotImplementedError

    def at_boundary(self, theta: np.ndarray) -> list[str]:  # pragma: no cover
        raise NotImplementedError


class Unstructured(CovarianceStructure):
    """Unstructured ``q × q`` covariance by its log-Cholesky factor (nlme ``pdLogChol``)."""

    def __init__(self, q: int) -> None:
        self.q = q
        self.n_params = q * (q + 1) // 2

    def factor(self, theta: np.ndarray) -> np.ndarray:
        return _chol_from(np.asarray(theta, dtype=float), self.q)

    def start(self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        return _theta_from(np.diag(_start_scale(Z)))

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return _chol_bounds(self.q)

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        diag = np.asarray(theta)[_diag_positions(self.q)]
        return [
            f"random effect {k + 1}: variance (or a correlation) at its boundary"
            for k in np.flatnonzero(diag < _LOG_SD_BOUNDARY)
        ]


class Exchangeable(CovarianceStructure):
    """Interchangeable members: ``psi = [[A, B], [B, A]]`` with ``K``-term blocks.

    Columns of Z must be ordered member 0's K terms, then member 1's K terms.
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self.q = 2 * k
        self.n_params = k * (k + 1)

    def factor(self, theta: np.ndarray) -> np.ndarray:
        h = self.n_params // 2
        L1 = _chol_from(np.asarray(theta[:h], dtype=float), self.k)
        L2 = _chol_from(np.asarray(theta[h:], dtype=float), self.k)
        s = 1.0 / math.sqrt(2.0)
        return s * np.block([[L1, L2], [L1, -L2]])

    def start(self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        scale = _start_scale(Z[:, : self.k])
        t = _theta_from(np.diag(scale))
        return np.concatenate([t, t])

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return _chol_bounds(self.k) * 2

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        h = self.n_params // 2
        pos = _diag_positions(self.k)
        out = []
        for half, label in ((theta[:h], "sum"), (theta[h:], "difference")):
            for k in np.flatnonzero(np.asarray(half)[pos] < _LOG_SD_BOUNDARY):
                out.append(
                    f"random effect {k + 1}: the partners' {label} component is at zero "
                    "(a variance at zero or a correlation at ±1)"
                )
        return out
