"""Laplace and adaptive Gauss–Hermite estimation of GLMMs with independent group blocks.

The model: rows ``i`` in groups ``g`` (dyads), each row belonging to one of ``q``
members of its group (the two partners; ``q = 1`` for a single random intercept),

.. math::

    \\eta_i = x_i'\\beta + b_{g(i), m(i)}, \\qquad b_g = \\Lambda u_g, \\qquad
    u_g \\sim N(0, I_q), \\qquad y_i \\sim \\text{family}(\\eta_i),

so the random intercepts have covariance :math:`G = \\Lambda\\Lambda'` (lme4's
spherical random effects and relative covariance factor). The marginal log-likelihood
is a sum over groups of q-dimensional integrals.

Why it is fast
--------------
Each row loads on exactly one random effect, so per group the Hessian of the
integrand is :math:`H_g = \\Lambda' D_g \\Lambda + I` with :math:`D_g` diagonal (the
summed weights of each member's rows): the conditional modes are a batched Newton
iteration on ``G × q × q`` arrays, every row-level quantity enters through one
``bincount``, and the cost of an evaluation is linear in the rows. The Laplace
log-likelihood

.. math::

    \\ell = \\sum_g \\Big[\\sum_{i \\in g} \\log p(y_i \\mid \\hat\\eta_i)
            - \\tfrac12 \\hat u_g'\\hat u_g - \\tfrac12 \\log|H_g|\\Big]

(lme4's ``nAGQ = 1`` deviance, glmmTMB's Laplace) has an exact gradient in
:math:`(\\beta, \\theta)`: the envelope theorem removes the modes' dependence from the
first two terms; the log-determinant's derivative needs :math:`dw/d\\eta` and the
implicit derivative of the modes (both closed forms, see :meth:`GlmmProblem.laplace`).
A quasi-Newton search (L-BFGS-B) on all parameters jointly — lme4's second stage — is
finished by Newton steps with the Hessian as central differences of the exact
gradient; that Hessian's inverse gives the fixed effects' covariance, as glmer's
default ``vcov`` (``use.hessian = TRUE``) and glmmTMB's ``sdreport`` do.

Adaptive Gauss–Hermite quadrature (``nagq > 1``) replaces the Laplace term per group by
a product rule of ``nagq ** q`` nodes centred at the mode and scaled by
:math:`H_g^{-1/2}` (Liu & Pierce 1994; ``nagq = 1`` is the Laplace approximation);
its gradient is taken by central differences from the Laplace solution.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(3)
>>> g = np.repeat(np.arange(200), 10); x = rng.normal(size=2000)
>>> eta = -0.5 + 0.8 * x + rng.normal(0, 1.0, 200)[g]
>>> y = (rng.random(2000) < 1 / (1 + np.exp(-eta))).astype(float)
>>> fit = fit_glmm(np.column_stack([np.ones(2000), x]), y, Blocks(g, np.zeros(2000, int)),
...                "binomial", Cholesky(1))
>>> bool(abs(fit.beta[1] - 0.8) < 0.15), fit.converged
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.polynomial.hermite import hermgauss
from scipy import optimize, sparse

from dyadlab.models._glmm_family import FAMILIES, Family
from dyadlab.models._numerics import blas_single_thread, fd_derivatives, fd_gradient, fd_hessian

__all__ = ["Blocks", "Cholesky", "Exchangeable", "GlmmFit", "GlmmProblem", "fit_glmm"]

#: iterations of the quasi-Newton search (a test lowers it to provoke non-convergence)
_MAXITER = 500
#: largest absolute gradient of the log-likelihood accepted as converged
_GRAD_TOL = 1e-3
#: Newton steps that finish the search
_NEWTON_STEPS = 6
_MODE_TOL = 1e-10


@dataclass(frozen=True)
class Blocks:
    """Rows' group (0..G-1) and member (0..q-1) codes."""

    group: np.ndarray
    member: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.group.max()) + 1 if self.group.size else 0


