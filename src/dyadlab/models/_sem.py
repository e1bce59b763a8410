"""Maximum likelihood for small structured normal models (lavaan-equivalent).

One dyad is one row of a dyad-wide matrix: the two outcomes ``y_1, y_2`` and the
exogenous variables (predictors of both members, covariates, products). The model
implies a mean vector and a covariance matrix for that row,

.. math::

    \\mu_y = \\alpha + B\\mu_x,\\quad \\Sigma_{yy} = B\\Sigma_{xx}B' + \\Psi,\\quad
    \\Sigma_{yx} = B\\Sigma_{xx},

with ``B`` the 2 × m regression matrix, ``alpha`` the intercepts and ``Psi`` the 2 × 2
residual covariance. Parameters may be shared (equality constraints by label, as
lavaan's ``a*x`` labels). The exogenous moments are either fixed at their sample values
(lavaan's ``fixed.x = TRUE``) or parameters themselves (``fixed.x = FALSE``).

The log-likelihood is full-information ML (lavaan's ``missing = "ml"``): every row
contributes the normal density of its observed entries; rows are grouped by missing
pattern so that each pattern costs one Cholesky factorisation. Frequency weights per
row (used by the bootstrap) multiply each row's contribution.

Standard errors equal lavaan 0.6.14's: the observed information (the Hessian) with
fixed exogenous variables or missing values (for the saturated APIM it equals the
expected information); the expected information for complete data with free x.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> x = rng.normal(size=(200, 2)); y = x @ [[0.5, 0.2], [0.1, 0.4]] + rng.normal(size=(200, 2))
>>> spec = apim_spec(2, [[0, 1], [1, 0]], equal=())
>>> fit = fit_sem(np.column_stack([y, x]), spec)
>>> bool(fit.converged)
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize

from dyadlab.models._bootstrap import safe_solve
from dyadlab.models._numerics import fd_hessian, newton_batch
from dyadlab.models._numerics import saturated_loglik as complete_saturated_loglik
from dyadlab.models._sem_gls import iterated_gls

__all__ = [
    "SemData",
    "SemFit",
    "SemSpec",
    "apim_spec",
    "complete_moments",
    "exo_loglik",
    "fit_sem",
    "saturated_loglik",
    "sem_data",
]

Array = NDArray[np.float64]
_LOG2PI = float(np.log(2 * np.pi))


@dataclass
class SemSpec:
    """Which parameter sits where.

    Index arrays hold a parameter number (0-based) or -1 for a fixed zero.

    Attributes
    ----------
    n_exo : int
        Number of exogenous variables ``m``.
    b_idx : ndarray (2, m)
        Regression coefficients of ``y_1`` and ``y_2`` on the exogenous variables.
    a_idx : ndarray (2,)
        Intercepts.
    psi_idx : ndarray (3,)
        Residual variances of ``y_1``, ``y_2`` and their covariance.
    fixed_x : bool
        Exogenous moments fixed at their sample values.
    mx_idx, sx_idx : ndarray
        Exogenous means (m,) and covariance (m, m) parameters when not ``fixed_x``.
    names : list of str
        One label per parameter.
    """

    n_exo: int
    b_idx: NDArray[np.int64]
    a_idx: NDArray[np.int64]
    psi_idx: NDArray[np.int64]
    fixed_x: bool = True
    mx_idx: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    sx_idx: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    names: list[str] = field(default_factory=list)

    @property
    def n_params(self) -> int:
        return len(self.names)


def apim_spec(
    n_exo: int,
    terms: Sequence[Sequence[int]],
    *,
    equal: Sequence[str] = (),
    term_groups: Sequence[str] | None = None,
    fixed_x: bool = True,
    swap: Sequence[int] | None = None,
) -> SemSpec:
    """Build the parameter layout of a two-outcome APIM.

    Parameters
    ----------
    n_exo : int
        Number of exogenous columns.
    terms : sequence of 2 sequences
        ``terms[r][k]`` is the exogenous column of the k-th term of outcome r; term k
        of both outcomes has the same meaning (e.g. "actor effect of x").
    equal : sequence of str
        Which parts are equal across the two outcomes: any of ``"intercept"``,
        ``"variance"`` and the group names in ``term_groups``; ``"all"`` for every one.
    term_groups : sequence of str, optional
        A group name per term (``"actor"``, ``"partner"``, ``"other"``).
    fixed_x : bool
        lavaan's ``fixed.x``.
    swap : sequence of int, optional
        When not ``fixed_x``: the exogenous column that takes the place of each column
        when the members are relabelled; moments are constrained equal under it
        (indistinguishable dyads, Olsen & Kenny 2006). None leaves them free.
    """
    n_terms = len(terms[0])
    groups = list(term_groups) if term_groups is not None else ["other"] * n_terms
    every = "all" in equal
    names: list[str] = []

    def new(name: str) -> int:
        names.append(name)
        return len(names) - 1

    b_idx = -np.ones((2, n_exo), dtype=np.int64)
    shared: dict[int, int] = {}
    for r in range(2):
        for k in range(n_terms):
            if every or groups[k] in equal:
                if k not in shared:
                    shared[k] = new(f"b_{k}")
                b_idx[r, terms[r][k]] = shared[k]
            else:
                b_idx[r, terms[r][k]] = new(f"b{r + 1}_{k}")
    if every or "intercept" in equal:
        i = new("i")
        a_idx = np.array([i, i])
    else:
        a_idx = np.array([new("i1"), new("i2")])
    if every or "variance" in equal:
        v = new("v")
        psi_idx = np.array([v, v, new("c12")])
    else:
        v1, v2 = new("v1"), new("v2")
        psi_idx = np.array([v1, v2, new("c12")])
    spec = SemSpec(n_exo=n_exo, b_idx=b_idx, a_idx=a_idx, psi_idx=psi_idx, fixed_x=fixed_x)
    if not fixed_x:
        perm = list(swap) if swap is not None else list(range(n_exo))
        mx = -np.ones(n_exo, dtype=np.int64)
        for j in range(n_exo):
            key = min(j, perm[j]) if swap is not None else j
            if mx[key] < 0:
                mx[key] = new(f"mx_{key}")
            mx[j] = mx[key]
        sx = -np.ones((n_exo, n_exo), dtype=np.int64)
        seen: dict[tuple[int, int], int] = {}
        for j in range(n_exo):
            for k in range(j, n_exo):
                key2 = (j, k)
                if swap is not None:
                    alt = tuple(sorted((perm[j], perm[k])))
                    key2 = min(key2, (alt[0], alt[1]))
                if key2 not in seen:
                    seen[key2] = new(f"sx_{key2[0]}_{key2[1]}")
                sx[j, k] = sx[k, j] = seen[key2]
        spec.mx_idx, spec.sx_idx = mx, sx
    spec.names = names
    return spec


def _fill(idx: NDArray[np.int64], theta: Array) -> Array:
    out = np.where(idx >= 0, theta[np.maximum(idx, 0)], 0.0)
    return np.asarray(out, dtype=float)


def implied(spec: SemSpec, theta: Array, mx: Array, sx: Array) -> tuple[Array, Array]:
    """Model-implied mean and covariance of ``(y_1, y_2, x_1..x_m)``."""
    b = _fill(spec.b_idx, theta)
    a = _fill(spec.a_idx, theta)
    p = _fill(spec.psi_idx, theta)
    if not spec.fixed_x:
        mx = _fill(spec.mx_idx, theta)
        sx = _fill(spec.sx_idx, theta)
    psi = np.array([[p[0], p[2]], [p[2], p[1]]])
    m = spec.n_exo
    mu = np.concatenate([a + b @ mx, mx])
    sig = np.empty((2 + m, 2 + m))
    bsx = b @ sx
    sig[:2, :2] = bsx @ b.T + psi
    sig[:2, 2:] = bsx
    sig[2:, :2] = bsx.T
    sig[2:, 2:] = sx
    return mu, sig


@dataclass
class _Pattern:
    obs: NDArray[np.intp]
    n: float  # weighted number of rows
    mean: Array  # weighted mean of the observed entries
    cross: Array  # weighted sum of centred cross-products


def _patterns(data: Array, weights: Array) -> list[_Pattern]:
    miss = np.isnan(data)
    if not miss.any():  # complete data: one pattern, the sample moments
        n = float(weights.sum())
        if n <= 0:
            return []
        mean = (weights @ data) / n
        c = data - mean
        return [_Pattern(np.arange(data.shape[1]), n, mean, (c * weights[:, None]).T @ c)]
    # one integer code per missing pattern (np.unique on rows sorts far slower)
    codes = miss @ (1 << np.arange(data.shape[1], dtype=np.int64))
    keys, inverse = np.unique(codes, return_inverse=True)
    out = []
    for k in range(len(keys)):
        rows = inverse.ravel() == k
        obs = np.flatnonzero(~miss[np.argmax(rows)])
        if obs.size == 0:
            continue
        w = weights[rows]
        if w.sum() <= 0:
            continue
        d = data[np.ix_(rows, obs)]
        mean = (w @ d) / w.sum()
        c = d - mean
        out.append(_Pattern(obs, float(w.sum()), mean, (c * w[:, None]).T @ c))
    return out


def _loglik_grad(
    pats: list[_Pattern], mu: Array, sig: Array, grad: bool
) -> tuple[float, Array, Array]:
    ll = 0.0
    g_mu = np.zeros_like(mu)
    g_sig = np.zeros_like(sig)
    for pt in pats:
        o = pt.obs
        s = sig[np.ix_(o, o)]
        try:
            chol = np.linalg.cholesky(s)
            inv = np.linalg.inv(s)
        except np.linalg.LinAlgError:
            return -np.inf, g_mu, g_sig
        if not np.all(np.isfinite(inv)):
            return -np.inf, g_mu, g_sig
        dm = pt.mean - mu[o]
        full = pt.cross + pt.n * np.outer(dm, dm)
        logdet = 2 * np.log(np.diag(chol)).sum()
        ll -= 0.5 * (pt.n * (len(o) * _LOG2PI + logdet) + np.sum(inv * full))
        if grad:
            g_mu[o] += pt.n * (inv @ dm)
            g_sig[np.ix_(o, o)] += 0.5 * (inv @ full @ inv - pt.n * inv)
    return ll, g_mu, g_sig


def _chain(spec: SemSpec, theta: Array, mx: Array, sx: Array, g_mu: Array, g_sig: Array) -> Array:
    """Gradient in ``theta`` from the gradients in the implied mean and covariance.

    The chain rule through :func:`implied` written out, so that a gradient costs a few
    small matrix products rather than the 2k evaluations of :func:`_jacobians`.
    """
    b = _fill(spec.b_idx, theta)
    if not spec.fixed_x:
        mx = _fill(spec.mx_idx, theta)
        sx = _fill(spec.sx_idx, theta)
    gy, gx = g_mu[:2], g_mu[2:]
    gyy, gyx, gxy, gxx = g_sig[:2, :2], g_sig[:2, 2:], g_sig[2:, :2], g_sig[2:, 2:]
    # mu_y = a + B mx; Sigma_yy = B Sx B' + Psi; Sigma_yx = B Sx; Sigma_xy = Sx B'
    d_b = np.outer(gy, mx) + (gyy + gyy.T) @ b @ sx + gyx @ sx + gxy.T @ sx
    k = len(theta)
    grad = np.zeros(k)

    def add(idx: NDArray[np.int64], values: Array) -> None:
        on = idx >= 0
        grad[:] += np.bincount(idx[on], weights=values[on], minlength=k)

    add(spec.b_idx, d_b)
    add(spec.a_idx, gy)
    add(spec.psi_idx, np.array([gyy[0, 0], gyy[1, 1], gyy[0, 1] + gyy[1, 0]]))
    if not spec.fixed_x:
        add(spec.mx_idx, b.T @ gy + gx)
        add(spec.sx_idx, b.T @ gyy @ b + b.T @ gyx + gxy @ b + gxx)
    return grad


def _jacobians(spec: SemSpec, theta: Array, mx: Array, sx: Array) -> tuple[Array, Array]:
    """d mu / d theta and d Sigma / d theta; exact: implied() is quadratic in theta.

    Central differences with unit steps, all 2k implied moments in one batch
    (:func:`_implied_batch`).
    """
    k = len(theta)
    eye = np.eye(k)
    mu, sig = _implied_batch(spec, np.concatenate([theta + eye, theta - eye]), mx, sx)
    jm = ((mu[:k] - mu[k:]) / 2).T
    js = ((sig[:k] - sig[k:]) / 2).transpose(1, 2, 0)
    return jm, js


def _implied_batch(spec: SemSpec, thetas: Array, mx: Array, sx: Array) -> tuple[Array, Array]:
    """:func:`implied` for every row of ``thetas`` (K, k): means (K, p), covariances
    (K, p, p)."""

    def fill(idx: NDArray[np.int64]) -> Array:
        return np.where(idx >= 0, thetas[:, np.maximum(idx, 0)], 0.0)

    b, a, p = fill(spec.b_idx), fill(spec.a_idx), fill(spec.psi_idx)
    n_theta, m = len(thetas), spec.n_exo
    if spec.fixed_x:
        mxs = np.broadcast_to(mx, (n_theta, m))
        sxs = np.broadcast_to(sx, (n_theta, m, m))
    else:
        mxs, sxs = fill(spec.mx_idx), fill(spec.sx_idx)
    mu = np.concatenate([a + (b @ mxs[:, :, None])[:, :, 0], mxs], axis=1)
    bsx = b @ sxs
    sig = np.empty((n_theta, 2 + m, 2 + m))
    sig[:, :2, :2] = bsx @ b.transpose(0, 2, 1)
    sig[:, 0, 0] += p[:, 0]
    sig[:, 1, 1] += p[:, 1]
    sig[:, 0, 1] += p[:, 2]
    sig[:, 1, 0] += p[:, 2]
    sig[:, :2, 2:] = bsx
    sig[:, 2:, :2] = bsx.transpose(0, 2, 1)
    sig[:, 2:, 2:] = sxs
    return mu, sig


@dataclass
class SemData:
    """Dyad rows reduced to what the likelihood needs, made once for several fits.

    The log-likelihood depends on the rows only through, per missing pattern, the
    (weighted) count, mean and centred cross-products. With complete data that is one
    pattern, the sample moments, and no fit goes back to the rows (lavaan's way); with
    missing values the rows are kept for the start values (FIML).
    """

    pats: list[_Pattern]
    n: float
    complete: bool
    mx: Array  # exogenous sample means and covariance (lavaan's fixed.x)
    sx: Array
    rows: Array  # the rows kept (none when complete)
    w: Array


def sem_data(data: Array, weights: Array | None = None) -> SemData:
    """Reduce ``data`` (rows = dyads; y_1, y_2, exogenous) to its pattern moments.

    Rows whose every entry is missing are left out.

    Examples
    --------
    >>> d = sem_data(np.array([[1.0, 2, 0], [2, 1, 1], [3, 5, 0]]))
    >>> d.complete, d.n, d.mx.tolist()
    (True, 3.0, [0.3333333333333333])
    """
    data = np.asarray(data, dtype=float)
    if weights is None:
        sd = complete_moments(data)
        if sd is not None:
            return sd
    w = np.ones(len(data)) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(data).all(axis=1)
    data, w = data[keep], w[keep]
    n = float(w.sum())
    pats = _patterns(data, w)
    complete = len(pats) == 1 and len(pats[0].obs) == data.shape[1]
    if complete:
        mx = pats[0].mean[2:]
        sx = pats[0].cross[2:, 2:] / n
        return SemData(pats, n, True, mx, sx, data[:0], w[:0])
    x = data[:, 2:]
    mx = (w @ x) / n
    xc = x - mx
    return SemData(pats, n, False, mx, (xc * w[:, None]).T @ xc / n, data, w)


def complete_moments(data: Array) -> SemData | None:
    """:func:`sem_data` of rows with no missing value, or None when one is missing.

    One matrix-vector product gives the column sums (NaN when a value is missing: the
    test for complete rows and the means at once; NumPy's ``sum(axis=0)`` of a tall,
    narrow matrix is many times slower) and one centred copy the cross-products.

    Examples
    --------
    >>> complete_moments(np.array([[1.0, 2, 0], [2, 1, 1], [3, 5, 0]])).n
    3.0
    >>> complete_moments(np.array([[1.0, np.nan, 0], [2, 1, 1]])) is None
    True
    """
    data = np.asarray(data, dtype=float)
    if not len(data):
        return None
    total = np.ones(len(data)) @ data
    if np.isnan(total).any():
        return None
    n = float(len(data))
    mean = total / n
    c = data - mean
    cross = c.T @ c
    pats = [_Pattern(np.arange(data.shape[1]), n, mean, cross)]
    return SemData(pats, n, True, mean[2:], cross[2:, 2:] / n, data[:0], np.ones(0))


@dataclass
class SemFit:
    """An ML fit: parameters, their covariance matrix and the log-likelihood."""

    theta: Array
    vcov: Array
    loglik: float
    n: float
    converged: bool
    names: list[str]
    iterations: int = 0


def fit_sem(
    data: Array | SemData,
    spec: SemSpec,
    *,
    weights: Array | None = None,
    start: Array | None = None,
    information: str | None = None,
    tol: float = 1e-10,
    compute_se: bool = True,
    hess_inv: Array | None = None,
    optimizer: str = "auto",
) -> SemFit:
    """Fit ``spec`` to ``data`` (rows = dyads; columns y_1, y_2, exogenous) by FIML.

    Rows whose every entry is missing are ignored. With ``spec.fixed_x`` the rows must
    have complete exogenous values (lavaan deletes the others). ``compute_se=False``
    skips the final Newton polish and the information matrix (for bootstrap refits);
    ``hess_inv`` (a parameter covariance matrix, e.g. of the full-data fit) starts BFGS
    with a good curvature estimate, so refits near the optimum take few iterations.
    ``data`` may be a :class:`SemData` from :func:`sem_data` (then without ``weights``),
    so that several models of the same rows share one pass over them.
    ``optimizer="auto"`` solves complete data with fixed x from the moments (least
    squares when saturated, else iterated GLS, :mod:`~dyadlab.models._sem_gls`) and
    uses BFGS where those do not apply or do not reach its gradient tolerance;
    ``"bfgs"`` always uses BFGS.
    """
    if optimizer not in ("auto", "bfgs"):
        raise ValueError(f"fit_sem(): optimizer must be 'auto' or 'bfgs', not {optimizer!r}.")
    if isinstance(data, SemData) and weights is not None:
        raise ValueError("fit_sem(): weights go with the rows; sem_data() already applied them.")
    sd = data if isinstance(data, SemData) else sem_data(data, weights)
    n, pats, complete = sd.n, sd.pats, sd.complete
    m = spec.n_exo
    if spec.fixed_x:
        mx, sx = sd.mx, sd.sx
    else:
        mx, sx = np.zeros(m), np.zeros((m, m))
    theta0 = _start(sd, spec) if start is None else np.asarray(start, float)

    def negll(theta: Array) -> tuple[float, Array]:
        mu, sig = implied(spec, theta, mx, sx)
        ll, gm, gs = _loglik_grad(pats, mu, sig, True)
        if not np.isfinite(ll):
            return 1e300, np.zeros_like(theta)
        return -ll / n, -_chain(spec, theta, mx, sx, gm, gs) / n

    options: dict[str, Any] = {"gtol": 1e-9, "maxiter": 2000}
    if hess_inv is not None and np.all(np.isfinite(hess_inv)):
        h0 = (np.asarray(hess_inv, dtype=float) + np.asarray(hess_inv, dtype=float).T) / 2 * n
        try:
            if np.linalg.eigvalsh(h0).min() > 0:
                options["hess_inv0"] = h0
        except np.linalg.LinAlgError:
            pass
    # complete data and one free regression per outcome on the same columns: the start
    # (least squares from the moments) is the ML solution; BFGS would stop at once
    closed = start is None and complete and _saturated(spec) and optimizer == "auto"
    res = _at_optimum(negll, theta0) if closed else None
    if res is None and complete and spec.fixed_x and optimizer == "auto" and pats:
        res = _gls_optimum(negll, spec, pats[0], n, theta0, options["gtol"])
    if res is None:
        res = optimize.minimize(negll, theta0, jac=True, method="BFGS", options=options)
    theta = res.x
    if not compute_se:
        k = len(theta)
        return SemFit(
            theta,
            np.full((k, k), np.nan),
            -float(res.fun) * n,
            n,
            bool(res.success),
            list(spec.names),
            int(res.nit),
        )
    # polish with Newton steps on the numerical Hessian of the analytic gradient
    # (the objective and gradient at theta are at hand when the optimum was solved for)
    known = (res.fun, res.jac) if isinstance(res, _Optimum) and res.jac is not None else None
    for _ in range(3):
        gr = known[1] if known is not None else negll(theta)[1]
        if np.max(np.abs(gr)) < 1e-10:
            break
        h = fd_hessian(lambda t: negll(t)[1], theta, 1e-5 * np.maximum(1.0, np.abs(theta)))
        try:
            step = np.linalg.solve(h, gr)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1:
            break
        theta = theta - step
        known = None
        if np.max(np.abs(step)) < tol:
            break
    f, gr = known if known is not None else negll(theta)
    converged = bool(np.isfinite(f) and f < 1e299 and np.max(np.abs(gr)) < 1e-6)
    ll = -f * n
    # lavaan 0.6.14's standard errors: with fixed.x = TRUE they equal the observed
    # information (the Hessian; identical to the expected one for saturated models);
    # with free x and complete data, the expected information
    # (at the ML solution of a saturated model with complete data the observed
    # information equals the expected one, which is analytic: no finite differences)
    at_closed = closed and res.nit == 0
    kind = information or (
        "expected" if complete and (not spec.fixed_x or at_closed) else "observed"
    )
    # a singular information matrix (too few dyads for the parameters, or nearly
    # collinear predictors) leaves the standard errors undefined: NaN, not converged
    k = len(theta)
    vcov: Array = np.full((k, k), np.nan)
    try:
        if kind == "expected":
            info = _expected_info(pats, spec, theta, mx, sx)
        else:
            info = n * fd_hessian(
                lambda t: negll(t)[1], theta, 1e-5 * np.maximum(1.0, np.abs(theta))
            )
        if np.all(np.isfinite(info)):
            vcov = np.asarray(np.linalg.inv(info), dtype=float)
    except np.linalg.LinAlgError:
        pass
    if not np.all(np.isfinite(vcov)) or np.any(np.diag(vcov) < 0):
        vcov = np.full((k, k), np.nan)
        converged = False
    return SemFit(theta, vcov, float(ll), n, converged, list(spec.names), int(res.nit))


def _saturated(spec: SemSpec) -> bool:
    """Fixed x, and each outcome has its own intercept, residual variance and free
    coefficients on the same exogenous columns: the multivariate regression whose ML
    estimates are least squares per outcome."""
    if not spec.fixed_x:
        return False
    used = [int(i) for i in spec.a_idx] + [int(i) for i in spec.psi_idx]
    used += [int(i) for i in spec.b_idx[spec.b_idx >= 0]]
    same_columns = bool(np.array_equal(spec.b_idx[0] >= 0, spec.b_idx[1] >= 0))
    return same_columns and min(used) >= 0 and len(set(used)) == len(used) == spec.n_params


@dataclass
class _Optimum:
    """What :func:`fit_sem` reads from :func:`scipy.optimize.minimize`'s result."""

    x: Array
    fun: float
    success: bool = True
    nit: int = 0
    jac: Array | None = None  # the gradient at x


def _at_optimum(negll: Any, theta: Array) -> _Optimum | None:
    """``theta`` as BFGS would return it without a step (gradient within its ``gtol``
    and the polish's 1e-10), or None when it is not the optimum."""
    f, g = negll(theta)
    if not (np.isfinite(f) and f < 1e299 and np.max(np.abs(g)) < 1e-10):
        return None
    return _Optimum(np.asarray(theta, dtype=float), float(f), jac=g)


def _gls_optimum(
    negll: Any, spec: SemSpec, pat: _Pattern, n: float, theta0: Array, gtol: float
) -> _Optimum | None:
    """The iterated-GLS solution from the moments, when BFGS would accept it as its
    own (gradient within ``gtol``); None otherwise (then BFGS runs from ``theta0``)."""
    got = iterated_gls(spec, pat.mean, pat.cross / n, theta0[spec.psi_idx])
    if got is None:
        return None
    theta, steps = got
    f, g = negll(theta)
    if not (np.isfinite(f) and f < 1e299 and np.max(np.abs(g)) <= gtol):
        return None
    return _Optimum(theta, float(f), nit=steps, jac=g)


def _expected_info(
    pats: list[_Pattern], spec: SemSpec, theta: Array, mx: Array, sx: Array
) -> Array:
    sig = implied(spec, theta, mx, sx)[1]
    jm, js = _jacobians(spec, theta, mx, sx)
    k = len(theta)
    info = np.zeros((k, k))
    for pt in pats:
        o = pt.obs
        inv = np.linalg.inv(sig[np.ix_(o, o)])
        a = jm[o]
        info += pt.n * a.T @ inv @ a
        d = js[np.ix_(o, o)].reshape(len(o) * len(o), k)
        kron = np.kron(inv, inv)
        info += pt.n * 0.5 * d.T @ kron @ d
    return info


def _start(sd: SemData, spec: SemSpec) -> Array:
    """Start values: per-outcome least squares on the rows where it is observed."""
    if sd.complete:
        return _start_from_moments(sd, spec)
    data, w = sd.rows, sd.w
    k = spec.n_params
    theta = np.zeros(k)
    cnt = np.zeros(k)
    x = data[:, 2:]
    resid = np.full((len(data), 2), np.nan)
    for r in range(2):
        cols = np.flatnonzero(spec.b_idx[r] >= 0)
        ok = ~np.isnan(data[:, r]) & ~np.isnan(x[:, cols]).any(axis=1)
        xx = np.column_stack([np.ones(ok.sum()), x[ok][:, cols]])
        sw = np.sqrt(w[ok])
        coef = np.linalg.lstsq(xx * sw[:, None], data[ok, r] * sw, rcond=None)[0]
        resid[ok, r] = data[ok, r] - xx @ coef
        theta[spec.a_idx[r]] += coef[0]
        cnt[spec.a_idx[r]] += 1
        for col, b in zip(cols, coef[1:], strict=True):
            theta[spec.b_idx[r, col]] += b
            cnt[spec.b_idx[r, col]] += 1
    both = ~np.isnan(resid).any(axis=1)
    v = [np.nanmean(resid[:, 0] ** 2), np.nanmean(resid[:, 1] ** 2)]
    cov = float(np.mean(resid[both, 0] * resid[both, 1])) if both.any() else 0.0
    for idx, val in zip(spec.psi_idx, [v[0], v[1], cov], strict=True):
        theta[idx] += val
        cnt[idx] += 1
    if not spec.fixed_x:
        xm = np.nanmean(x, axis=0)
        xc = x - xm
        for j in range(spec.n_exo):
            theta[spec.mx_idx[j]] += xm[j]
            cnt[spec.mx_idx[j]] += 1
            for kk in range(spec.n_exo):
                ok = ~np.isnan(xc[:, j]) & ~np.isnan(xc[:, kk])
                theta[spec.sx_idx[j, kk]] += float(np.mean(xc[ok, j] * xc[ok, kk]))
                cnt[spec.sx_idx[j, kk]] += 1
    return theta / np.maximum(cnt, 1)


def exo_loglik(sd: SemData) -> float:
    """Saturated log-likelihood of the (complete, fixed) exogenous columns of ``sd``.

    The part of a fixed-x fit's likelihood that lavaan leaves out; equals
    ``saturated_loglik(data[:, 2:])``, from the moments already at hand.
    """
    m = sd.sx.shape[0]
    logdet = float(np.linalg.slogdet(sd.sx)[1]) if m else 0.0
    return float(-0.5 * sd.n * (m * _LOG2PI + logdet + m))


def _start_from_moments(sd: SemData, spec: SemSpec) -> Array:
    """:func:`_start` for complete data, from the sample moments alone."""
    k = spec.n_params
    theta = np.zeros(k)
    cnt = np.zeros(k)
    mean, cov = sd.pats[0].mean, sd.pats[0].cross / sd.n
    coefs = []
    for r in range(2):
        cols = 2 + np.flatnonzero(spec.b_idx[r] >= 0)
        b = np.linalg.lstsq(cov[np.ix_(cols, cols)], cov[cols, r], rcond=None)[0]
        coefs.append((cols, b))
        theta[spec.a_idx[r]] += mean[r] - mean[cols] @ b
        cnt[spec.a_idx[r]] += 1
        for col, bj in zip(cols - 2, b, strict=True):
            theta[spec.b_idx[r, col]] += bj
            cnt[spec.b_idx[r, col]] += 1

    def resid_cov(r: int, s: int) -> float:
        (cr, br), (cs, bs) = coefs[r], coefs[s]
        return float(cov[r, s] - br @ cov[cr, s] - bs @ cov[cs, r] + br @ cov[np.ix_(cr, cs)] @ bs)

    for idx, val in zip(
        spec.psi_idx, [resid_cov(0, 0), resid_cov(1, 1), resid_cov(0, 1)], strict=True
    ):
        theta[idx] += val
        cnt[idx] += 1
    if not spec.fixed_x:
        for j in range(spec.n_exo):
            theta[spec.mx_idx[j]] += mean[2 + j]
            cnt[spec.mx_idx[j]] += 1
            for kk in range(spec.n_exo):
                theta[spec.sx_idx[j, kk]] += cov[2 + j, 2 + kk]
                cnt[spec.sx_idx[j, kk]] += 1
    return theta / np.maximum(cnt, 1)


def saturated_loglik(data: Array, weights: Array | None = None) -> float:
    """Log-likelihood of the unrestricted normal model (means and covariances free).

    Closed form for complete data; EM for data with missing values.
    """
    data = np.asarray(data, dtype=float)
    w = np.ones(len(data)) if weights is None else np.asarray(weights, dtype=float)
    keep = ~np.isnan(data).all(axis=1)
    data, w = data[keep], w[keep]
    n = w.sum()
    miss = np.isnan(data)
    mu = np.nanmean(data, axis=0)
    filled = np.where(miss, mu, data)
    if not miss.any():
        return complete_saturated_loglik(data, w)
    sig = np.cov(filled.T, aweights=w, bias=True) + np.diag(np.full(data.shape[1], 1e-6))
    pats = _patterns(data, w)
    old = -np.inf
    for _ in range(5000):
        # E step: expected sufficient statistics
        s1 = np.zeros_like(mu)
        s2 = np.zeros_like(sig)
        for i in range(len(data)):
            o = ~miss[i]
            u = miss[i]
            xi = data[i].copy()
            ci = np.zeros_like(sig)
            if u.any():
                if o.any():
                    soo = sig[np.ix_(o, o)]
                    try:
                        reg = np.linalg.solve(soo, sig[np.ix_(o, u)]).T
                    except np.linalg.LinAlgError:
                        return -np.inf
                    xi[u] = mu[u] + reg @ (data[i, o] - mu[o])
                    ci[np.ix_(u, u)] = sig[np.ix_(u, u)] - reg @ sig[np.ix_(o, u)]
                else:
                    xi[u] = mu[u]
                    ci[np.ix_(u, u)] = sig[np.ix_(u, u)]
            s1 += w[i] * xi
            s2 += w[i] * (np.outer(xi, xi) + ci)
        mu = s1 / n
        sig = s2 / n - np.outer(mu, mu)
        ll = float(_loglik_grad(pats, mu, sig, False)[0])
        if abs(ll - old) < 1e-11 * max(1.0, abs(ll)):
            break
        old = ll
    return ll


def fiml_fixed_x_batch(data: Array, spec: SemSpec, weights: Array, psi0: Array) -> Array:
    """ML estimates of a fixed-x APIM for many dyad-weight vectors at once (FIML).

    With the exogenous variables fixed and outcomes missing at random, the regression
    coefficients given the residual covariance ``Psi`` are generalised least squares,
    and every term of the likelihood is a weighted sum over dyads of fixed per-dyad
    cross-products. So all resamples share those cross-products (one matrix product
    with the weights), ``beta`` is profiled out, and the three parameters of ``Psi``
    are found by damped Newton steps run for all resamples together
    (:func:`~dyadlab.models._numerics.newton_batch`).

    Parameters
    ----------
    data : ndarray (n, 2 + m)
        ``y_1, y_2`` (may be missing) and complete exogenous columns.
    spec : SemSpec
        A fixed-x spec with three distinct residual parameters.
    weights : ndarray (b, n)
        Dyad weights per resample.
    psi0 : ndarray (3,)
        Start values ``(psi_11, psi_22, psi_12)``, e.g. the full-data estimates.

    Returns
    -------
    ndarray (b, n_params)
        Parameter vectors in ``spec`` order.
    """
    n = len(data)
    y = data[:, :2]
    obs = ~np.isnan(y)
    y0 = np.where(obs, y, 0.0)
    exo = data[:, 2:]
    psi_pos = [int(i) for i in spec.psi_idx]
    beta_params = [j for j in range(spec.n_params) if j not in psi_pos]
    pos = {j: i for i, j in enumerate(beta_params)}
    kb = len(beta_params)
    z = np.zeros((n, 2, kb))
    for r in range(2):
        z[:, r, pos[int(spec.a_idx[r])]] += 1.0
        for c in np.flatnonzero(spec.b_idx[r] >= 0):
            z[:, r, pos[int(spec.b_idx[r, c])]] += exo[:, c]
    both: NDArray[np.bool_] = np.asarray(obs.all(axis=1))
    only = [obs[:, 0] & ~obs[:, 1], obs[:, 1] & ~obs[:, 0]]

    def moments(mask: NDArray[np.bool_], i: int, j: int) -> tuple[Array, Array, Array]:
        w = weights * mask[None, :]
        zz = np.einsum("nk,nl->nkl", z[:, i], z[:, j]).reshape(n, kb * kb)
        zy = z[:, i] * y0[:, j][:, None]
        yy = y0[:, i] * y0[:, j]
        return (w @ zz).reshape(-1, kb, kb), w @ zy, w @ yy

    mb = {(i, j): moments(both, i, j) for i in range(2) for j in range(2)}
    m0 = moments(only[0], 0, 0)
    m1 = moments(only[1], 1, 1)
    n_both = weights @ both
    n0 = weights @ only[0]
    n1 = weights @ only[1]

    def unpack(t: Array) -> tuple[Array, Array, Array]:
        s1, s2 = np.exp(t[:, 0]), np.exp(t[:, 1])
        return s1, s2, np.tanh(t[:, 2]) * np.sqrt(s1 * s2)

    def profile(t: Array, rows: Any) -> tuple[Array, Array]:
        """Log-likelihood (beta profiled out) and beta of the resamples ``rows``."""
        s1, s2, c = unpack(t)
        det = s1 * s2 - c**2
        pinv = np.stack([np.stack([s2, -c], -1), np.stack([-c, s1], -1)], -2) / det[:, None, None]
        a = m0[0][rows] / s1[:, None, None] + m1[0][rows] / s2[:, None, None]
        b = m0[1][rows] / s1[:, None] + m1[1][rows] / s2[:, None]
        q = m0[2][rows] / s1 + m1[2][rows] / s2
        for (i, j), (zz, zy, yy) in mb.items():
            p = pinv[:, i, j]
            a = a + p[:, None, None] * zz[rows]
            b = b + p[:, None] * zy[rows]
            q = q + p * yy[rows]
        beta = safe_solve(a, b[:, :, None])[:, :, 0]
        quad = q - np.einsum("bk,bk->b", b, beta)
        ll = -0.5 * (
            n_both[rows] * (2 * _LOG2PI + np.log(det))
            + n0[rows] * (_LOG2PI + np.log(s1))
            + n1[rows] * (_LOG2PI + np.log(s2))
            + quad
        )
        return np.asarray(ll, dtype=float), np.asarray(beta, dtype=float)

    b_count = len(weights)
    r0 = psi0[2] / np.sqrt(psi0[0] * psi0[1])
    t = np.tile([np.log(psi0[0]), np.log(psi0[1]), np.arctanh(r0)], (b_count, 1))
    t, _ = newton_batch(lambda t, rows: -profile(t, rows)[0], t, max_iter=50)
    beta_hat = profile(t, slice(None))[1]
    s1, s2, cov = unpack(t)
    out = np.empty((b_count, spec.n_params))
    out[:, beta_params] = beta_hat
    out[:, psi_pos[0]], out[:, psi_pos[1]], out[:, psi_pos[2]] = s1, s2, cov
    return out
