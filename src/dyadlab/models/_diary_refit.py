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
* **warm-started** otherwise: the engine (:func:`~dyadlab.models._engine.fit_mixed`)
  refits each replication starting from the original fit's variance parameters.

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
from dyadlab.models._diary_fastfit import fit_batch, sufficient_stats
from dyadlab.models._diary_sim import Simulated

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
    from dyadlab.models.diary import _design, _members, _prepare

    data, call = result._plot_data, result.call
    if data is None or not call:
        raise OptionError("refit(): this result carries no data; refit a result of dl.diary().")
    keys = {k: call[k] for k in ("y", "dyad", "person", "time", "role", "center")}
    _, roles = _members(data, call["dyad"], call["person"], call["role"])
    arrays, predictors, _ = _prepare(data, xs=call["x"], covariates=call["covariates"], **keys)
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
    """The fitted variance parameters on :mod:`_diary_fastfit`'s scale (warm start)."""
    roles: list[Any] = result.roles if result.distinguishable else [None]

    def log_sd(name: str, role: Any) -> float:
        return math.log(max(_component(result, name, role), 1e-3))

    def z(name: str) -> float:
        return math.atanh(float(np.clip(_component(result, name), -0.999, 0.999)))

    res_sd = [log_sd("sd_residual", r) for r in roles]
    int_sd = [log_sd("sd_intercept", r) for r in roles]
    return np.array([*res_sd, z("residual_correlation"), *int_sd, z("cor_intercepts")], dtype=float)


def _grid(
    values: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Row values (..., rows in pairs) as (..., couples, days, 2) and the kept days."""
    pair_dyad, day, days = pairs
    couples = int(pair_dyad.max()) + 1
    lead = values.shape[:-1]
    out = np.zeros((*lead, couples, days, 2))
    out[..., pair_dyad, day, :] = values.reshape(*lead, -1, 2)
    keep = np.zeros((couples, days), dtype=bool)
    keep[pair_dyad, day] = True
    return out, keep


def engine_start(
    arrays: dict[str, np.ndarray], x: str, y: str, distinguishable: bool
) -> np.ndarray | None:
    """Start values for :func:`~dyadlab.models._engine.fit_mixed` at the REML optimum.

    For :func:`~dyadlab.models.diary.diary`'s default model (``residual="cs"``, REML,
    one predictor) when every occasion has both partners: the optimum found from
    sufficient statistics (a few 7 × 7 operations per Newton step), on the engine's
    scale (log-Cholesky factor of the random-intercept covariance relative to member
    0's residual variance, then the log SD ratio and Fisher-z correlation of the
    residuals). The engine then only confirms it and computes the curvature. None when
    the data do not allow it or the search did not converge (the engine starts as usual).
    """
    pairs = _pairs(arrays)
    if pairs is None:
        return None
    xg, keep = _grid(arrays[x], pairs)
    yg, _ = _grid(arrays[y], pairs)
    sim = Simulated(x=xg[None], y=yg[None], keep=keep[None])
    # moment start: half of the outcome's variance between couples, half within
    sd = max(float(np.std(arrays[y])), 1e-8)
    ls, z = math.log(sd * math.sqrt(0.5)), math.atanh(0.2)
    start = np.array([ls, ls, z, ls, ls, 0.0] if distinguishable else [ls, z, ls, 0.0])
    with np.errstate(all="ignore"):
        fit = fit_batch(sufficient_stats(sim, distinguishable), start=start)
    theta = fit.theta[0]
    if not (fit.converged[0] and np.all(np.isfinite(theta))):
        return None
    if distinguishable:
        ls0, ls1, z_e, li0, li1, z_u = theta
        residual = [ls1 - ls0, z_e]
    else:
        ls0, z_e, li0, z_u = theta
        li1, residual = li0, [z_e]
    s0, s1 = math.exp(li0 - ls0), math.exp(li1 - ls0)  # relative to the residual SD
    c = math.tanh(z_u) * s0 * s1
    try:
        if distinguishable:
            chol = np.linalg.cholesky(np.array([[s0 * s0, c], [c, s1 * s1]]))
            cov = [math.log(chol[0, 0]), chol[1, 0], math.log(chol[1, 1])]
        else:  # Exchangeable(1): log SDs of the sum and difference components
            cov = [0.5 * math.log(s0 * s0 + c), 0.5 * math.log(s0 * s0 - c)]
    except (np.linalg.LinAlgError, ValueError):
        return None  # a variance or correlation at its boundary: the engine's own start
    out = np.array([*cov, *residual], dtype=float)
    return out if np.all(np.isfinite(out)) and np.all(np.abs(out) < 7) else None


def _refit_batched(
    model: _Model, result: DiaryResult, y: np.ndarray, pairs: tuple[np.ndarray, np.ndarray, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    pair_dyad, _, days = pairs
    couples = int(pair_dyad.max()) + 1
    key = next(k for k, effect, _ in model.predictors if effect == "actor")
    x, keep = _grid(model.arrays[key], pairs)
    start = _start(result)
    reps = len(y)
    chunk = max(1, _BATCH_VALUES // max(couples * days * 2, 1))
    out: list[Any] = []
    for lo in range(0, reps, chunk):
        part = y[lo : lo + chunk]
        yy, _ = _grid(part, pairs)
        sim = Simulated(
            x=np.broadcast_to(x, yy.shape),
            y=yy,
            keep=np.broadcast_to(keep, yy.shape[:3]),
        )
        fit = fit_batch(sufficient_stats(sim, result.distinguishable), start=start)
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
    # the original fit's variance parameters start every refit
    start = fit_mixed(
        model.X, a[call["y"]], model.Z, layout, structure, cov, estimator=estimator
    ).theta
    reps, p = len(y), model.X.shape[1]
    beta, se = np.full((reps, p), np.nan), np.full((reps, p), np.nan)
    ll, conv = np.full(reps, np.nan), np.zeros(reps, dtype=bool)
    for r in range(reps):
        try:
            fit = fit_mixed(
                model.X, y[r], model.Z, layout, structure, cov, estimator=estimator, start=start
            )
        except (np.linalg.LinAlgError, ValueError):
            continue
        beta[r], se[r] = fit.beta, np.sqrt(np.diag(fit.vcov))
        ll[r], conv[r] = fit.loglik, fit.converged
    return beta, se, ll, conv


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

    def cov2(sd: list[float], cor: float) -> np.ndarray:
        return np.array([[sd[0] ** 2, cor * sd[0] * sd[1]], [cor * sd[0] * sd[1], sd[1] ** 2]])

    g = cov2([value("sd_intercept", r) for r in roles], value("cor_intercepts"))
    sigma = cov2([value("sd_residual", r) for r in roles], value("residual_correlation"))
    member, dyad = a["_member"], a["_dyad"]
    occasion = np.unique(np.column_stack([dyad, a["_time"]]), axis=0, return_inverse=True)[1]
    n_dyads, n_occ = int(dyad.max()) + 1, int(occasion.max()) + 1
    u = gen.multivariate_normal(np.zeros(2), g, size=(reps, n_dyads), method="cholesky")
    e = gen.multivariate_normal(np.zeros(2), sigma, size=(reps, n_occ), method="cholesky")
    fitted = model.X @ beta + u[:, dyad, member] + e[:, occasion.ravel(), member]
    out = np.full((reps, model.n_data), np.nan)
    out[:, model.rows] = fitted
    return out