class Cholesky:
    """Unstructured ``q × q`` covariance, lme4's θ: Λ's lower triangle by columns."""

    def __init__(self, q: int) -> None:
        self.q = q
        self._idx = [(i, j) for j in range(q) for i in range(j, q)]
        self.n_theta = len(self._idx)

    def start(self) -> np.ndarray:
        return np.array([1.0 if i == j else 0.0 for i, j in self._idx])

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [(0.0, None) if i == j else (None, None) for i, j in self._idx]

    def at_boundary(self, theta: np.ndarray) -> list[int]:
        return [k for k, (i, j) in enumerate(self._idx) if i == j and theta[k] <= 1e-6]

    def lam(self, theta: np.ndarray) -> np.ndarray:
        out = np.zeros((self.q, self.q))
        for k, (i, j) in enumerate(self._idx):
            out[i, j] = theta[k]
        return out

    def dlam(self, theta: np.ndarray) -> list[np.ndarray]:
        out = []
        for i, j in self._idx:
            d = np.zeros((self.q, self.q))
            d[i, j] = 1.0
            out.append(d)
        return out


class Exchangeable:
    """Two members with one SD ``s`` and correlation ``tanh(z)``: θ = (s, z)."""

    q = 2
    n_theta = 2

    def start(self) -> np.ndarray:
        return np.array([1.0, 0.0])

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [(0.0, None), (-8.0, 8.0)]

    def at_boundary(self, theta: np.ndarray) -> list[int]:
        # with the SD at zero the correlation is not identified: both are held fixed
        return [0, 1] if theta[0] <= 1e-6 else []

    def lam(self, theta: np.ndarray) -> np.ndarray:
        s, z = theta
        out: np.ndarray = s * np.array([[1.0, 0.0], [math.tanh(z), 1.0 / math.cosh(z)]])
        return out

    def dlam(self, theta: np.ndarray) -> list[np.ndarray]:
        s, z = theta
        t, sech = math.tanh(z), 1.0 / math.cosh(z)
        return [
            np.array([[1.0, 0.0], [t, sech]]),
            s * np.array([[0.0, 0.0], [sech**2, -sech * t]]),
        ]


Structure = Cholesky | Exchangeable


@dataclass
class GlmmFit:
    """What :func:`fit_glmm` returns (engine level)."""

    beta: np.ndarray
    vcov: np.ndarray
    theta: np.ndarray
    G: np.ndarray
    dispersion: float | None
    loglik: float
    n_params: int
    n_obs: int
    n_groups: int
    converged: bool
    message: str
    iterations: int
    nagq: int
    modes: np.ndarray  # b_g (G × q) at the estimates
    mu: np.ndarray  # conditional means (rows)
    boundary: list[str] = field(default_factory=list)
    gradient: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.n_params

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + math.log(self.n_obs) * self.n_params


