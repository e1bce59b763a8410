"""``dl.observe.icc``: the six intraclass correlations of Shrout & Fleiss (1979).

For continuous ratings of the same targets by the same raters (a complete targets ×
raters table), from the two-way ANOVA mean squares: between targets (BMS), within
targets (WMS), between raters (JMS) and residual (EMS), with n targets and k raters::

    ICC1  = (BMS − WMS) / (BMS + (k−1) WMS)           ICC1k = (BMS − WMS) / BMS
    ICC2  = (BMS − EMS) / (BMS + (k−1) EMS + k (JMS − EMS)/n)
    ICC2k = (BMS − EMS) / (BMS + (JMS − EMS)/n)
    ICC3  = (BMS − EMS) / (BMS + (k−1) EMS)           ICC3k = (BMS − EMS) / BMS

F tests and confidence intervals as Shrout & Fleiss (1979) and ``psych::ICC(x, lmer =
FALSE)``, which these numbers equal.

Examples
--------
>>> import dyadlab as dl
>>> import pandas as pd
>>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
>>> df = pd.DataFrame([(t, j, v) for t, row in enumerate(sf) for j, v in enumerate(row)],
...                   columns=["target", "judge", "rating"])
>>> res = dl.observe.icc(df, target="target", rater="judge", value="rating")
>>> res.estimates["estimate"].round(2).tolist()
[0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_numeric, check_range, show_ids
from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import ModelResult, estimates_frame

__all__ = ["IccResult", "icc"]


class IccResult(ModelResult):
    """The six intraclass correlations, with the design's counts and mean squares."""

    @property
    def n_targets(self) -> int:
        """Targets rated (rows of the targets × raters table)."""
        return int(self.extra["n_targets"])

    @property
    def n_raters(self) -> int:
        """Raters (columns of the table)."""
        return int(self.extra["n_raters"])

    @property
    def mean_squares(self) -> dict[str, float]:
        """The two-way ANOVA's ``between_targets``, ``within_targets``, ``raters`` and
        ``residual`` mean squares."""
        return {str(k): float(v) for k, v in self.extra["mean_squares"].items()}


def _table(data: pd.DataFrame, target: str, rater: str, value: str) -> np.ndarray:
    check_columns(data, [target, rater, value], func="icc")
    check_numeric(data, [value], func="icc")
    t_codes, targets = pd.factorize(data[target], sort=True)
    r_codes, raters = pd.factorize(data[rater], sort=True)
    n, k = len(targets), len(raters)
    if k < 2 or n < 2:
        raise DyadicDataError(
            f"icc(): needs at least 2 targets and 2 raters; the data has {n} targets and "
            f"{k} raters."
        )
    x = np.full((n, k), np.nan)
    filled = np.zeros((n, k), dtype=np.int64)
    np.add.at(filled, (t_codes, r_codes), 1)
    if (filled > 1).any():
        t, r = (int(i) for i in np.argwhere(filled > 1)[0])
        raise DyadicDataError(
            f"icc(): target {show_ids([targets[t]])} has more than one rating by rater "
            f"{show_ids([raters[r]])}. Keep one rating per target and rater."
        )
    x[t_codes, r_codes] = pd.to_numeric(data[value]).to_numpy(dtype=float)
    missing = np.isnan(x).any(axis=1)
    if missing.any():
        bad = [targets[int(i)] for i in np.flatnonzero(missing)]
        raise DyadicDataError(
            f"icc(): every rater must rate every target, but {len(bad)} targets lack a "
            f"rating (first: {show_ids(bad[:3])}). Drop those targets."
        )
    return x


