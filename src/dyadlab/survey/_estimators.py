"""Means, totals, ratios and proportions, overall and by domain, with design SEs.

Each estimate has an influence function, zero outside its domain (the ``by`` group
and the rows where its variables are observed): R's ``svyby(~y, ~g, design,
svymean, na.rm = TRUE)`` subsets the design but keeps every stratum's PSU count, which
is the same as keeping all rows with zero influence. All domains' influence functions
form one matrix, so one pass gives their joint covariance (for contrasts).

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(500, rng=3)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> res = d.mean("depression")
>>> res.estimates[["effect", "predictor", "group"]].values.tolist()
[['mean', 'depression', None]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_numeric, check_option, show_ids
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, OptionError
from dyadlab.models._result import emit, estimates_frame
from dyadlab.survey._result import SurveyResult, critical
from dyadlab.survey._variance import DomainColumns, design_variance

if TYPE_CHECKING:
    from dyadlab.survey._design import SurveyDesign

__all__ = ["Domains", "domains", "estimate", "proportion"]


class Domains:
    """The ``by`` groups as codes: ``code`` is -1 for rows in no group (missing ``by``)."""

    def __init__(self, code: np.ndarray, labels: list[str], n_missing: int) -> None:
        self.code = code
        self.labels = labels
        self.n_missing = n_missing

    def __len__(self) -> int:
        return len(self.labels)


def _label(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def domains(data: pd.DataFrame, by: str | None, func: str) -> Domains:
    """The ``by`` groups of ``data`` in sorted order (one group of all rows without ``by``)."""
    if by is None:
        return Domains(np.zeros(len(data), dtype=np.int64), [], 0)
    check_columns(data, [by], func=func)
    codes, uniques = pd.factorize(data[by], sort=True)
    return Domains(codes.astype(np.int64), [_label(u) for u in uniques], int((codes < 0).sum()))


def _numeric(design: Any, column: str, func: str) -> np.ndarray:
    check_columns(design.data, [column], func=func)
    check_numeric(design.data, [column], func=func)
    return np.asarray(pd.to_numeric(design.data[column]), dtype=float)


def _warnings(design: Any, columns: Sequence[str], dom: Domains, by: str | None) -> list[str]:
    out = []
    for c in columns:
        k = int(design.data[c].isna().sum())
        if k:
            out.append(
                f"{k} respondents with {c!r} missing are outside the estimate's domain "
                "(kept in the design, as R's na.rm = TRUE)."
            )
    if dom.n_missing:
        out.append(f"{dom.n_missing} respondents with {by!r} missing are in no group.")
    return out


def _group_codes(dom: Domains, observed: np.ndarray) -> tuple[np.ndarray, int]:
    """Per row, its group code where ``observed`` (else -1), and the number of groups."""
    groups = max(len(dom), 1)
    code = np.where(observed & (dom.code >= 0), dom.code, -1)
    return code, groups


def _check_groups(counts: np.ndarray, dom: Domains, by: str | None, var: str, func: str) -> None:
    empty = np.flatnonzero(counts == 0)
    if len(empty):
        names = [dom.labels[i] for i in empty] if dom.labels else ["(all)"]
        where = f"the {by!r} group {show_ids(names)}" if by else "the data"
        raise DyadicDataError(
            f"{func}(): {where} has no respondents with {var!r} observed, so it has no "
            "estimate; drop or merge that group, or check the variable's missing values."
        )


def _influence(
    kind: str, y: np.ndarray, x: np.ndarray | None, w: np.ndarray, code: np.ndarray, groups: int
) -> tuple[np.ndarray, DomainColumns, np.ndarray]:
    """Estimates per group, the groups' influence functions and the row counts."""
    inside = code >= 0
    c = np.where(inside, code, 0)
    wi = np.where(inside, w, 0.0)
    y0 = np.where(inside, y, 0.0)
    n = np.bincount(c, weights=inside.astype(float), minlength=groups)
    wy = np.bincount(c, weights=wi * y0, minlength=groups)
    with np.errstate(divide="ignore", invalid="ignore"):  # empty groups are refused after
        if kind == "mean":
            wsum = np.bincount(c, weights=wi, minlength=groups)
            est = np.asarray(wy / wsum, dtype=float)
            value = wi * (y0 - est[c]) / wsum[c]
        elif kind == "total":
            est = np.asarray(wy, dtype=float)
            value = wi * y0
        else:
            assert x is not None
            x0 = np.where(inside, x, 0.0)
            wx = np.bincount(c, weights=wi * x0, minlength=groups)
            est = np.asarray(wy / wx, dtype=float)
            value = wi * (y0 - est[c] * x0) / wx[c]
    return est, DomainColumns(np.where(inside, value, 0.0), code, groups), n


