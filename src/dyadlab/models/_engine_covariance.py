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
- :class:`Diagonal` — independent effects, a variance each (nlme ``pdDiag``).
- :class:`Identity` — independent effects, one common variance (nlme ``pdIdent``).
- :class:`Blocked` — block diagonal: consecutive groups of Z columns, each with its own
  structure, independent between groups (nlme ``pdBlocked``).

Examples
--------
>>> import numpy as np
>>> cs = Exchangeable(1)
>>> F = cs.factor(np.log([2.0, 1.0]))
>>> np.round(F @ F.T, 3).tolist()
[[2.5, 1.5], [1.5, 2.5]]
>>> blocked = Blocked([Unstructured(2), Identity(2)])
>>> blocked.q, blocked.n_params
(4, 4)
>>> np.round(np.diag(blocked.factor(np.array([0.0, 0.5, 0.0, np.log(0.1)]))), 3).tolist()
[1.0, 1.0, 0.1, 0.1]
"""

from __future__ import annotations

import functools
import math

import numpy as np

from dyadlab.models._engine_residual import RowLayout

__all__ = [
    "Blocked",
    "CovarianceStructure",
    "Diagonal",
    "Exchangeable",
    "Identity",
    "Unstructured",
]

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
    """The log-Cholesky factor (..., k, k) of ``theta`` (..., k(k+1)/2)."""
    L = np.zeros((*theta.shape[:-1], k, k))
    rows, cols, d = _tril(k)
    L[..., rows, cols] = theta
    L[..., d, d] = np.exp(L[..., d, d])
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
    """Base class: ``n_params``, ``factor(theta)``, ``start``, ``bounds``, ``at_boundary``.

    ``factor`` of :class:`Unstructured` and :class:`Exchangeable` also takes a stack of
    parameter vectors (..., n_params) and returns (..., q, q) (the batched diary fits of
    :mod:`dyadlab.models._diary_fastfit`).
    """

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
        theta = np.asarray(theta, dtype=float)
        h = self.n_params // 2
        L1 = _chol_from(theta[..., :h], self.k)
        L2 = _chol_from(theta[..., h:], self.k)
        s = 1.0 / math.sqrt(2.0)
        rows = [np.concatenate([L1, L2], -1), np.concatenate([L1, -L2], -1)]
        out: np.ndarray = s * np.concatenate(rows, -2)
        return out

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


class Diagonal(CovarianceStructure):
    """Independent random effects, a variance each, by their log-SDs (nlme ``pdDiag``)."""

    def __init__(self, q: int) -> None:
        self.q = q
        self.n_params = q

    def factor(self, theta: np.ndarray) -> np.ndarray:
        return np.diag(np.exp(np.asarray(theta, dtype=float)))

    def start(self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        out: np.ndarray = 0.5 * np.log(_start_scale(Z))
        return out

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [_LOG_SD_BOUNDS] * self.q

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        return [
            f"random effect {k + 1}: variance at zero (its boundary)"
            for k in np.flatnonzero(np.asarray(theta) < _LOG_SD_BOUNDARY)
        ]


class Identity(CovarianceStructure):
    """Independent random effects with one common variance, by its log-SD (``pdIdent``)."""

    def __init__(self, q: int) -> None:
        self.q = q
        self.n_params = 1

    def factor(self, theta: np.ndarray) -> np.ndarray:
        return math.exp(float(theta[0])) * np.eye(self.q)

    def start(self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        return np.array([float(np.mean(0.5 * np.log(_start_scale(Z))))])

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [_LOG_SD_BOUNDS]

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        if float(theta[0]) < _LOG_SD_BOUNDARY:
            return [f"random effects 1-{self.q}: common variance at zero (its boundary)"]
        return []


class Blocked(CovarianceStructure):
    """Block-diagonal covariance (nlme ``pdBlocked``): consecutive groups of Z columns,
    each with its own structure, independent between groups.

    Parameters
    ----------
    blocks : sequence of CovarianceStructure
        In Z column order; block ``b`` covers the next ``blocks[b].q`` columns. Its
        parameters follow those of the previous blocks.
    """

    def __init__(self, blocks: list[CovarianceStructure]) -> None:
        self.blocks = list(blocks)
        self.q = sum(b.q for b in self.blocks)
        self.n_params = sum(b.n_params for b in self.blocks)
        self._cols = np.cumsum([0] + [b.q for b in self.blocks])
        self._pars = np.cumsum([0] + [b.n_params for b in self.blocks])

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        """The parameters of each block."""
        t = np.asarray(theta, dtype=float)
        return [t[self._pars[i] : self._pars[i + 1]] for i in range(len(self.blocks))]

    def factor(self, theta: np.ndarray) -> np.ndarray:
        F = np.zeros((self.q, self.q))
        for i, (b, t) in enumerate(zip(self.blocks, self.split(theta), strict=True)):
            c0, c1 = self._cols[i], self._cols[i + 1]
            F[c0:c1, c0:c1] = b.factor(t)
        return F

    def start(self, Z: np.ndarray, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        parts = [
            b.start(Z[:, self._cols[i] : self._cols[i + 1]], resid, layout)
            for i, b in enumerate(self.blocks)
        ]
        return np.concatenate(parts) if parts else np.zeros(0)

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [bd for b in self.blocks for bd in b.bounds()]

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        """Each block's notes, its effects numbered within the block: ``block 2: ...``."""
        return [
            f"block {i + 1}: {note}"
            for i, (b, t) in enumerate(zip(self.blocks, self.split(theta), strict=True))
            for note in b.at_boundary(t)
        ]