def icc(
    data: pd.DataFrame, *, target: str, rater: str, value: str, confidence: float = 0.95
) -> IccResult:
    """Shrout & Fleiss' six intraclass correlations with F tests and CIs.

    Parameters
    ----------
    data : DataFrame
        Long format: one row per target and rater.
    target, rater, value : str
        Columns: what is rated (a person, a couple, a session), who rates, the rating.
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    IccResult
        ``model`` ``"observe_icc"``; six ``estimates`` rows, ``effect`` ``ICC1, ICC2,
        ICC3, ICC1k, ICC2k, ICC3k``; ``statistic`` is the F value with ``df`` its
        numerator df (denominator df in ``tests``); ``se`` is null.

    Notes
    -----
    Reproduces ``psych::ICC(x, lmer = FALSE)`` (Shrout & Fleiss 1979, Table 4 values on
    their 6 × 4 example: .17, .29, .71, .44, .62, .91).
    """
    check_range("confidence", confidence, func="icc", low=0.0, high=1.0, inclusive=False)
    x = _table(data, target, rater, value)
    n, k = x.shape
    grand = x.mean()
    ss_b = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_j = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_t = ((x - grand) ** 2).sum()
    ss_e = ss_t - ss_b - ss_j
    bms, jms = ss_b / (n - 1), ss_j / (k - 1)
    ems = ss_e / ((n - 1) * (k - 1))
    wms = (ss_j + ss_e) / (n * (k - 1))
    icc1 = (bms - wms) / (bms + (k - 1) * wms)
    icc2 = (bms - ems) / (bms + (k - 1) * ems + k * (jms - ems) / n)
    icc3 = (bms - ems) / (bms + (k - 1) * ems)
    icc1k = (bms - wms) / bms
    icc2k = (bms - ems) / (bms + (jms - ems) / n)
    icc3k = (bms - ems) / bms
    a = 1 - confidence
    f1, d1n, d1d = bms / wms, n - 1, n * (k - 1)
    f2, d2n, d2d = bms / ems, n - 1, (n - 1) * (k - 1)
    p1, p2 = stats.f.sf(f1, d1n, d1d), stats.f.sf(f2, d2n, d2d)
    f1l, f1u = f1 / stats.f.ppf(1 - a / 2, d1n, d1d), f1 * stats.f.ppf(1 - a / 2, d1d, d1n)
    f3l, f3u = f2 / stats.f.ppf(1 - a / 2, d2n, d2d), f2 * stats.f.ppf(1 - a / 2, d2d, d2n)
    fj = jms / ems
    vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    vd = (n - 1) * k**2 * icc2**2 * fj**2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
    v = vn / vd
    fu, fl = stats.f.ppf(1 - a / 2, n - 1, v), stats.f.ppf(1 - a / 2, v, n - 1)
    l2 = n * (bms - fu * ems) / (fu * (k * jms + (k * n - k - n) * ems) + n * bms)
    u2 = n * (fl * bms - ems) / (k * jms + (k * n - k - n) * ems + n * fl * bms)
    rows = [
        ("ICC1", icc1, f1, d1n, p1, (f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1)),
        ("ICC2", icc2, f2, d2n, p2, l2, u2),
        ("ICC3", icc3, f2, d2n, p2, (f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1)),
        ("ICC1k", icc1k, f1, d1n, p1, 1 - 1 / f1l, 1 - 1 / f1u),
        ("ICC2k", icc2k, f2, d2n, p2, l2 * k / (1 + l2 * (k - 1)), u2 * k / (1 + u2 * (k - 1))),
        ("ICC3k", icc3k, f2, d2n, p2, 1 - 1 / f3l, 1 - 1 / f3u),
    ]
    est = estimates_frame(
        [
            {
                "effect": e,
                "predictor": value,
                "role": None,
                "estimate": v,
                "se": None,
                "statistic": f,
                "df": dfn,
                "p": p,
                "ci_low": lo,
                "ci_high": hi,
            }
            for e, v, f, dfn, p, lo, hi in rows
        ],
        level=confidence,
    )
    tests = [
        {"name": "targets_vs_within", "statistic": f1, "df": d1n, "df2": d1d, "p": p1},
        {"name": "targets_vs_residual", "statistic": f2, "df": d2n, "df2": d2d, "p": p2},
        {
            "name": "raters",
            "statistic": fj,
            "df": k - 1,
            "df2": d2d,
            "p": stats.f.sf(fj, k - 1, d2d),
        },
    ]
    return IccResult(
        model="observe_icc",
        estimates=est,
        n_dyads=0,
        n_obs=n * k,
        distinguishable=False,
        roles=[],
        estimation="two-way ANOVA (Shrout & Fleiss 1979)",
        tests=tests,
        level=confidence,
        call={"target": target, "rater": rater, "value": value},
        extra={
            "n_targets": n,
            "n_raters": k,
            "mean_squares": {
                "between_targets": bms,
                "within_targets": wms,
                "raters": jms,
                "residual": ems,
            },
        },
    )