class GlmmProblem:
    """The log-likelihood of one data set as a function of ``(beta, theta[, log size])``.

    Conditional modes are kept between evaluations (warm starts).
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        blocks: Blocks,
        family: Family,
        structure: Structure,
    ) -> None:
        self.X = X
        self.y = y
        self.family = family
        self.structure = structure
        self.q = structure.q
        self.n_groups = blocks.n_groups
        self.group = blocks.group.astype(np.int64)
        self.cell = self.group * self.q + blocks.member.astype(np.int64)
        self.n_cells = self.n_groups * self.q
        n = len(y)
        self.P = sparse.csr_matrix(
            (np.ones(n), (np.arange(n), self.cell)), shape=(n, self.n_cells)
        ).T.tocsr()
        self.p = X.shape[1]
        self.nt = structure.n_theta
        self.n_par = self.p + self.nt + (1 if family.has_dispersion else 0)
        self.u = np.zeros((self.n_groups, self.q))

    # --- pieces -----------------------------------------------------------------------
    def split(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray, float | None]:
        beta = params[: self.p]
        theta = params[self.p : self.p + self.nt]
        size = float(np.exp(params[-1])) if self.family.has_dispersion else None
        return beta, theta, size

    def _sums(self, values: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.bincount(self.cell, values, minlength=self.n_cells).reshape(
            self.n_groups, -1
        )
        return out

    def _state(
        self, xb: np.ndarray, lam: np.ndarray, size: float | None, u: np.ndarray
    ) -> dict[str, Any]:
        eta = xb + (u @ lam.T).ravel()[self.cell]
        lp, s, w, dw = self.family.derivatives(self.y, eta, size)
        f = np.bincount(self.group, lp, minlength=self.n_groups) - 0.5 * np.sum(u * u, axis=1)
        return {"u": u, "eta": eta, "lp": lp, "s": s, "w": w, "dw": dw, "f": f}

    def modes(self, beta: np.ndarray, lam: np.ndarray, size: float | None) -> dict[str, Any]:
        """Conditional modes of the spherical random effects (batched Newton, step-halving)."""
        xb = self.X @ beta
        eye = np.eye(self.q)
        st = self._state(xb, lam, size, self.u.copy())
        for _ in range(100):
            S = self._sums(st["s"])
            D = self._sums(st["w"])
            H = np.einsum("mk,gm,ml->gkl", lam, D, lam) + eye
            step = np.linalg.solve(H, (S @ lam - st["u"])[..., None])[..., 0]
            if not np.all(np.isfinite(step)):
                step = np.nan_to_num(step)
            if np.max(np.abs(step), initial=0.0) < _MODE_TOL:
                break
            new = self._state(xb, lam, size, st["u"] + step)
            # step-halving for the groups whose objective went down
            for _half in range(30):
                bad = new["f"] < st["f"] - 1e-12 * (1 + np.abs(st["f"]))
                if not bad.any():
                    break
                step[bad] *= 0.5
                new = self._state(xb, lam, size, st["u"] + step)
            st = new
        else:  # pragma: no cover - Newton on a concave objective converges
            pass
        st["S"], st["D"], st["H"] = S, D, H
        self.u = st["u"]
        return st

    # --- the Laplace approximation and its exact gradient ------------------------------
    def laplace(self, params: np.ndarray, gradient: bool = True) -> tuple[float, np.ndarray]:
        """Laplace log-likelihood and (with ``gradient``) its gradient in ``params``."""
        beta, theta, size = self.split(params)
        lam = self.structure.lam(theta)
        st = self.modes(beta, lam, size)
        H = st["H"]
        _, logdet = np.linalg.slogdet(H)
        value = float(np.sum(st["f"]) - 0.5 * np.sum(logdet))
        if not gradient:
            return value, np.zeros(0)
        u, S, D = st["u"], st["S"], st["D"]
        s, w, dw = st["s"], st["w"], st["dw"]
        Hinv = np.linalg.inv(H)
        M = np.einsum("mk,gkl,nl->gmn", lam, Hinv, lam)
        Mdiag = np.einsum("gmm->gm", M)
        r = dw * Mdiag.ravel()[self.cell]
        R = self._sums(r)
        A = (self.P @ (w[:, None] * self.X)).reshape(self.n_groups, self.q, self.p)
        g_beta = self.X.T @ s - 0.5 * (self.X.T @ r - np.einsum("gm,gmn,gnp->p", R, M, A))
        Wp = self._sums(dw)
        g_theta = np.empty(self.nt)
        for k, dL in enumerate(self.structure.dlam(theta)):
            dLu = u @ dL.T
            rhs = S @ dL - (D * dLu) @ lam
            du = np.einsum("gkl,gl->gk", Hinv, rhs)
            v = dLu + du @ lam.T
            partial = np.sum(S * dLu)
            tr1 = 2.0 * np.einsum("gkl,ml,gm,mk->", Hinv, lam, D, dL)
            tr2 = np.sum(Mdiag * Wp * v)
            g_theta[k] = partial - 0.5 * (tr1 + tr2)
        grads = [g_beta, g_theta]
        if self.family.has_dispersion:  # the dispersion's part by central differences
            u0 = self.u.copy()
            g_disp = fd_gradient(
                lambda t: self.laplace(t, gradient=False)[0], params, 1e-4, [len(params) - 1]
            )
            self.u = u0
            grads.append(g_disp[-1:])
        return value, np.concatenate(grads)

    # --- adaptive Gauss–Hermite quadrature ---------------------------------------------
    def agq(self, params: np.ndarray, nagq: int) -> float:
        """Adaptive Gauss–Hermite log-likelihood with ``nagq`` nodes per dimension."""
        beta, theta, size = self.split(params)
        lam = self.structure.lam(theta)
        st = self.modes(beta, lam, size)
        if nagq == 1:
            return float(np.sum(st["f"]) - 0.5 * np.sum(np.linalg.slogdet(st["H"])[1]))
        nodes, weights = hermgauss(nagq)
        grids = np.meshgrid(*([nodes] * self.q), indexing="ij")
        t = np.column_stack([gr.ravel() for gr in grids])  # K × q
        logw = np.sum(np.log(np.meshgrid(*([weights] * self.q), indexing="ij")), axis=0).ravel()
        C = np.linalg.cholesky(np.linalg.inv(st["H"]))  # C C' = H^-1
        xb = self.X @ beta
        terms = np.empty((self.n_groups, len(t)))
        for k, tk in enumerate(t):
            uk = st["u"] + math.sqrt(2.0) * (C @ tk)
            eta = xb + (uk @ lam.T).ravel()[self.cell]
            lp = self.family.log_density(self.y, eta, size)
            h = np.bincount(self.group, lp, minlength=self.n_groups) - 0.5 * np.sum(uk * uk, 1)
            terms[:, k] = h + tk @ tk + logw[k]
        top = terms.max(axis=1)
        lse = top + np.log(np.sum(np.exp(terms - top[:, None]), axis=1))
        logdet_c = np.sum(np.log(np.einsum("gkk->gk", C)), axis=1)
        return float(np.sum(lse + logdet_c) - self.n_groups * self.q / 2 * math.log(math.pi))


def _glm_start(X: np.ndarray, y: np.ndarray, family: Family) -> tuple[np.ndarray, float | None]:
    """Fixed effects of the GLM without random effects (IRLS), and an NB size by moments."""
    beta = np.zeros(X.shape[1])
    mean = float(np.mean(y))
    if family.link == "logit":
        beta_eta = math.log(max(mean, 1e-3) / max(1 - mean, 1e-3))
    else:
        beta_eta = math.log(max(mean, 1e-3))
    eta = np.full(len(y), beta_eta)
    fam = FAMILIES["binomial" if family.link == "logit" else "poisson"]
    for _ in range(25):
        _, s, w, _ = fam.derivatives(y, eta, None)
        z = eta + s / np.maximum(w, 1e-10)
        XtW = X.T * w
        try:
            new = np.linalg.solve(XtW @ X + 1e-8 * np.eye(X.shape[1]), XtW @ z)
        except np.linalg.LinAlgError:
            break
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
        eta = np.clip(X @ beta, -30, 30)
    size = None
    if family.has_dispersion:
        mu = fam.mean(X @ beta)
        excess = float(np.mean((y - mu) ** 2 - mu))
        size = float(np.clip(np.mean(mu**2) / excess, 0.05, 100.0)) if excess > 0 else 10.0
    return beta, size


def _rel(x: np.ndarray, h: float) -> np.ndarray:
    """Finite-difference steps relative to the parameters' size (at least ``h``)."""
    out: np.ndarray = h * np.maximum(1.0, np.abs(x))
    return out


