"""The multilevel concordance slope: genital response on subjective arousal over epochs,
with a random intercept and a random slope per person.

Fitted by dyadlab's mixed-model engine (:func:`dyadlab.models._engine.fit_mixed`) with
one block per person; reproduces ``nlme::lme(genital ~ subjective, random = ~ subjective
| person, method = "REML")`` (tests/reference/physio.R).

Examples
--------
>>> import dyadlab as dl
>>> import warnings
>>> d = dl.physio.simulate_concordance(n_dyads=10, n_epochs=40, r=0.5, rng=1)
>>> with warnings.catch_warnings():  # simulated: one slope for every person
...     warnings.simplefilter("ignore")
...     res = dl.physio.concordance_slope(d, subjective="subjective", genital="genital",
...                                       person="person", dyad="dyad", time="epoch")
>>> res.estimates["effect"].tolist()
['intercept', 'concordance_slope']
>>> res.warnings[0][:56]
'concordance_slope(): random effect 2: variance (or a cor'

"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric, estimator_option
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError
from dyadlab.models._engine import fit_mixed
from dyadlab.models._engine_covariance import Unstructured
from dyadlab.models._engine_residual import Independent, RowLayout
from dyadlab.models._result import ModelResult, convergence_warnings, emit, estimates_frame

__all__ = ["concordance_slope"]


def concordance_slope(
    data: pd.DataFrame,
    *,
    subjective: str,
    genital: str,
    person: str,
    time: str,
    dyad: str | None = None,
    estimator: str = "REML",
    level: float = 0.95,
    method: str | None = None,
) -> ModelResult:
    """Multilevel concordance: ``genital = b0 + b1 subjective + u0 + u1 subjective + e``.

    Parameters
    ----------
    data : DataFrame
        One row per person-epoch.
    subjective, genital, person, time : str
        Columns; persons are (dyad, person) when ``dyad`` is given.
    estimator : {"REML", "ML"}
        Restricted (default, as nlme's ``method = "REML"``) or full maximum likelihood.
    level : float
        Confidence level of the intervals.
    method : {"REML", "ML"}, optional
        Deprecated old name of ``estimator`` (a :class:`FutureWarning`).

    Returns
    -------
    ModelResult
        ``estimates``: ``intercept`` and ``concordance_slope`` (t tests on nlme's df);
        ``variance_components``: ``sd_intercept``, ``sd_slope``, ``cor_intercept_slope``,
        ``sd_residual``.

    Notes
    -----
    Reproduces ``nlme::lme(genital ~ subjective, random = ~ subjective | person,
    method = "REML")``. Standardise both measures within person first
    (:func:`~dyadlab.physio.standardize`) to read the slope as a within-person r-like
    coefficient.
    """
    func = "concordance_slope"
    estimator = estimator_option(estimator, method, func=func)
    check_columns(data, [subjective, genital, person, time, dyad], func=func)
    check_numeric(data, [subjective, genital, time], func=func)
    key = [dyad, person] if dyad else [person]
    frame = data[[*key, time, subjective, genital]].dropna().copy()
    frame["_pid"] = frame.groupby(key, sort=True).ngroup()
    frame = frame.sort_values(["_pid", time], kind="stable").reset_index(drop=True)
    n_persons = int(frame["_pid"].nunique())
    if n_persons < 3:
        raise DyadicDataError(
            f"{func}(): a random slope per person needs at least 3 persons; there are {n_persons}."
        )
    x = frame[subjective].to_numpy(float)
    y = frame[genital].to_numpy(float)
    X = np.column_stack([np.ones(len(x)), x])
    layout = RowLayout(
        dyad=frame["_pid"].to_numpy(),
        member=np.zeros(len(x), dtype=int),
        time=frame[time].to_numpy(float),
    )
    fit = fit_mixed(
        X,
        y,
        X.copy(),
        layout,
        Independent(distinguishable=False),
        Unstructured(2),
        estimator="REML" if estimator == "REML" else "ML",
    )
    se = np.sqrt(np.diag(fit.vcov))
    rows = [
        {
            "effect": eff,
            "predictor": pred,
            "estimate": float(fit.beta[i]),
            "se": float(se[i]),
            "df": float(fit.df[i]),
        }
        for i, (eff, pred) in enumerate([("intercept", None), ("concordance_slope", subjective)])
    ]
    cov = fit.sigma2 * fit.psi
    sd = np.sqrt(np.diag(cov))
    vc = pd.DataFrame(
        {
            "name": ["sd_intercept", "sd_slope", "cor_intercept_slope", "sd_residual"],
            "role": [None] * 4,
            "estimate": [
                sd[0],
                sd[1],
                cov[0, 1] / (sd[0] * sd[1]) if sd.all() else np.nan,
                np.sqrt(fit.sigma2),
            ],
        }
    )
    return ModelResult(
        model="physio_concordance_slope",
        estimates=estimates_frame(rows, level=level),
        n_dyads=int(frame[dyad].nunique()) if dyad else 0,
        n_obs=len(frame),
        distinguishable=False,
        roles=[],
        estimation=estimator,
        variance_components=vc,
        fit={
            "loglik": fit.loglik,
            "aic": fit.aic,
            "bic": fit.bic,
            "n_params": fit.n_params,
            "converged": fit.converged,
            "n_persons": n_persons,
        },
        warnings=emit(
            convergence_warnings(
                func=func,
                converged=fit.converged,
                detail=fit.message,
                boundary=fit.boundary,
                estimation=estimator,
            ),
            ConvergenceWarning,
        ),
        level=level,
        call={
            "subjective": subjective,
            "genital": genital,
            "person": person,
            "time": time,
            "dyad": dyad,
            "estimator": estimator,
        },
        extra={
            "reproduces": "nlme::lme(genital ~ subjective, random = ~ subjective | person, "
            f'method = "{estimator}")'
        },
    )
