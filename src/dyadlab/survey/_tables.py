"""Rao–Scott tests of association in a two-way table, as R ``svychisq``.

Pearson's X² of the weighted table (scaled to the sample size) is divided by the mean
of the design effects' eigenvalues (first order, ``statistic="Chisq"``) or referred to
an F distribution with Satterthwaite-matched df (second order, ``statistic="F"``, R's
default): F = X² / tr(Δ) on d₀ and d₀·ν df, d₀ = tr(Δ)² / tr(Δ²), ν = design df,
Δ the generalised design effect matrix of the interaction contrasts (Rao & Scott 1984).

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(600, rng=7)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> [t["name"] for t in d.chisq("relationship", "lonely_often").tests]
['rao_scott_F', 'rao_scott_chisq']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns
from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import estimates_frame
from dyadlab.survey._estimators import _label, _result
from dyadlab.survey._result import SurveyResult
from dyadlab.survey._variance import design_variance

if TYPE_CHECKING:
    from dyadlab.survey._design import SurveyDesign

__all__ = ["chisq"]


def _contrasts(nr: int, nc: int) -> np.ndarray:
    """R's ``qr.resid(qr(X1), X12[, interaction columns])`` on ``expand.grid(rows, cols)``."""
    rows = np.tile(np.arange(nr), nc)
    cols = np.repeat(np.arange(nc), nr)
    main = [np.ones(nr * nc)]
    main += [(rows == i).astype(float) for i in range(1, nr)]
    main += [(cols == j).astype(float) for j in range(1, nc)]
    x1 = np.column_stack(main)
    inter = np.column_stack(
        [((rows == i) & (cols == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(x1, inter, rcond=None)
    return np.asarray(inter - x1 @ coef, dtype=float)


def chisq(design: SurveyDesign, a: str, b: str, *, level: float = 0.95) -> SurveyResult:
    """Rao–Scott test of association between ``a`` and ``b`` (R ``svychisq``).

    Returns
    -------
    SurveyResult
        ``estimates``: the cell proportions (``effect`` "proportion", ``predictor``
        ``"a=…, b=…"``) with design SEs; ``tests``: ``rao_scott_F`` (second order,
        ``df`` d₀, ``ddf`` d₀·ν) and ``rao_scott_chisq`` (first order: X² and the
        p of X² / mean eigenvalue on (r−1)(c−1) df).
    """
    func = "survey.chisq"
    check_columns(design.data, [a, b], func=func)
    ra, la = pd.factorize(design.data[a], sort=True)
    cb, lb = pd.factorize(design.data[b], sort=True)
    nr, nc = len(la), len(lb)
    if nr < 2 or nc < 2:
        raise DyadicDataError(
            f"{func}(): {a!r} and {b!r} need at least two observed values each for a "
            f"table ({nr} and {nc} found)."
        )
    complete = (ra >= 0) & (cb >= 0)
    cell = np.where(complete, ra + nr * cb, -1)
    k = nr * nc
    w = design.weights
    wc = np.where(complete, w, 0.0)
    big_w = wc.sum()
    mean2 = np.bincount(np.where(complete, cell, 0), weights=wc, minlength=k) / big_w
    indicator = np.zeros((len(w), k))
    rows = np.flatnonzero(complete)
    indicator[rows, cell[rows]] = 1.0
    infl = wc[:, None] * (indicator - mean2[None, :]) / big_w
    lonely = "remove" if design.lonely_psu == "fail" else design.lonely_psu
    v = design_variance(infl, design.stages, lonely_psu=lonely, present=complete)
    n_all = len(w)
    c = _contrasts(nr, nc)
    inv_d = np.where(mean2 == 0, 0.0, 1 / np.where(mean2 == 0, 1.0, mean2))
    denom = c.T @ (np.diag(inv_d) / n_all) @ c
    numr = c.T @ np.diag(inv_d) @ v @ np.diag(inv_d) @ c
    delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(delta))
    d0 = tr**2 / float(np.trace(delta @ delta))
    table = (mean2 * n_all).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n_all
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.nansum((table - expected) ** 2 / expected))
    nu = design.df
    f_stat = pearson / tr
    tests: list[dict[str, Any]] = [
        {
            "name": "rao_scott_F",
            "statistic": f_stat,
            "df": d0,
            "ddf": d0 * nu,
            "p": float(stats.f.sf(f_stat, d0, d0 * nu)),
        },
        {
            "name": "rao_scott_chisq",
            "statistic": pearson,
            "df": (nr - 1) * (nc - 1),
            "ddf": None,
            "p": float(stats.chi2.sf(pearson / (tr / delta.shape[0]), delta.shape[0])),
        },
    ]
    se = np.sqrt(np.maximum(np.diag(v), 0.0))
    labels = [f"{a}={_label(la[i])}, {b}={_label(lb[j])}" for j in range(nc) for i in range(nr)]
    frame = estimates_frame(
        [
            {
                "effect": "proportion",
                "predictor": lab,
                "role": None,
                "estimate": float(m),
                "se": float(s),
                "df": float(nu),
            }
            for lab, m, s in zip(labels, mean2, se, strict=True)
        ],
        level=level,
    )
    frame["group"] = None
    frame["n"] = np.bincount(
        np.where(complete, cell, 0), weights=complete.astype(float), minlength=k
    ).astype(int)
    warnings = []
    if (~complete).any():
        warnings.append(
            f"{int((~complete).sum())} respondents with {a!r} or {b!r} missing are outside "
            "the table (kept in the design, as R's svychisq)."
        )
    return _result(design, "survey_chisq", frame, v, warnings, level, {"a": a, "b": b}, tests=tests)
