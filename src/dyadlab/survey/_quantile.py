"""Quantiles with Woodruff intervals, as R ``svyquantile`` (survey ≥ 4.1, ``qrule="math"``).

The estimate is the smallest value whose weighted distribution function reaches p. Its
interval (Woodruff 1952) inverts the interval of the proportion below the estimate:
p̂ ± t · SE(p̂) on the design df, mapped back through the same rule; the SE is the
interval's width / (2 t).

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(400, rng=6)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> d.quantile("loneliness", 0.5).estimates["effect"].tolist()
['quantile_0.5']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from dyadlab._validation import check_range
from dyadlab.models._result import estimates_frame
from dyadlab.survey._estimators import (
    _check_groups,
    _group_codes,
    _influence,
    _numeric,
    _result,
    _variances,
    _warnings,
    domains,
)
from dyadlab.survey._result import SurveyResult, critical

if TYPE_CHECKING:
    from dyadlab.survey._design import SurveyDesign

__all__ = ["quantile", "quantile_math"]


def quantile_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R survey's ``qrule_math``: the smallest x with weighted F(x) ≥ p."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # R's sum() and cumsum() accumulate in long double; with equal weights the rule
    # compares equal numbers, so the last bit decides
    cumw = np.cumsum(w[order].astype(np.longdouble)).astype(float)
    total = float(np.sum(w.astype(np.longdouble)))
    below = np.flatnonzero(cumw <= p * total)
    pos = below[-1] if len(below) else 0  # R survey's last(): the first when none is
    nxt = min(pos + 1, len(xs) - 1)
    return float(xs[pos] if p - cumw[pos] / total == 0 else xs[nxt])


def quantile(
    design: SurveyDesign,
    var: str,
    q: float | Sequence[float] = 0.5,
    *,
    by: str | None = None,
    level: float = 0.95,
) -> SurveyResult:
    """Quantile(s) of ``var`` per ``by`` group with Woodruff intervals (R ``svyquantile``).

    Rows: ``effect`` ``quantile_<q>``, ``ci_low``/``ci_high`` the Woodruff interval
    (NaN where it leaves [0, 1]), ``se`` its width / (2 t), ``df`` the group's own
    design df (its PSUs − strata, as ``svyby(…, svyquantile)``).
    """
    func = "survey.quantile"
    qs = [float(q)] if isinstance(q, int | float) else [float(v) for v in q]
    for v in qs:
        check_range("q", v, func=func, low=0.0, high=1.0, inclusive=False)
    y = _numeric(design, var, func)
    dom = domains(design.data, by, func)
    observed = ~np.isnan(y)
    code, groups = _group_codes(dom, observed)
    counts = np.bincount(
        np.where(code >= 0, code, 0), weights=(code >= 0).astype(float), minlength=groups
    )
    _check_groups(counts, dom, by, var, func)
    w = design.weights
    rows = []
    for g in range(groups):
        inside = code == g
        xg, wg = y[inside], w[inside]
        df = float(design.subset_df(inside))
        crit = float(critical(df, level))
        for p in qs:
            qhat = quantile_math(xg, wg, p)
            below = np.where(observed, (y <= qhat).astype(float), np.nan)
            est, infl, _ = _influence("mean", below, None, w, np.where(inside, 0, -1), 1)
            _, var_p = _variances(design, [infl])
            se_p = float(np.sqrt(max(var_p[0], 0.0)))
            lo_p, hi_p = est[0] - crit * se_p, est[0] + crit * se_p
            low = quantile_math(xg, wg, lo_p) if 0 <= lo_p <= 1 else np.nan
            high = quantile_math(xg, wg, hi_p) if 0 <= hi_p <= 1 else np.nan
            rows.append(
                {
                    "effect": f"quantile_{p:g}",
                    "predictor": var,
                    "role": None,
                    "estimate": qhat,
                    "se": (high - low) / (2 * crit),
                    "df": df,
                    "ci_low": low,
                    "ci_high": high,
                    "statistic": np.nan,
                    "p": np.nan,
                    "_group": dom.labels[g] if by else None,
                    "_n": int(counts[g]),
                }
            )
    frame = estimates_frame(rows, level=level)
    frame["group"] = [r["_group"] for r in rows]
    frame["n"] = [r["_n"] for r in rows]
    k = len(rows)
    vcov = np.full((k, k), np.nan)
    np.fill_diagonal(vcov, frame["se"].to_numpy() ** 2)
    return _result(
        design,
        "survey_quantile",
        frame,
        vcov,
        _warnings(design, [var], dom, by),
        level,
        {"var": var, "q": qs, "by": by},
    )