def _variances(design: SurveyDesign, blocks: list[DomainColumns]) -> tuple[np.ndarray, np.ndarray]:
    """The joint covariance and, per column, the variance R's own subset would give."""
    lonely = "remove" if design.lonely_psu == "fail" else design.lonely_psu
    if lonely != "average":
        joint = design_variance(blocks, design.stages, lonely_psu=lonely)
        return joint, np.diag(joint).copy()
    union = np.logical_or.reduce([b.column >= 0 for b in blocks])
    joint = design_variance(blocks, design.stages, lonely_psu=lonely, present=union)
    own = [
        design_variance([b.only(j)], design.stages, lonely_psu=lonely, present=b.column == j)[0, 0]
        for b in blocks
        for j in range(b.p)
    ]
    return joint, np.array(own)


def estimate(
    design: SurveyDesign,
    kind: str,
    var: str | Sequence[str],
    *,
    by: str | None = None,
    denominator: str | None = None,
    level: float = 0.95,
) -> SurveyResult:
    """Mean, total or ratio of ``var`` per ``by`` group, with design SEs.

    Returns a :class:`SurveyResult` with one row per variable and group (``effect``
    ``mean``/``total``/``ratio``, ``predictor`` the variable, ``group`` the ``by``
    value), t intervals on the design df, and ``vcov`` their joint covariance.
    """
    func = f"survey.{kind}"
    variables = [var] if isinstance(var, str) else list(var)
    if not variables:
        raise OptionError(f"{func}(): name at least one variable.")
    dom = domains(design.data, by, func)
    x = _numeric(design, denominator, func) if denominator is not None else None
    blocks: list[DomainColumns] = []
    ests: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    preds: list[str] = []
    groups_out: list[str | None] = []
    values = {v: _numeric(design, v, func) for v in variables}
    # as R's svymean(~a + b, na.rm = TRUE): several variables share their complete cases
    observed = np.logical_and.reduce([~np.isnan(y) for y in values.values()])
    if x is not None:
        observed &= ~np.isnan(x)
    for v, y in values.items():
        code, groups = _group_codes(dom, observed)
        est, infl, n = _influence(kind, y, x, design.weights, code, groups)
        _check_groups(n, dom, by, v, func)
        blocks.append(infl)
        ests.append(est)
        counts.append(n)
        preds += [v if x is None else f"{v}/{denominator}"] * groups
        groups_out += dom.labels if by else [None]
    joint, own = _variances(design, blocks)
    est_all = np.concatenate(ests)
    se = np.sqrt(np.maximum(own, 0.0))
    frame = domain_frame(kind, preds, est_all, se, design.df, groups_out, counts, level)
    cols = variables + ([denominator] if denominator else [])
    return _result(
        design,
        f"survey_{kind}",
        frame,
        joint,
        _warnings(design, cols, dom, by),
        level,
        {"var": variables, "by": by, "denominator": denominator},
    )


def domain_frame(
    kind: str,
    preds: Sequence[str],
    estimates: np.ndarray,
    se: np.ndarray,
    df: float,
    groups: Sequence[Any],
    counts: Sequence[np.ndarray],
    level: float,
) -> pd.DataFrame:
    """The tidy estimates of domain statistics, one row per variable and group, with
    ``group`` and ``n`` (Taylor and replicate designs alike)."""
    rows = [
        {
            "effect": kind,
            "predictor": p,
            "role": None,
            "estimate": float(e),
            "se": float(s),
            "df": float(df),
        }
        for p, e, s in zip(preds, estimates, se, strict=True)
    ]
    frame = estimates_frame(rows, level=level)
    frame["group"] = list(groups)
    frame["n"] = np.concatenate(counts).astype(int)
    return frame


