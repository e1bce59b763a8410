"""``dl.observe.couple_model``: per-couple sequential statistics in a multilevel model.

Examples
--------
>>> import dyadlab as dl
>>> s = dl.observe.simulate_sessions(12, minutes=5, rng=2)
>>> dw = dl.observe.demand_withdraw(s, coder="A")
>>> import warnings; warnings.simplefilter("ignore", dl.ConvergenceWarning)  # see res.warnings
>>> res = dl.observe.couple_model(dw, predictors=["direction"])
>>> res.estimates["predictor"].tolist()
[None, 'directionsecond->first']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import (
    check_columns,
    check_option,
    check_range,
    estimator_option,
    show_ids,
)
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError
from dyadlab.models._engine import fit_mixed, nlme_fixed_df
from dyadlab.models._engine_covariance import Unstructured
from dyadlab.models._engine_residual import Independent, RowLayout
from dyadlab.models._result import ModelResult, convergence_warnings, emit, estimates_frame

__all__ = ["CoupleModelResult", "couple_model"]


class CoupleModelResult(ModelResult):
    """The couple-level model of coded ratings, with its outcome and formula."""

    @property
    def outcome(self) -> str:
        """The modelled outcome: the rating column, or ``"fisher_z"`` when transformed."""
        return str(self.extra["outcome"])

    @property
    def model_formula(self) -> str:
        """The model as an lme4-style formula."""
        return str(self.extra["model_formula"])


CELLS = ("count", "given_units", "target_units", "units")


def _values(frame: pd.DataFrame, value: str, transform: str | None, func: str) -> np.ndarray:
    """The outcome: Yule's Q as given, or Fisher's z of Q (= half the log odds ratio)."""
    if transform is None:  # the value as given
        return pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    if transform is not None and value == "yules_q" and all(c in frame for c in CELLS):
        a, g, t, n = (frame[c].to_numpy(dtype=float) for c in CELLS)
        b, c, d = g - a, t - a, n - g - t + a
        # Haldane–Anscombe: ½ added to every cell, so couples with an empty cell count
        with np.errstate(divide="ignore", invalid="ignore"):
            z = 0.5 * np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
        return np.asarray(z)
    q = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
    if (np.abs(q[np.isfinite(q)]) >= 1).any():
        bad = frame.loc[np.abs(q) >= 1].iloc[0]
        raise DyadicDataError(
            f"{func}(): {value!r} is ±1 in some rows (first: {dict(bad.head(3))}), where "
            "Fisher's z is infinite. Pass the window or demand–withdraw table itself (its cell "
            "counts get ½ added), or transform=None."
        )
    return np.asarray(np.arctanh(q))


def _sampling_variance(
    frame: pd.DataFrame, value: str, transform: str | None, se: str | None, func: str
) -> np.ndarray:
    """Each row's sampling variance of the modelled value (for inverse-variance weights)."""
    if transform is not None and value == "yules_q" and all(c in frame for c in CELLS):
        a, g, t, n = (frame[c].to_numpy(dtype=float) for c in CELLS)
        cells = [a, g - a, t - a, n - g - t + a]
        # Var(½ log OR) with ½ added to every cell (Woolf; Haldane–Anscombe)
        return np.asarray(0.25 * sum(1.0 / (c + 0.5) for c in cells))
    if se is None:
        raise DyadicDataError(
            f"{func}(): weights='inverse_variance' needs each row's standard error: pass "
            f"se= (e.g. se='yules_q_se'), or the window / demand–withdraw table with its "
            "cell counts."
        )
    check_columns(frame, [se], func=func)
    s = pd.to_numeric(frame[se], errors="coerce").to_numpy(dtype=float)
    if transform is not None:  # delta method: d atanh(q)/dq = 1 / (1 − q²)
        q = pd.to_numeric(frame[value], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = s / (1.0 - q**2)
    return np.asarray(s**2)


def _design(frame: pd.DataFrame, predictors: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept plus predictors, categorical ones in R's treatment contrasts."""
    cols = [np.ones(len(frame))]
    names = ["(Intercept)"]
    for p in predictors:
        x = frame[p]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            cols.append(x.to_numpy(dtype=float))
            names.append(p)
            continue
        levels = sorted(pd.unique(x.astype(str)))
        for lev in levels[1:]:
            cols.append((x.astype(str) == lev).to_numpy(dtype=float))
            names.append(f"{p}{lev}")
    return np.column_stack(cols), names


def couple_model(
    data: Any,
    *,
    value: str = "yules_q",
    couple: str = "session",
    predictors: Sequence[str] = (),
    covariates: pd.DataFrame | None = None,
    transform: str | None = "fisher_z",
    weights: str | None = None,
    se: str | None = None,
    estimator: str = "REML",
    confidence: float = 0.95,
    method: str | None = None,
) -> CoupleModelResult:
    """Regress a per-couple statistic on predictors with a random intercept per couple.

    Parameters
    ----------
    data : DataFrame or result with ``.table``
        One row per couple (and direction, code pair, …), e.g. the ``table`` of
        :func:`~dyadlab.observe.demand_withdraw` or of a per-session
        :func:`~dyadlab.observe.window_table` / :func:`~dyadlab.observe.sequential`
        (pooled rows, whose couple is null, are left out).
    value : str
        The statistic (``"yules_q"`` by default).
    couple : str
        Couple id column (``"session"`` in dyadlab's tables).
    predictors : list of str
        Columns of ``data`` or ``covariates``; text columns become R's treatment
        contrasts (first sorted level as reference).
    covariates : DataFrame, optional
        Couple-level covariates with a ``couple`` column, merged onto ``data``.
    transform : {"fisher_z", None}
        ``"fisher_z"`` models ``z = atanh(Q) = ½ log OR``; when the table has its cell
        counts (``count, given_units, target_units, units``), Q is recomputed with ½
        added to every cell (Haldane–Anscombe) so that couples with an empty cell stay
        in. None models the value as given.
    weights : {None, "inverse_variance"}
        ``"inverse_variance"``: each row's residual variance is proportional to its
        sampling variance ``v`` (``nlme``'s ``weights = varFixed(~ v)``), so couples
        with few events count less. ``v`` of Fisher's z comes from the cell counts
        (``¼ Σ 1/(cell + ½)``), otherwise from the ``se`` column.
    se : str, optional
        Column of each value's standard error (for ``weights`` without cell counts;
        with ``transform="fisher_z"`` it is carried to the z scale by the delta method).
    estimator : {"REML", "ML"}
        Restricted (default) or full maximum likelihood.
    confidence : float
    method : {"REML", "ML"}, optional
        Deprecated old name of ``estimator`` (a :class:`FutureWarning`).

    Returns
    -------
    CoupleModelResult
        ``model`` ``"observe_couple_model"``; ``estimates``: ``effect`` ``intercept``
        (predictor null) and ``coefficient`` (predictor as R names it, e.g.
        ``directionsecond->first``) with t tests on nlme's df; ``variance_components``:
        ``random_intercept_sd`` and ``residual_sd``; ``fit``: loglik, AIC, BIC.

    Notes
    -----
    The model is ``y_cj = x_cj'β + u_c + e_cj``, ``u_c ~ N(0, τ²)``, ``e_cj ~ N(0, σ²)``
    for row j of couple c, fitted by (RE)ML with dyadlab's engine; it reproduces
    ``nlme::lme(y ~ x, random = ~ 1 | couple, method = "REML")``. When every couple
    has one row, τ² and σ² cannot be told apart and the model is ordinary least squares
    (``nlme::gls(y ~ x)``). With ``weights="inverse_variance"``, ``e_cj ~ N(0, σ² v_cj)``:
    ``nlme::lme(y ~ x, random = ~ 1 | couple, weights = varFixed(~ v))`` (fitted as the
    unweighted model of every row divided by ``sqrt(v)``; the log-likelihood adds the
    Jacobian ``−½ Σ log v``). Rows whose value is missing (a couple with no given or no
    target) are left out and counted in ``warnings``.
    """
    func = "couple_model"
    frame = data.table if hasattr(data, "table") else data
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{func}(): data must be a DataFrame or a result with a table.")
    check_option("transform", transform, ("fisher_z", None), func=func)
    estimator = estimator_option(estimator, method, func=func)
    check_option("weights", weights, (None, "inverse_variance"), func=func)
    check_range("confidence", confidence, func=func, low=0.0, high=1.0, inclusive=False)
    from_cells = transform is not None and value == "yules_q" and all(c in frame for c in CELLS)
    check_columns(frame, [None if from_cells else value, couple], func=func)
    frame = frame[frame[couple].notna()]
    if covariates is not None:
        check_columns(covariates, [couple], func=func)
        frame = frame.merge(covariates, on=couple, how="left", validate="many_to_one")
    check_columns(frame, list(predictors), func=func)
    y = _values(frame, value, transform, func)
    v = (
        _sampling_variance(frame, value, transform, se, func)
        if weights is not None
        else np.ones(len(y))
    )
    keep = np.isfinite(y) & np.isfinite(v) & (v > 0)
    for p in predictors:
        keep &= frame[p].notna().to_numpy()
    warnings = []
    if not keep.all():
        first = frame.loc[~keep, couple].iloc[0]
        warnings.append(
            f"{int((~keep).sum())} rows have no {value}"
            + (" (or no sampling variance)" if weights else "")
            + " or a missing predictor and are left out "
            f"(first: couple {show_ids([first])})."
        )
    frame, y, v = frame[keep], y[keep], v[keep]
    if len(frame) == 0:
        raise DyadicDataError(f"{func}(): no rows with a finite {value!r} are left to model.")
    codes, couples = pd.factorize(frame[couple], sort=True)
    order = np.argsort(codes, kind="stable")
    X, names = _design(frame, predictors)
    X, y, codes, v = X[order], y[order], codes[order], v[order]
    if X.shape[0] <= X.shape[1]:
        raise DyadicDataError(
            f"{func}(): {X.shape[0]} rows cannot estimate {X.shape[1]} coefficients; "
            "use fewer predictors or more couples."
        )
    repeated = np.bincount(codes).max() > 1
    layout = RowLayout(dyad=codes, member=np.zeros(len(y), dtype=np.int64), time=np.arange(len(y)))
    Z = np.ones((len(y), 1)) if repeated else np.zeros((len(y), 0))
    scale = 1.0 / np.sqrt(v)
    try:
        fit = fit_mixed(
            X * scale[:, None],
            y * scale,
            Z * scale[:, None],
            layout,
            Independent(distinguishable=False),
            Unstructured(1 if repeated else 0),
            estimator=estimator,  # type: ignore[arg-type]
        )
    except np.linalg.LinAlgError as exc:
        raise DyadicDataError(
            f"{func}(): the predictors {show_ids(list(predictors))} are collinear or constant "
            f"({exc}). Drop one."
        ) from exc
    if not repeated:
        warnings.append(
            "Every couple has one row: the couple and residual variances cannot be told "
            "apart, so the model is ordinary least squares."
        )
    starts = np.flatnonzero(np.r_[True, np.diff(codes) != 0])
    df = nlme_fixed_df(X, starts)  # from the unweighted design, as nlme
    jacobian = -0.5 * float(np.log(v).sum())
    loglik = fit.loglik + jacobian
    se_beta = np.sqrt(np.diag(fit.vcov))
    rows = [
        {
            "effect": "intercept" if i == 0 else "coefficient",
            "predictor": None if i == 0 else name,
            "role": None,
            "estimate": float(fit.beta[i]),
            "se": float(se_beta[i]),
            "df": float(df[i]) if repeated else float(len(y) - X.shape[1]),
        }
        for i, name in enumerate(names)
    ]
    tau = float(np.sqrt(fit.sigma2 * fit.psi[0, 0])) if repeated else None
    vc = pd.DataFrame(
        [
            {"name": "random_intercept_sd", "role": None, "estimate": tau},
            {"name": "residual_sd", "role": None, "estimate": float(np.sqrt(fit.sigma2))},
        ]
    )
    convergence = convergence_warnings(
        func=func,
        converged=fit.converged,
        detail=fit.message,
        boundary=["the couple variance is at (or near) zero"] if fit.boundary else [],
        estimation=estimator,
        hint="the couples differ no more than their rows do",
    )
    return CoupleModelResult(
        model="observe_couple_model",
        estimates=estimates_frame(rows, level=confidence),
        n_dyads=len(couples),
        n_obs=len(y),
        distinguishable=False,
        roles=[],
        estimation=estimator,
        variance_components=vc,
        fit={
            "loglik": loglik,
            "aic": fit.aic - 2 * jacobian,
            "bic": fit.bic - 2 * jacobian,
            "n_params": fit.n_params,
            "converged": fit.converged,
        },
        warnings=emit(warnings) + emit(convergence, ConvergenceWarning),
        level=confidence,
        call={
            "value": value,
            "couple": couple,
            "predictors": list(predictors),
            "transform": transform,
            "weights": weights,
            "se": se,
            "estimator": estimator,
        },
        extra={
            "outcome": "fisher_z" if transform else value,
            "model_formula": f"{'atanh(' + value + ')' if transform else value} ~ "
            f"{' + '.join(predictors) or '1'} + (1 | {couple})",
        },
    )
