"""Refit a diary model to many new outcomes at once: parametric bootstraps, simulations.

Simulation-based work (a parametric bootstrap of a diary model, a surrogate or
permutation test, a simulation study) refits the same model, on the same rows, to
thousands of outcome vectors. :meth:`DiaryResult.refit <dyadlab.models.diary.DiaryResult>`
does that without paying a whole fit per replication:

* **batched**, for the model most diary studies fit (``residual="cs"``, REML, one
  predictor, no covariates, centring or random slopes) when every occasion in the fit
  has both partners' rows: each replication is reduced to per-couple sufficient
  statistics and all replications are fitted together by Newton steps on array
  expressions (:mod:`dyadlab.models._diary_fastfit`, the machinery of diary power);
* **warm-started** otherwise: the engine's likelihood of each replication is maximised
  from the original fit's variance parameters by steps steered by that fit's inverse
  Hessian (a few gradient evaluations; :func:`~dyadlab.models._engine.fit_mixed` in
  full where a variance sits at its boundary or the steps do not converge).

Both start at the fitted model's variance parameters, which are close to the optimum
of every replication drawn from it. :meth:`DiaryResult.simulate` draws outcomes from
the fitted model (``residual="cs"``), so ``res.refit(res.simulate(1000, rng=1))`` is a
parametric bootstrap.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_diary(40, 14, rng=2)
>>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time", role="role")
>>> boot = res.refit(res.simulate(200, rng=1))
>>> boot.beta.shape, boot.batched, bool(boot.converged.all())
((200, 6), True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._diary_fastfit import Stats, engine_theta, fit_batch

if TYPE_CHECKING:
    from dyadlab.models.diary import DiaryResult

__all__ = ["DiaryRefits", "engine_start", "refit", "simulate_outcomes"]

#: replications per batch: their sufficient statistics are built from arrays of
#: (batch × rows) values, so the batch is bounded by the number of rows
_BATCH_VALUES = 4_000_000


@dataclass
class DiaryRefits:
    """What :meth:`DiaryResult.refit` returns: one row per replication.

    Attributes
    ----------
    labels : list of dict
        ``effect, predictor, role`` of each fixed effect, in the order of the fit's
        ``estimates`` (the columns of ``beta`` and ``se``).
    beta, se : ndarray (reps, p)
        Fixed effects and their standard errors.
    loglik : ndarray (reps,)
        The (restricted) log-likelihood at each replication's optimum.
    converged : ndarray (reps,) of bool
    batched : bool
        True when all replications were fitted together from sufficient statistics;
        False when each was refitted by the engine from the original fit's parameters.
    """

    labels: list[dict[str, Any]]
    beta: np.ndarray
    se: np.ndarray
    loglik: np.ndarray
    converged: np.ndarray
    batched: bool

    def table(self) -> pd.DataFrame:
        """Long format: ``replication, effect, predictor, role, estimate, se``."""
        reps, p = self.beta.shape
        frame = pd.DataFrame(
            {
                "replication": np.repeat(np.arange(reps), p),
                "effect": [lab["effect"] for lab in self.labels] * reps,
                "predictor": [lab["predictor"] for lab in self.labels] * reps,
                "role": [lab["role"] for lab in self.labels] * reps,
                "estimate": self.beta.ravel(),
                "se": self.se.ravel(),
            }
        )
        return frame


@dataclass
class _Model:
    """The fit's rows and design, rebuilt from the result's data and call."""

    rows: np.ndarray  # positions in the data of the rows in the fit, in fit order
    arrays: dict[str, np.ndarray]
    X: np.ndarray
    Z: np.ndarray
    labels: list[dict[str, Any]]
    roles: list[Any]
    predictors: list[tuple[str, str, str]]
    call: dict[str, Any]
    n_data: int


def _model(result: DiaryResult) -> _Model:
    from dyadlab.models.diary import _design, _prepare

    data, call = result._plot_data, result.call
    if data is None or not call:
        raise OptionError("refit(): this result carries no data; refit a result of dl.diary().")
    keys = {k: call[k] for k in ("y", "dyad", "person", "time", "role", "center")}
    arrays, predictors, _, roles = _prepare(
        data, xs=call["x"], covariates=call["covariates"], **keys
    )
    X, Z, labels, _ = _design(arrays, predictors, roles, call["random_slopes"])
    return _Model(arrays["_row"], arrays, X, Z, labels, roles, predictors, dict(call), len(data))


def _outcomes(model: _Model, outcomes: Any) -> np.ndarray:
    """The new outcomes at the fit's rows, (reps, rows in the fit)."""
    y = np.asarray(outcomes, dtype=float)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] != model.n_data:
        raise OptionError(
            f"refit(): outcomes must have one column per row of the data ({model.n_data}), "
            f"one row per replication; got shape {np.shape(outcomes)}."
        )
    y = y[:, model.rows]
    if not np.isfinite(y).all():
        bad = int((~np.isfinite(y)).any(axis=0).sum())
        raise DyadicDataError(
            f"refit(): outcomes are missing or infinite at {bad} of the {y.shape[1]} rows in "
            "the fit. Give a value wherever the original outcome was used (rows left out of "
            "the fit may hold anything)."
        )
    return y