def fit_glmm(
    X: np.ndarray,
    y: np.ndarray,
    blocks: Blocks,
    family: str,
    structure: Structure,
    *,
    nagq: int = 1,
) -> GlmmFit:
    """Maximise the Laplace (``nagq = 1``) or AGQ log-likelihood; see the module docstring."""
    # far from the optimum exp() may overflow and a trial point may be infinite; the
    # search steps back from those points, so numpy's warnings would only be noise
    with (
        np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"),
        blas_single_thread(),
    ):
        return _fit(X, y, blocks, family, structure, nagq)


def _fit(
    X: np.ndarray, y: np.ndarray, blocks: Blocks, family: str, structure: Structure, nagq: int
) -> GlmmFit:
    fam = FAMILIES[family]
    # columns scaled to unit root-mean-square: the search sees a well-conditioned problem
    scale = np.sqrt(np.mean(X**2, axis=0))
    scale[scale == 0] = 1.0
    Xs = X / scale
    prob = GlmmProblem(Xs, y, blocks, fam, structure)
    beta0, size0 = _glm_start(Xs, y, fam)
    x0 = np.concatenate([beta0, structure.start(), [math.log(size0)] if size0 is not None else []])
    bounds: list[tuple[float | None, float | None]] = [(None, None)] * prob.p
    bounds += structure.bounds()
    if fam.has_dispersion:
        bounds.append((-10.0, 15.0))

    def neg(x: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = prob.laplace(x)
        if not np.isfinite(v):
            return 1e300, np.zeros_like(x)
        return -v, -g

    res = optimize.minimize(
        neg,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": _MAXITER, "maxfun": 2 * _MAXITER, "ftol": 1e-14, "gtol": 1e-9},
    )
    x = res.x
    iterations = int(res.nit)
    message = str(res.message)
    lower = np.array([-np.inf if b[0] is None else b[0] for b in bounds])

    def free_of(x: np.ndarray) -> np.ndarray:
        free = np.ones(len(x), dtype=bool)
        for k in structure.at_boundary(x[prob.p : prob.p + prob.nt]):
            free[prob.p + k] = False
        return free

    def grad_of(x: np.ndarray) -> np.ndarray:
        return prob.laplace(x)[1]

    def value_of(x: np.ndarray) -> float:
        return prob.agq(x, nagq) if nagq > 1 else prob.laplace(x, gradient=False)[0]

    if nagq > 1:
        # from the Laplace solution, the AGQ optimum by a search on a difference gradient
        def neg_agq(x: np.ndarray) -> tuple[float, np.ndarray]:
            return -value_of(x), -fd_gradient(value_of, x, _rel(x, 1e-5))

        res2 = optimize.minimize(
            neg_agq,
            x,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": _MAXITER, "ftol": 1e-14, "gtol": 1e-7},
        )
        x = res2.x
        iterations += int(res2.nit)
        message = str(res2.message)
    # Newton steps to finish, with the Hessian by differences of the gradient
    free = free_of(x)
    hess = np.zeros((0, 0))
    for step_no in range(max(_NEWTON_STEPS, 1)):
        free = free_of(x)
        idx = np.flatnonzero(free)
        if nagq > 1:  # AGQ has no exact gradient: differences of the value
            hess = -fd_derivatives(value_of, x, value_of(x), idx, _rel(x, 1e-3))[1]
            g = fd_gradient(value_of, x, _rel(x, 1e-5), idx)
        else:
            hess = -fd_hessian(grad_of, x, _rel(x, 1e-4), idx)
            g = grad_of(x)
        gf = g[free]
        if step_no >= _NEWTON_STEPS:
            break
        try:
            step = np.linalg.solve(hess, gf)
        except np.linalg.LinAlgError:
            break
        if np.max(np.abs(gf), initial=0.0) < 1e-8 or not np.all(np.isfinite(step)):
            break
        cand = x.copy()
        cand[free] = np.maximum(x[free] + step, lower[free])
        if value_of(cand) >= value_of(x) - 1e-10:
            x = cand
        else:
            break
    loglik = value_of(x)
    gfinal = (
        fd_gradient(value_of, x, _rel(x, 1e-5), np.flatnonzero(free))
        if nagq > 1
        else grad_of(x) * free.astype(float)
    )
    beta_s, theta, size = prob.split(x)
    vcov_s = np.full((prob.p, prob.p), np.nan)
    pos_def = False
    try:
        eig = np.linalg.eigvalsh(hess)
        pos_def = bool(eig.size and eig.min() > 0)
        if pos_def:
            full = np.linalg.inv(hess)
            vcov_s = full[: prob.p, : prob.p]
    except np.linalg.LinAlgError:
        pass
    converged = bool(np.max(np.abs(gfinal), initial=0.0) < _GRAD_TOL and pos_def)
    if not converged:
        worst = float(np.max(np.abs(gfinal), initial=0.0))
        message = f"{message}; largest gradient {worst:.2g}" + (
            "" if pos_def else "; the Hessian is not positive definite"
        )
    lam = structure.lam(theta)
    prob.modes(beta_s, lam, size)
    b = prob.u @ lam.T
    eta = Xs @ beta_s + b.ravel()[prob.cell]
    boundary = (
        ["a random-intercept SD is estimated at zero"] if structure.at_boundary(theta) else []
    )
    return GlmmFit(
        beta=beta_s / scale,
        vcov=vcov_s / np.outer(scale, scale),
        theta=theta.copy(),
        G=lam @ lam.T,
        dispersion=size,
        loglik=float(loglik),
        n_params=prob.n_par,
        n_obs=len(y),
        n_groups=prob.n_groups,
        converged=converged,
        message=message,
        iterations=iterations,
        nagq=nagq,
        modes=b,
        mu=fam.mean(eta),
        boundary=boundary,
        gradient=gfinal,
    )