def _result(
    design: Any,
    model: str,
    frame: pd.DataFrame,
    vcov: np.ndarray,
    warnings: list[str],
    level: float,
    call: dict[str, Any],
    tests: list[dict[str, Any]] | None = None,
    fit: dict[str, Any] | None = None,
    convergence: Sequence[str] = (),
) -> SurveyResult:
    """The result of every survey estimate; its notes are issued through ``emit``."""
    return SurveyResult(
        model=model,
        estimates=frame,
        n_dyads=0,
        n_obs=len(design.data),
        distinguishable=False,
        roles=[],
        estimation=design.estimation,
        tests=tests or [],
        fit=fit or {},
        warnings=emit(warnings) + emit(convergence, ConvergenceWarning),
        level=level,
        call={**design.call, **{k: v for k, v in call.items() if v is not None}},
        extra={"design": design.info()},
        vcov=vcov,
    )


def _indicator(design: Any, var: str, value: Any, func: str) -> np.ndarray:
    check_columns(design.data, [var], func=func)
    col = design.data[var]
    missing = col.isna().to_numpy()
    if value is not None:
        out = (col == value).to_numpy(dtype=float)
    else:
        check_numeric(design.data, [var], func=func)
        out = pd.to_numeric(col).to_numpy(dtype=float)
        bad = ~missing & ~np.isin(out, (0.0, 1.0))
        if bad.any():
            raise DyadicDataError(
                f"{func}(): {var!r} must be 0/1 (or True/False) for a proportion, but "
                f"{int(bad.sum())} values are not (first: {show_ids(list(np.unique(out[bad])))}); "
                "pass value= to count one category."
            )
    out[missing] = np.nan
    return np.asarray(out, dtype=float)


def proportion(
    design: SurveyDesign,
    var: str,
    *,
    by: str | None = None,
    value: Any = None,
    method: str = "logit",
    level: float = 0.95,
) -> SurveyResult:
    """Proportion of ``var`` (0/1, or equal to ``value``) with R ``svyciprop``'s interval.

    ``method="logit"``: a Wald interval for logit(p) on the design df, back-transformed;
    ``method="beta"``: Korn & Graubard's (1998) Clopper–Pearson interval with the
    effective sample size. As ``svyby(…, svyciprop)``, the df of a group's interval is
    its own PSUs − strata. ``se`` is the SE of p.
    """
    func = "survey.proportion"
    check_option("method", method, ("logit", "beta"), func=func)
    y = _indicator(design, var, value, func)
    dom = domains(design.data, by, func)
    observed = ~np.isnan(y)
    code, groups = _group_codes(dom, observed)
    est, infl, n = _influence("mean", y, None, design.weights, code, groups)
    _check_groups(n, dom, by, var, func)
    joint, own = _variances(design, [infl])
    se = np.sqrt(np.maximum(own, 0.0))
    in_group = [dom.code == g for g in range(groups)] if by else [np.ones(len(y), dtype=bool)]
    df = np.array([design.subset_df(m) if by else design.df for m in in_group], dtype=float)
    alpha = 1 - level
    if method == "logit":
        logit = np.log(est / (1 - est))
        se_logit = se / (est * (1 - est))
        crit = critical(df, level)
        low = 1 / (1 + np.exp(-(logit - crit * se_logit)))
        high = 1 / (1 + np.exp(-(logit + crit * se_logit)))
    else:
        rows_n = np.array([m.sum() for m in in_group], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            n_eff = est * (1 - est) / se**2
            n_eff = n_eff * (stats.t.ppf(alpha / 2, rows_n - 1) / stats.t.ppf(alpha / 2, df)) ** 2
            low = stats.beta.ppf(alpha / 2, n_eff * est, n_eff * (1 - est) + 1)
            high = stats.beta.ppf(1 - alpha / 2, n_eff * est + 1, n_eff * (1 - est))
    label = var if value is None else f"{var}=={_label(value)}"
    rows = [
        {
            "effect": "proportion",
            "predictor": label,
            "role": None,
            "estimate": float(e),
            "se": float(s),
            "df": float(d),
            "ci_low": float(lo),
            "ci_high": float(hi),
        }
        for e, s, d, lo, hi in zip(est, se, df, low, high, strict=True)
    ]
    frame = estimates_frame(rows, level=level)
    frame["group"] = dom.labels if by else [None]
    frame["n"] = n.astype(int)
    return _result(
        design,
        "survey_proportion",
        frame,
        joint,
        _warnings(design, [var], dom, by),
        level,
        {"var": var, "by": by, "value": value, "method": method},
    )