def _pairs(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Couple and day of every pair of rows, when every occasion has both partners."""
    member, dyad = arrays["_member"], arrays["_dyad"]
    n = len(member)
    time = arrays["_time"]
    if n % 2 or not (
        np.all(member[0::2] == 0)
        and np.all(member[1::2] == 1)
        and np.array_equal(dyad[0::2], dyad[1::2])
        and np.array_equal(time[0::2], time[1::2])
    ):
        return None
    pair_dyad = dyad[0::2]
    first = np.r_[0, np.flatnonzero(np.diff(pair_dyad)) + 1]
    counts = np.diff(np.r_[first, len(pair_dyad)])
    day = np.arange(len(pair_dyad)) - np.repeat(first, counts)
    return pair_dyad, day, int(counts.max())


def _batchable(model: _Model, result: DiaryResult) -> bool:
    call = model.call
    return bool(
        call["residual"] == "cs"
        and call["estimator"] == "REML"
        and call["center"] == "none"
        and not call["covariates"]
        and not call["random_slopes"]
        and len(call["x"]) == 1
        and result.estimation == "REML"
    )


def _component(result: DiaryResult, name: str, role: Any = None) -> float:
    """A variance component of ``result`` (of ``role``, when given)."""
    vc = result.variance_components
    rows = vc[vc["name"] == name]
    if role is not None:
        rows = rows[rows["role"] == role]
    return float(rows["estimate"].iloc[0])


def _start(result: DiaryResult) -> np.ndarray:
    """The fitted variance parameters on the engine's scale (warm start)."""
    roles: list[Any] = result.roles if result.distinguishable else [None]
    return engine_theta(
        [_component(result, "sd_residual", r) for r in roles],
        _component(result, "residual_correlation"),
        [_component(result, "sd_intercept", r) for r in roles],
        _component(result, "cor_intercepts"),
        result.distinguishable,
    )


def engine_start(
    arrays: dict[str, np.ndarray], x: str, y: str, distinguishable: bool
) -> np.ndarray | None:
    """Start values for :func:`~dyadlab.models._engine.fit_mixed` at the REML optimum.

    For :func:`~dyadlab.models.diary.diary`'s default model (``residual="cs"``, REML,
    one predictor) when every occasion has both partners: the optimum found from
    sufficient statistics (a few 7 × 7 operations per Newton step), on the engine's
    scale already (:func:`~dyadlab.models._diary_fastfit.engine_theta`). The engine then
    only confirms it and computes the curvature. None when the data do not allow it, the
    search did not converge or a variance or correlation is at its boundary (the engine
    starts as usual).
    """
    pairs = _pairs(arrays)
    if pairs is None:
        return None
    with np.errstate(all="ignore"):
        stats = _pair_stats(
            arrays[x].reshape(-1, 2), arrays[y].reshape(1, -1, 2), pairs[0], distinguishable
        )
        fit = fit_batch(stats, start=_moment_start(stats, float(np.std(arrays[y]))))
    theta = fit.theta[0]
    ok = fit.converged[0] and np.all(np.isfinite(theta)) and np.all(np.abs(theta) < 7)
    return theta if ok else None


def _moment_start(stats: Stats, sd_y: float) -> np.ndarray:
    """Variance parameters by moments, on the engine's scale (first replication).

    The within-couple regression of both outcomes on both predictors gives the residual
    covariance ``Sigma``; the couples' mean residuals (with those slopes) vary by
    ``G + Sigma / T``, which gives ``G``. Near the REML optimum for most data (Newton
    then needs a few steps, not the several from a blind start); a blind start (half
    of the outcome's variance between couples, half within) where a moment is unusable.
    """
    sd = max(sd_y, 1e-8) * math.sqrt(0.5)
    sd_e, r_e, sd_u, r_u = [sd, sd], 0.2, [sd, sd], 0.0
    w = stats.within[0, 1:, 1:]  # x1, x2, y1, y2 deviations
    n_couples = float(stats.n_couples[0].sum())
    n_pairs = float(stats.n_obs[0]) / 2.0
    try:
        slopes = np.linalg.solve(w[:2, :2], w[:2, 2:])  # (x1, x2) -> (y1, y2)
        sigma = (w[2:, 2:] - w[2:, :2] @ slopes) / max(n_pairs - n_couples - 2.0, 1.0)
        lin = np.zeros((2, 5))  # couple mean residual: ybar - slopes' xbar
        lin[:, 3:] = np.eye(2)
        lin[:, 1:3] = -slopes.T
        b = stats.between[0].sum(axis=0)  # Σ m m' over couples, m = (1, x̄1, x̄2, ȳ1, ȳ2)
        mean = lin @ b[0] / n_couples
        between = lin @ b @ lin.T / n_couples - np.outer(mean, mean)
        t_inv = float(stats.n_couples[0] @ (1.0 / stats.days)) / n_couples
        g = between - sigma * t_inv
        moments = np.isfinite(sigma).all() and np.isfinite(g).all()
    except np.linalg.LinAlgError:
        moments = False
    if moments:
        e = np.sqrt(np.clip(np.diag(sigma), 0.0, None))
        if np.all(e > 0):
            sd_e, r_e = list(e), float(np.clip(sigma[0, 1] / (e[0] * e[1]), -0.9, 0.9))
        u = np.sqrt(np.clip(np.diag(g), 0.0, None))
        if np.all(u > 1e-2 * e):
            sd_u, r_u = list(u), float(np.clip(g[0, 1] / (u[0] * u[1]), -0.9, 0.9))
    return engine_theta(sd_e, r_e, sd_u, r_u, stats.distinguishable)


def _pair_stats(
    x: np.ndarray, y: np.ndarray, pair_dyad: np.ndarray, distinguishable: bool
) -> Stats:
    """:func:`~dyadlab.models._diary_fastfit.sufficient_stats` of replications that
    share the predictor: ``x`` (pairs, 2), ``y`` (reps, pairs, 2), pairs sorted by couple.

    The predictor's products are made once; those with the outcome are matrix products
    over the pairs, without padding the couples to a common number of days.
    """
    reps = len(y)
    first = np.r_[0, np.flatnonzero(np.diff(pair_dyad)) + 1]
    t_d = np.diff(np.r_[first, len(pair_dyad)]).astype(float)  # days per couple
    xm = np.add.reduceat(x, first, axis=0) / t_d[:, None]  # (n, 2)
    ym = np.add.reduceat(y, first, axis=1) / t_d[None, :, None]  # (reps, n, 2)
    xd = x - xm[pair_dyad]
    within = np.zeros((reps, 5, 5))
    within[:, 1:3, 1:3] = xd.T @ xd
    # the deviations of x sum to zero within a couple, so x's products with y need no
    # centring of y
    xy = np.einsum("pk,rpl->rkl", xd, y)
    within[:, 1:3, 3:5] = xy
    within[:, 3:5, 1:3] = xy.transpose(0, 2, 1)
    within[:, 3:5, 3:5] = np.einsum("rpk,rpl->rkl", y, y) - np.einsum("n,rnk,rnl->rkl", t_d, ym, ym)
    days = np.unique(t_d).astype(int)
    between = np.empty((reps, len(days), 5, 5))
    c3 = np.column_stack([np.ones(len(t_d)), xm])  # (1, x̄1, x̄2) per couple
    for g, d in enumerate(days):
        on = t_d == d
        cg, yg = c3[on], ym[:, on]
        between[:, g, :3, :3] = cg.T @ cg
        cy = np.einsum("na,rnl->ral", cg, yg)
        between[:, g, :3, 3:] = cy
        between[:, g, 3:, :3] = cy.transpose(0, 2, 1)
        between[:, g, 3:, 3:] = np.einsum("rnk,rnl->rkl", yg, yg)
    counts = np.array([(t_d == d).sum() for d in days], dtype=float)
    return Stats(
        within=within,
        between=between,
        n_couples=np.broadcast_to(counts, (reps, len(days))).copy(),
        days=days,
        n_obs=np.full(reps, 2.0 * t_d.sum()),
        distinguishable=distinguishable,
    )


def _refit_batched(
    model: _Model, result: DiaryResult, y: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    pair_dyad = pairs[0]
    key = next(k for k, effect, _ in model.predictors if effect == "actor")
    x = model.arrays[key].reshape(-1, 2)
    start = _start(result)
    reps = len(y)
    chunk = max(1, _BATCH_VALUES // max(y.shape[1], 1))
    out: list[Any] = []
    for lo in range(0, reps, chunk):
        part = y[lo : lo + chunk].reshape(-1, len(x), 2)
        fit = fit_batch(_pair_stats(x, part, pair_dyad, result.distinguishable), start=start)
        out.append((fit.beta, fit.se, -0.5 * fit.criterion, fit.converged))
    beta, se, ll, conv = (np.concatenate([o[i] for o in out]) for i in range(4))
    return beta, se, ll, conv


def _refit_engine(
    model: _Model, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from dyadlab.models._engine import fit_mixed
    from dyadlab.models._engine_covariance import Exchangeable, Unstructured
    from dyadlab.models._engine_residual import RowLayout
    from dyadlab.models.diary import _RESIDUALS

    call, a = model.call, model.arrays
    layout = RowLayout(dyad=a["_dyad"], member=a["_member"], time=a["_time"])
    distinguishable = bool(model.roles)
    structure = _RESIDUALS[call["residual"]](distinguishable=distinguishable)
    q = model.Z.shape[1]
    cov = Unstructured(q) if distinguishable else Exchangeable(q // 2)
    estimator = call["estimator"]
    # the original fit: its variance parameters start every refit, and its curvature
    # (the inverse Hessian) steers the steps
    first = fit_mixed(model.X, a[call["y"]], model.Z, layout, structure, cov, estimator=estimator)
    curvature = first.theta_cov
    reps, p = len(y), model.X.shape[1]
    beta, se = np.full((reps, p), np.nan), np.full((reps, p), np.nan)
    ll, conv = np.full(reps, np.nan), np.zeros(reps, dtype=bool)
    for r in range(reps):
        out = None
        if curvature is not None and np.all(np.isfinite(curvature)):
            out = _steer(model, y[r], layout, structure, cov, estimator, first.theta, curvature)
        if out is None:  # a variance at its boundary, or no convergence: the full fit
            try:
                fit = fit_mixed(
                    model.X,
                    y[r],
                    model.Z,
                    layout,
                    structure,
                    cov,
                    estimator=estimator,
                    start=first.theta,
                )
            except (np.linalg.LinAlgError, ValueError):
                continue
            out = (fit.beta, np.sqrt(np.diag(fit.vcov)), fit.loglik, fit.converged)
        beta[r], se[r], ll[r], conv[r] = out
    return beta, se, ll, conv


def _steer(
    model: _Model,
    y: np.ndarray,
    layout: Any,
    structure: Any,
    cov: Any,
    estimator: str,
    theta0: np.ndarray,
    curvature: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float, bool] | None:
    """Maximise the profiled likelihood of one replication by steps ``curvature @ grad``.

    ``curvature`` is the original fit's inverse Hessian of the negative log-likelihood:
    a replication drawn from (or near) that fit has nearly the same curvature, so the
    steps converge in a few gradient evaluations, where a quasi-Newton search starts
    learning the curvature anew. None when the steps do not converge (the caller then
    fits in full).
    """
    from dyadlab.models._engine import loglik_gradient, profiled_loglik

    X, Z = model.X, model.Z
    (n, p), q = X.shape, Z.shape[1]
    prepared = structure.prepare(np.column_stack([Z, X, y]), q, layout)
    args = (prepared, cov, q, p, n, estimator)
    theta = theta0.copy()
    try:
        with np.errstate(all="ignore"):
            ll, grad = loglik_gradient(theta, *args)
            for _ in range(40):
                step = curvature @ grad
                scale = 1.0
                for _ in range(12):  # halve until the likelihood does not fall
                    trial = theta + scale * step
                    ll_t = profiled_loglik(trial, *args)[0]
                    if np.isfinite(ll_t) and ll_t >= ll - 1e-10 * abs(ll):
                        break
                    scale /= 2
                else:
                    return None
                theta = trial
                if np.max(np.abs(scale * step)) < 1e-8:
                    break
                ll, grad = loglik_gradient(theta, *args)
            else:
                return None
            ll, info = profiled_loglik(theta, *args)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):
        return None
    sigma2 = float(info["sigma2"])
    vcov = sigma2 * (n / (n - p) if estimator == "ML" else 1.0) * np.linalg.inv(info["XVX"])
    return np.asarray(info["beta"]), np.sqrt(np.diag(vcov)), float(ll), True


def refit(result: DiaryResult, outcomes: Any) -> DiaryRefits:
    """Refit ``result``'s model to each row of ``outcomes``; see :meth:`DiaryResult.refit`."""
    model = _model(result)
    y = _outcomes(model, outcomes)
    pairs = _pairs(model.arrays) if _batchable(model, result) else None
    if pairs is not None:
        beta, se, ll, conv = _refit_batched(model, result, y, pairs)
    else:
        beta, se, ll, conv = _refit_engine(model, y)
    return DiaryRefits(model.labels, beta, se, ll, conv, batched=pairs is not None)


def simulate_outcomes(result: DiaryResult, reps: int, rng: Any = None) -> np.ndarray:
    """Outcomes drawn from the fitted model; see :meth:`DiaryResult.simulate`."""
    if result.call.get("residual") != "cs":
        raise OptionError(
            "simulate(): drawing outcomes is available for residual='cs'; fit that model, "
            "or draw the outcomes yourself and pass them to refit()."
        )
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 1:
        raise OptionError(f"simulate(): reps must be a whole number >= 1, got {reps!r}.")
    model = _model(result)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    a = model.arrays
    beta = result.estimates["estimate"].to_numpy(dtype=float)
    roles: list[Any] = result.roles if result.distinguishable else [None, None]

    def value(name: str, role: Any = None) -> float:
        return _component(result, name, role)

    def draw(sd: list[float], cor: float, size: tuple[int, int]) -> np.ndarray:
        """Pairs with SDs ``sd`` and correlation ``cor`` (a 2 × 2 Cholesky by hand: a
        BLAS product over millions of pairs stalls on a busy machine)."""
        z = gen.standard_normal((*size, 2))
        out = np.empty_like(z)
        out[..., 0] = sd[0] * z[..., 0]
        out[..., 1] = sd[1] * (cor * z[..., 0] + math.sqrt(max(1.0 - cor * cor, 0.0)) * z[..., 1])
        return out

    member, dyad = a["_member"], a["_dyad"]
    occasion = np.unique(np.column_stack([dyad, a["_time"]]), axis=0, return_inverse=True)[1]
    n_dyads, n_occ = int(dyad.max()) + 1, int(occasion.max()) + 1
    sd_u = [value("sd_intercept", r) for r in roles]
    sd_e = [value("sd_residual", r) for r in roles]
    u = draw(sd_u, value("cor_intercepts"), (reps, n_dyads))
    e = draw(sd_e, value("residual_correlation"), (reps, n_occ))
    fitted = model.X @ beta + u[:, dyad, member] + e[:, occasion.ravel(), member]
    out = np.full((reps, model.n_data), np.nan)
    out[:, model.rows] = fitted
    return out
