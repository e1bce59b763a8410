"""Numerics shared by every estimator: finite differences, Newton steps, normal likelihoods.

Written once here and used by the engine (``_engine``), the SEM (``_sem``), the APIM,
mediation and nonindependence fits.

Examples
--------
>>> import numpy as np
>>> f = lambda t: float((t[0] - 1) ** 2 + 2 * (t[1] + 0.5) ** 2)
>>> t, ft, steps, ok, cov = newton_polish(f, np.zeros(2), f(np.zeros(2)),
...                                       np.full(2, -5.0), np.full(2, 5.0))
>>> np.round(t, 6).tolist(), ok
([1.0, -0.5], True)
>>> z = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]])
>>> round(saturated_loglik(z), 4)
-8.3982
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "blas_single_thread",
    "fd_combine",
    "fd_derivatives",
    "fd_gradient",
    "fd_hessian",
    "fd_offsets",
    "newton_batch",
    "newton_polish",
    "normal_loglik",
    "saturated_loglik",
]

Array = np.ndarray


@functools.cache
def _blas_controller() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def blas_single_thread() -> Iterator[None]:
    """Run the block with one BLAS thread.

    An optimiser on a few parameters (L-BFGS-B on a GLMM's 9) calls BLAS on tiny
    vectors hundreds of times; OpenBLAS's thread hand-off costs more than the work, and
    on a busy machine it made a binomial diary fit 3× slower (0.45 s against 0.13 s).
    The controller is built once: entering costs about 0.1 ms.

    Examples
    --------
    >>> with blas_single_thread():
    ...     float(np.dot(np.ones(3), np.ones(3)))
    3.0
    """
    with _blas_controller().limit(limits=1, user_api="blas"):
        yield


def _steps(t: Array, steps: Array | float) -> Array:
    return np.broadcast_to(np.asarray(steps, dtype=float), (len(t),))


def fd_gradient(
    f: Callable[[Array], float],
    t: Array,
    steps: Array | float,
    inner: Array | Sequence[int] | None = None,
    *,
    at: float | None = None,
) -> Array:
    """Gradient of ``f`` by central differences over the ``inner`` positions (all by
    default; zero elsewhere), with a step per position or one for all; with ``at``
    (``f(t)``), forward differences: one evaluation per position, divided by the step
    actually taken (``(t + h) - t`` in floating point), as scipy's 2-point rule.

    Examples
    --------
    >>> fd_gradient(lambda t: float(t @ t), np.array([1.0, 2.0]), 1e-5).round(6).tolist()
    [2.0, 4.0]
    """
    h = _steps(t, steps)
    g = np.zeros(len(t))
    for i in range(len(t)) if inner is None else inner:
        e = np.zeros(len(t))
        e[i] = h[i]
        if at is None:
            g[i] = (f(t + e) - f(t - e)) / (2 * h[i])
        else:
            up = t + e
            g[i] = (f(up) - at) / (up[i] - t[i])
    return g


def fd_offsets(h: Array) -> Array:
    """The offsets (S, k) of central second differences with steps ``h`` (k,).

    ``+h_i e_i`` for every i, then ``-h_i e_i``, then for every pair ``b < a`` the four
    ``±h_a e_a ± h_b e_b`` (``++, +-, -+, --``): ``S = 2k²`` points, the order
    :func:`fd_combine` reads them in.
    """
    k = len(h)
    E = np.diag(h)
    rows = [E[i] for i in range(k)] + [-E[i] for i in range(k)]
    for a in range(k):
        for b in range(a):
            rows += [E[a] + E[b], E[a] - E[b], -E[a] + E[b], -E[a] - E[b]]
    return np.array(rows, dtype=float).reshape(len(rows), k)


def fd_combine(ft: Array | float, fv: Array, h: Array) -> tuple[Array, Array]:
    """Gradient (..., k) and Hessian (..., k, k) from ``f`` at the centre (``ft``, (...))
    and at the points of :func:`fd_offsets` (``fv``, (..., S)), by central differences."""
    k = len(h)
    fp, fm = fv[..., :k], fv[..., k : 2 * k]
    g = (fp - fm) / (2 * h)
    H = np.empty((*fv.shape[:-1], k, k))
    diag = np.arange(k)
    H[..., diag, diag] = (fp - 2 * np.asarray(ft)[..., None] + fm) / (h * h)
    s = 2 * k
    for a in range(k):
        for b in range(a):
            pp, pm, mp, mm = (fv[..., s + c] for c in range(4))
            H[..., a, b] = H[..., b, a] = (pp - pm - mp + mm) / (4 * h[a] * h[b])
            s += 4
    return g, H


def fd_derivatives(
    f: Callable[[Array], float], t: Array, ft: float, inner: Array, h: Array | float
) -> tuple[Array, Array]:
    """Gradient and Hessian of ``f`` over the ``inner`` positions by central differences.

    ``ft`` is ``f(t)``; ``h`` a step (per position, or one for all) large enough to be
    immune to rounding in ``f``. ``f`` is called at the points of :func:`fd_offsets` in
    their order (all ``+h_i``, all ``-h_i``, then the pairs): a function that warm-starts
    from its previous call sees the same sequence every time.
    """
    inner = np.asarray(inner, dtype=int)
    hv = _steps(t, h)[inner]
    offsets = np.zeros((2 * len(inner) ** 2, len(t)))
    offsets[:, inner] = fd_offsets(hv)
    fv = np.array([f(t + o) for o in offsets], dtype=float)
    return fd_combine(ft, fv, hv)


def fd_hessian(
    grad: Callable[[Array], Array],
    t: Array,
    steps: Array | float,
    inner: Array | None = None,
    *,
    at: Array | None = None,
) -> Array:
    """Symmetric Hessian as central differences of an (analytic) gradient over the
    ``inner`` positions (all by default): 2k gradients; with ``at`` (the gradient at
    ``t``), forward differences: k gradients."""
    h = _steps(t, steps)
    idx = np.arange(len(t)) if inner is None else np.asarray(inner)
    H = np.empty((len(idx), len(idx)))
    for a, j in enumerate(idx):
        e = np.zeros(len(t))
        e[j] = h[j]
        if at is None:
            H[:, a] = (grad(t + e)[idx] - grad(t - e)[idx]) / (2 * h[j])
        else:
            H[:, a] = (grad(t + e)[idx] - at[idx]) / h[j]
    return 0.5 * (H + H.T)


def newton_polish(
    f: Callable[[Array], float],
    t: Array,
    ft: float,
    lo: Array,
    hi: Array,
    steps: int = 4,
    grad: Callable[[Array], Array] | None = None,
    forward: float | None = None,
) -> tuple[Array, float, int, bool, Array]:
    """A few Newton steps with finite-difference derivatives on the interior parameters.

    ``grad(t)`` (the gradient of ``f``), when given, gives the Hessian as central
    differences of the gradient (2k gradients instead of 2k² values of ``f``), or, with
    ``forward`` (a step), as forward differences from the gradient at ``t`` (k
    gradients: for an analytic gradient, accurate enough with a step near 1e-5).
    Returns ``(t, f(t), steps taken, converged, inverse Hessian)``.

    Quasi-Newton stops a little short of the optimum; Newton's quadratic convergence takes
    the variance parameters to ~1e-8, which nlme's own optimiser also reaches.
    """
    h = 1e-4
    ok = False
    n = 0
    cov = np.full((len(t), len(t)), np.nan)  # inverse Hessian of f (interior parameters)
    for n in range(1, steps + 1):
        inner = np.flatnonzero((t - lo > 10 * h) & (hi - t > 10 * h))
        if len(inner) == 0:
            return t, ft, n - 1, True, cov
        if grad is not None:
            g_all = grad(t)
            g = g_all[inner]
            if forward is not None:
                H = fd_hessian(grad, t, forward, inner, at=g_all)
            else:
                H = fd_hessian(grad, t, h, inner)
        else:
            g, H = fd_derivatives(f, t, ft, inner, h)
        try:
            if np.any(np.linalg.eigvalsh(H) <= 0):
                return t, ft, n, ok, cov
            step = np.linalg.solve(H, g)
            cov = np.full((len(t), len(t)), np.nan)
            cov[np.ix_(inner, inner)] = np.linalg.inv(H)
        except np.linalg.LinAlgError:
            return t, ft, n, ok, cov
        cand = t.copy()
        cand[inner] = np.clip(t[inner] - step, lo[inner], hi[inner])
        fc = f(cand)
        if not fc <= ft:
            # a step this small that does not lower f: at the optimum up to rounding
            return t, ft, n, ok or bool(np.max(np.abs(step)) < 1e-6), cov
        t, ft = cand, fc
        ok = bool(np.max(np.abs(step)) < 1e-3)
        if np.max(np.abs(step)) < 1e-4:  # quadratic convergence: the next step is ~1e-8
            break
    return t, ft, n, ok, cov


def newton_batch(
    f: Callable[[Array, Any], Array],
    t0: Array,
    *,
    h: float = 1e-4,
    max_iter: int = 100,
    stacked: bool = False,
    tol: float = 0.0,
    shift: bool = False,
) -> tuple[Array, Array]:
    """Minimise ``f`` for every row of ``t0`` at once by damped Newton steps.

    ``f(t, rows)`` returns the objective of the parameter rows ``t`` (r, k) of the
    problems ``rows`` (an index array, or ``slice(None)`` while all are active: indexing
    the problems' data by it then copies nothing); with ``stacked=True`` it takes the
    points of every row at once, ``t`` (r, S, k), and returns (r, S): one array expression
    for all ``2k²`` finite-difference points of a step. Gradient and Hessian by central
    differences (:func:`fd_offsets`, :func:`fd_combine`); a row whose Hessian is not
    positive definite takes a gradient step, or with ``shift=True`` the Newton step of the
    Hessian shifted to positive definite (:func:`_shifted_step`: on the flat, curved
    ridge of a variance near zero it keeps going where a gradient step crawls); step
    halving keeps every row from getting worse; rows that have converged are left alone
    (the bootstraps of :func:`~dyadlab.models._engine.fit_gls_batch` and
    :func:`~dyadlab.models._sem.fiml_fixed_x_batch`, the diary refits of
    :func:`~dyadlab.models._diary_fastfit.fit_batch` solve thousands of problems at once).

    A row stops when its step is below 1e-8, its gradient below 1e-9, its Newton
    decrement ``g'H⁻¹g`` below ``tol`` (after taking that step), or no halving of the
    step lowers ``f``. Returns the rows' minimisers and whether each converged (stopped
    other than by ``max_iter``; by failed halving only with a gradient below 1e-3, the
    optimum up to rounding).
    """
    t = np.array(t0, dtype=float)
    k = t.shape[1]
    hv = np.full(k, h)
    offsets = fd_offsets(hv)

    def at(points: Array, rows: Any) -> Array:  # (r, S, k) -> (r, S)
        if stacked:
            return np.asarray(f(points, rows))
        cols = [f(np.ascontiguousarray(points[:, s]), rows) for s in range(points.shape[1])]
        return np.stack(cols, 1)

    active = np.arange(len(t))
    converged = np.zeros(len(t), dtype=bool)
    f0 = at(t[:, None, :], slice(None))[:, 0]
    for _ in range(max_iter):
        if active.size == 0:
            break
        rows = slice(None) if active.size == len(t) else active
        ta, fa = t[active], f0[active]
        grad, hess = fd_combine(fa, at(ta[:, None, :] + offsets, rows), hv)
        with np.errstate(all="ignore"):
            if shift:
                step = _shifted_step(grad, hess)
            else:
                try:
                    step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
                except np.linalg.LinAlgError:
                    step = np.full_like(grad, np.nan)
        bad = ~np.isfinite(step).all(axis=1) | (np.einsum("bk,bk->b", step, grad) <= 0)
        step[bad] = 0.1 * grad[bad]
        step = np.clip(step, -1.0, 1.0)
        scale = np.ones(active.size)
        for _ in range(30):
            cand = ta - scale[:, None] * step
            fc = at(cand[:, None, :], rows)[:, 0]
            worse = ~(fc <= fa + 1e-10 * np.abs(fa))
            if not worse.any():
                break
            scale[worse] /= 2
        moved = ~worse
        t[active[moved]] = cand[moved]
        f0[active[moved]] = fc[moved]
        size = np.max(np.abs(scale[:, None] * step), axis=1)
        gmax = np.max(np.abs(grad), axis=1)
        done = (size < 1e-8) | (gmax < 1e-9) | (np.einsum("bk,bk->b", step, grad) < tol)
        converged[active[moved & done]] = True
        converged[active[~moved & (gmax < 1e-3)]] = True
        active = active[moved & ~done]
    return t, converged


def _shifted_step(grad: Array, hess: Array) -> Array:
    """``H⁻¹ g`` per row, with ``H`` shifted by a multiple of the identity where it is not
    positive definite, scaled as a whole to at most 1 per parameter (NaN where ``H`` is
    not finite: the caller's gradient step)."""
    step = np.full_like(grad, np.nan)
    ok = np.isfinite(hess).all(axis=(1, 2)) & np.isfinite(grad).all(axis=1)
    h, g = hess[ok], grad[ok]
    lam = np.linalg.eigvalsh(h)
    lift = np.maximum(-lam[:, 0], 0) + 1e-3 * np.maximum(np.abs(lam[:, -1]), 1.0)
    lift[lam[:, 0] > 1e-8 * np.maximum(lam[:, -1], 1.0)] = 0.0  # positive definite
    s = np.linalg.solve(h + lift[:, None, None] * np.eye(h.shape[-1]), g[..., None])[..., 0]
    step[ok] = s / np.maximum(np.abs(s).max(axis=1, keepdims=True), 1.0)
    return step


def normal_loglik(c: Array, cov: Array) -> float:
    """Log-likelihood of the rows ``c`` (already centred) under ``N(0, cov)``."""
    n, q = c.shape
    sign, logdet = np.linalg.slogdet(cov)
    if sign <= 0:
        return -math.inf
    quad = float(np.sum(c * np.linalg.solve(cov, c.T).T))
    return float(-0.5 * (n * q * math.log(2 * math.pi) + n * logdet + quad))


def saturated_loglik(z: Array, weights: Any = None, *, centred: bool = True) -> float:
    """Log-likelihood of complete rows ``z`` under the normal model with free covariances.

    Means free too (``centred=True``) or fixed at zero; ``weights`` are frequency weights.
    At the ML covariance the quadratic form is ``n p`` exactly, so only the log-determinant
    remains.
    """
    w = np.ones(len(z)) if weights is None else np.asarray(weights, dtype=float)
    n, p = w.sum(), z.shape[1]
    c = z - (w @ z) / n if centred else z
    s = (c * w[:, None]).T @ c / n
    return float(-0.5 * n * (p * math.log(2 * math.pi) + np.linalg.slogdet(s)[1] + p))


def collinear_terms(x: Array, labels: list[str]) -> list[str]:
    """The labels of the columns of ``x`` that take part in a linear dependence.

    Columns are scaled to unit root mean square first (an all-zero column is its own
    dependence); the dependences are the right singular vectors of the (numerically)
    zero singular values.

    Examples
    --------
    >>> x = np.column_stack([np.ones(4), [1.0, 2, 3, 4], [2.0, 2, 2, 2]])
    >>> collinear_terms(x, ["intercept", "x", "c"])
    ['intercept', 'c']
    """
    scale = np.sqrt((x**2).mean(axis=0))
    xs = x / np.where(scale > 0, scale, 1.0)
    _, sv, vt = np.linalg.svd(xs, full_matrices=True)
    sv = np.concatenate([sv, np.zeros(vt.shape[0] - len(sv))])
    tol = max(xs.shape) * np.finfo(float).eps * (sv[0] if len(sv) else 1.0)
    null = vt[sv <= max(tol, 1e-10)]
    involved = np.flatnonzero((np.abs(null) > 1e-6).any(axis=0))
    return [labels[i] for i in involved]


def term_label(label: dict[str, Any]) -> str:
    """``actor conflict [man]`` for an estimates row's effect, predictor and role.

    Examples
    --------
    >>> term_label({"effect": "partner", "predictor": "desire", "role": "woman"})
    'partner desire [woman]'
    """
    text = " ".join(str(v) for v in (label.get("effect"), label.get("predictor")) if v)
    return text + (f" [{label['role']}]" if label.get("role") is not None else "")


def collinear_note(x: Array, labels: list[dict[str, Any]]) -> str:
    """The columns and terms of a rank-deficient design, for an error message.

    Examples
    --------
    >>> x = np.column_stack([np.ones(4), [1.0, 2, 3, 4], [2.0, 2, 2, 2]])
    >>> collinear_note(x, [{"effect": "intercept"}, {"effect": "actor", "predictor": "x"},
    ...                    {"effect": "actor", "predictor": "c"}])
    "column 'c'; terms involved: intercept, actor c"
    """
    names = [term_label(b) for b in labels]
    involved = collinear_terms(np.asarray(x, dtype=float), names)
    columns = list(
        dict.fromkeys(
            str(b["predictor"])
            for b, n in zip(labels, names, strict=True)
            if n in involved and b.get("predictor")
        )
    )
    what = ", ".join(repr(c) for c in columns)
    head = f"column{'s' if len(columns) > 1 else ''} {what}; " if columns else ""
    return f"{head}terms involved: {', '.join(involved) or 'unknown'}"
