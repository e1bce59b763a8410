"""ML of a constrained fixed-x APIM from complete-data moments, by iterated GLS.

Why our own numerics: with complete data and the exogenous variables fixed (lavaan's
``fixed.x = TRUE``), the log-likelihood of the two-outcome APIM depends on the rows
only through the sample means and covariances, and the model splits in two blocks.
Given the residual covariance ``Psi``, the ML regression coefficients under equality
constraints (equal actor effects, equal intercepts, …) are generalised least squares;
given the coefficients, the ML ``Psi`` is the residual covariance (with equal residual
variances, the average of the two; Kenny, Kashy & Cook 2006, ch. 7). Alternating the
two steps maximises the likelihood in each block exactly, so every step raises it, and
as the information of the coefficients and of ``Psi`` is block-diagonal the alternation
converges in a few steps (Zellner's iterated SUR estimator). Each step costs a few
products of matrices the size of the parameter vector, where BFGS through
:func:`scipy.optimize.minimize` costs a likelihood evaluation per line-search step and
its own set-up: the role tests of ``apim()`` refit three constrained models, and this
was most of their time.

:func:`dyadlab.models._sem.fit_sem` checks the gradient at the result with the
likelihood it uses everywhere and hands over to BFGS when it is not at the optimum, so
this step needs to be fast, not trusted.

Examples
--------
>>> import numpy as np
>>> from dyadlab.models._sem import apim_spec, fit_sem, sem_data
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=(300, 2))
>>> y = x @ [[0.5, 0.2], [0.1, 0.4]] + rng.normal(size=(300, 2))
>>> sd = sem_data(np.column_stack([y, x]))
>>> spec = apim_spec(2, [[0, 1], [1, 0]], term_groups=["actor", "partner"], equal=("actor",))
>>> psi0 = np.array([1.0, 1.0, 0.0])
>>> theta, steps = iterated_gls(spec, sd.pats[0].mean, sd.pats[0].cross / sd.n, psi0)
>>> bfgs = fit_sem(sd, spec, compute_se=False, optimizer="bfgs")
>>> bool(np.allclose(theta, bfgs.theta, atol=1e-6))
True
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from dyadlab.models._sem import SemSpec

__all__ = ["iterated_gls"]

Array = NDArray[np.float64]


def iterated_gls(
    spec: SemSpec,
    mean: Array,
    cov: Array,
    psi0: Array,
    *,
    max_iter: int = 100,
    tol: float = 1e-12,
) -> tuple[Array, int] | None:
    """ML estimates of a fixed-x ``spec`` from the means and (ML) covariances of
    complete rows ``(y_1, y_2, x_1..x_m)``, by alternating GLS and the residual
    covariance.

    Parameters
    ----------
    spec : SemSpec
        Fixed x; intercepts and regression coefficients (possibly shared between the
        outcomes) separate from the residual parameters ``(v_1, v_2, c)`` or
        ``(v, v, c)``.
    mean, cov : ndarray
        Sample means (p,) and covariance divided by n (p, p) of the rows.
    psi0 : ndarray (3,)
        Start ``(psi_11, psi_22, psi_12)``.
    max_iter : int
        Most alternations.
    tol : float
        Stop when no estimate moves by more than ``tol`` relative to the largest (or
        when the steps stop shrinking: rounding noise at the optimum).

    Returns
    -------
    (theta, steps) or None
        The parameters in ``spec`` order and the alternations taken; None when
        ``spec`` has another structure or a step fails (a residual covariance that is
        not positive definite, a singular GLS system) or it did not settle in
        ``max_iter`` steps.
    """
    if not spec.fixed_x:
        return None
    k, m = spec.n_params, spec.n_exo
    a_idx, b_idx = spec.a_idx, spec.b_idx
    p0, p1, p2 = (int(i) for i in spec.psi_idx)
    beta_params = sorted({int(i) for i in a_idx} | {int(i) for i in b_idx[b_idx >= 0]})
    psi_params = {p0, p1, p2}
    if p2 in (p0, p1) or psi_params & set(beta_params):
        return None
    if len(beta_params) + len(psi_params) != k:
        return None
    equal_variances = p0 == p1
    pos = {j: i for i, j in enumerate(beta_params)}
    kb = len(beta_params)
    my, mx = mean[:2], mean[2:]
    syy, sxy, sxx = cov[:2, :2], cov[2:, :2], cov[2:, 2:]
    # the coefficients (a_r + b_r'mx, b_r) of outcome r on (1, x - mx) are h[r] @ beta:
    # centring x keeps the GLS system as well conditioned as the problem allows
    h = np.zeros((2, m + 1, kb))
    for r in range(2):
        h[r, 0, pos[int(a_idx[r])]] += 1.0
        for c in np.flatnonzero(b_idx[r] >= 0):
            j = pos[int(b_idx[r, c])]
            h[r, 1 + c, j] += 1.0
            h[r, 0, j] += mx[c]
    gram = np.zeros((m + 1, m + 1))  # E[z z'] of z = (1, x - mx)
    gram[0, 0] = 1.0
    gram[1:, 1:] = sxx
    zy = np.vstack([my, sxy])  # column s: E[z y_s]
    # the GLS system sum_rs P_rs h_r' G h_s beta = sum_rs P_rs h_r' E[z y_s], with the four
    # (r, s) blocks flattened so that one product with P's entries forms it
    hgh = np.einsum("rak,ab,sbl->rskl", h, gram, h).reshape(4, kb * kb)
    hzy = np.einsum("rak,as->rsk", h, zy).reshape(4, kb)
    s00, s11, s01 = (float(v) for v in psi0)
    beta = np.zeros(kb)
    last = math.inf
    for step in range(1, max_iter + 1):
        det = s00 * s11 - s01 * s01
        if not (math.isfinite(det) and det > 0 and s00 > 0):
            return None
        prec = np.array([s11, -s01, -s01, s00]) / det
        try:
            new = np.linalg.solve((prec @ hgh).reshape(kb, kb), prec @ hzy)
        except np.linalg.LinAlgError:
            return None
        w = h @ new  # (2, m + 1): intercepts at the mean of x, slopes
        u = my - w[:, 0]  # mean residuals
        b = w[:, 1:]
        bs = b @ sxy
        (r00, r01), (_, r11) = (np.outer(u, u) + syy - bs - bs.T + b @ sxx @ b.T).tolist()
        if equal_variances:
            r00 = r11 = (r00 + r11) / 2
        moved = max(float(np.abs(new - beta).max(initial=0.0)), abs(r00 - s00), abs(r11 - s11))
        moved = max(moved, abs(r01 - s01))
        scale = max(float(np.abs(new).max(initial=0.0)), abs(r00), abs(r11), abs(r01))
        beta, (s00, s11, s01) = new, (r00, r11, r01)
        if not (math.isfinite(moved) and math.isfinite(scale)):
            return None
        # settled, or small steps that stop shrinking (rounding noise at the optimum)
        if step > 1 and (moved <= tol * scale or last <= moved <= 1e-8 * scale):
            theta = np.empty(k)
            theta[beta_params] = beta
            theta[[p0, p1, p2]] = [s00, s11, s01]
            return theta, step
        last = moved if step > 1 else math.inf
    return None
