"""Replicate-weight designs: BRR, Fay, jackknife (JK1, JKn) and bootstrap, as R ``svrepdesign``.

Many public-use files ship replicate weights instead of strata and PSUs (to protect the
respondents' areas). Every estimate is then computed once with the full-sample weights
and once with each replicate's weights, and its variance is
``scale · Σ_r rscales_r (θ_r − θ̄)²`` (θ̄ the mean of the replicates, or θ itself with
``mse=True``), as R's ``svrVar``. :meth:`SurveyDesign.replicates` builds jackknife
replicates from a Taylor design, as R's ``as.svrepdesign(type = "JK1" | "JKn")``.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(400, rng=12)
>>> rep = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu",
...                        ).replicates("JKn")
>>> rep.n_replicates
80
>>> rep.mean("loneliness").estimates["effect"].tolist()
['mean']
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from dyadlab._validation import check_columns, check_numeric, check_option, show_ids
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._result import estimates_frame
from dyadlab.survey._estimators import (
    _check_groups,
    _group_codes,
    _indicator,
    _label,
    _numeric,
    _result,
    _warnings,
    domain_frame,
    domains,
)
from dyadlab.survey._result import SurveyResult, critical

if TYPE_CHECKING:
    from dyadlab.survey._design import SurveyDesign

__all__ = ["REPLICATE_TYPES", "ReplicateDesign", "jackknife", "replicate_design"]

REPLICATE_TYPES = ("BRR", "Fay", "JK1", "JKn", "bootstrap", "other")
_FUNC = "survey.replicate_design"


class ReplicateDesign:
    """A sample described by replicate weights; estimates as :class:`SurveyDesign`'s.

    Attributes
    ----------
    data : DataFrame
    weights : ndarray, shape (n,)
        Full-sample weights.
    repweights : ndarray, shape (n, R)
        Replicate weights (combined: they include the sampling weights).
    scale : float
    rscales : ndarray, shape (R,)
    mse : bool
        Centre the replicates on the full-sample estimate rather than their mean.
    type : str
    df : int
        Design df: rank of the replicate weights − 1 (R's ``degf``).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: np.ndarray,
        repweights: np.ndarray,
        scale: float,
        rscales: np.ndarray,
        mse: bool,
        type: str,
        call: dict[str, Any],
    ) -> None:
        self.data = data
        self.weights = weights
        self.repweights = repweights
        self.scale = float(scale)
        self.rscales = rscales
        self.mse = mse
        self.type = type
        self.call = call
        self.df = _rank(repweights) - 1

    @property
    def estimation(self) -> str:
        return f"replicate weights ({self.type})"

    @property
    def n_replicates(self) -> int:
        return int(self.repweights.shape[1])

    def __repr__(self) -> str:
        return (
            f"ReplicateDesign({len(self.data)} rows, {self.n_replicates} {self.type} "
            f"replicates, df = {self.df})"
        )

    def info(self) -> dict[str, Any]:
        """The design as the JSON's ``design`` object."""
        return {
            "n_obs": len(self.data),
            "type": self.type,
            "replicates": self.n_replicates,
            "scale": self.scale,
            "mse": self.mse,
            "df": self.df,
            **self.call,
        }

    def variance(self, theta: np.ndarray, replicates: np.ndarray) -> np.ndarray:
        """``scale · Σ rscales (θ_r − c)(θ_r − c)ᵀ`` for replicates (R × p), as R's svrVar."""
        centre = theta if self.mse else replicates[self.rscales > 0].mean(axis=0)
        dev = (replicates - centre) * np.sqrt(self.rscales)[:, None]
        return np.asarray(dev.T @ dev * self.scale, dtype=float)

    def mean(
        self, var: str | Sequence[str], *, by: str | None = None, level: float = 0.95
    ) -> SurveyResult:
        """Weighted means per ``by`` group with replicate SEs (``svymean`` on svrepdesign)."""
        return _estimate(self, "mean", var, by=by, level=level)

    def total(
        self, var: str | Sequence[str], *, by: str | None = None, level: float = 0.95
    ) -> SurveyResult:
        """Weighted totals per ``by`` group with replicate SEs."""
        return _estimate(self, "total", var, by=by, level=level)

    def ratio(
        self, numerator: str, denominator: str, *, by: str | None = None, level: float = 0.95
    ) -> SurveyResult:
        """Ratio of two totals per ``by`` group with replicate SEs."""
        return _estimate(self, "ratio", numerator, by=by, denominator=denominator, level=level)

    def proportion(
        self,
        var: str,
        *,
        by: str | None = None,
        value: Any = None,
        method: str = "logit",
        level: float = 0.95,
    ) -> SurveyResult:
        """Proportion with a logit or Korn–Graubard interval (``svyciprop``)."""
        return _proportion(self, var, by=by, value=value, method=method, level=level)

    def glm(
        self, y: str, x: str | Sequence[str], *, family: str = "gaussian", level: float = 0.95
    ) -> SurveyResult:
        """Design-based GLM refitted with every replicate's weights (``svyglm``)."""
        from dyadlab.survey._glm import glm

        result: SurveyResult = glm(self, y, x, family=family, level=level)
        return result

    def subset_df(self, rows: np.ndarray) -> int:
        """Design df of the rows ``rows``: rank of their replicate weights − 1."""
        return _rank(self.repweights[rows]) - 1


def _rank(matrix: np.ndarray) -> int:
    """Numerical rank of the replicate weights (relative tolerance 1e-5, as R's degf).

    From the eigenvalues of the small R × R cross-product, so that n × R is never
    decomposed.
    """
    if matrix.size == 0:
        return 0
    scaled = matrix / max(float(np.abs(matrix).max()), 1e-300)
    eig = np.linalg.eigvalsh(scaled.T @ scaled)
    return int(np.sum(eig > (1e-5) ** 2 * eig.max()))


def _sums(values: np.ndarray, code: np.ndarray, groups: int, weights: np.ndarray) -> np.ndarray:
    """Σ weight·value per group for every weight column: (groups, columns)."""
    rows = np.flatnonzero(code >= 0)
    onehot = sparse.csr_matrix((values[rows], (code[rows], rows)), shape=(groups, len(values)))
    return np.asarray(onehot @ weights, dtype=float)


def _thetas(
    design: ReplicateDesign,
    kind: str,
    y: np.ndarray,
    x: np.ndarray | None,
    code: np.ndarray,
    groups: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Full-sample estimates (groups,) and replicate estimates (R, groups)."""
    both = np.column_stack([design.weights, design.repweights])
    inside = code >= 0
    wy = _sums(np.where(inside, y, 0.0), code, groups, both)
    if kind == "total":
        est = wy
    else:
        if kind == "mean":
            den = np.where(inside, 1.0, 0.0)
        else:
            assert x is not None
            den = np.where(inside, x, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            est = wy / _sums(den, code, groups, both)
    return est[:, 0], est[:, 1:].T


def _estimate(
    design: ReplicateDesign,
    kind: str,
    var: str | Sequence[str],
    *,
    by: str | None,
    level: float,
    denominator: str | None = None,
) -> SurveyResult:
    func = f"survey.{kind}"
    variables = [var] if isinstance(var, str) else list(var)
    if not variables:
        raise OptionError(f"{func}(): name at least one variable.")
    dom = domains(design.data, by, func)
    x = _numeric(design, denominator, func) if denominator is not None else None
    values = {v: _numeric(design, v, func) for v in variables}
    observed = np.logical_and.reduce([~np.isnan(y) for y in values.values()])
    if x is not None:
        observed &= ~np.isnan(x)
    code, groups = _group_codes(dom, observed)
    counts = np.bincount(
        np.where(code >= 0, code, 0), weights=(code >= 0).astype(float), minlength=groups
    )
    thetas: list[np.ndarray] = []
    reps: list[np.ndarray] = []
    preds: list[str] = []
    groups_out: list[str | None] = []
    ns: list[np.ndarray] = []
    for v, y in values.items():
        _check_groups(counts, dom, by, v, func)
        theta, rep = _thetas(design, kind, y, x, code, groups)
        thetas.append(theta)
        reps.append(rep)
        preds += [v if x is None else f"{v}/{denominator}"] * groups
        groups_out += dom.labels if by else [None]
        ns.append(counts)
    theta_all = np.concatenate(thetas)
    vcov = design.variance(theta_all, np.hstack(reps))
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0))
    frame = domain_frame(kind, preds, theta_all, se, design.df, groups_out, ns, level)
    cols = variables + ([denominator] if denominator else [])
    return _result(
        design,
        f"survey_{kind}",
        frame,
        vcov,
        _warnings(design, cols, dom, by),
        level,
        {"var": var, "by": by, "denominator": denominator},
    )


def _proportion(
    design: ReplicateDesign,
    var: str,
    *,
    by: str | None,
    value: Any,
    method: str,
    level: float,
) -> SurveyResult:
    func = "survey.proportion"
    check_option("method", method, ("logit", "beta"), func=func)
    y = _indicator(design, var, value, func)
    dom = domains(design.data, by, func)
    code, groups = _group_codes(dom, ~np.isnan(y))
    counts = np.bincount(
        np.where(code >= 0, code, 0), weights=(code >= 0).astype(float), minlength=groups
    )
    _check_groups(counts, dom, by, var, func)
    est, reps = _thetas(design, "mean", y, None, code, groups)
    vcov = design.variance(est, reps)
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0))
    in_group = [dom.code == g for g in range(groups)] if by else [np.ones(len(y), dtype=bool)]
    df = np.array([design.subset_df(m) if by else design.df for m in in_group], dtype=float)
    alpha = 1 - level
    if method == "logit":
        # svyglm(y ~ 1, family = quasibinomial) on the replicates: logit(p_r)
        logit = np.log(est / (1 - est))
        with np.errstate(divide="ignore", invalid="ignore"):
            rep_logit = np.log(reps / (1 - reps))
        se_logit = np.sqrt(np.diag(design.variance(logit, rep_logit)))
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
    frame = estimates_frame(
        [
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
        ],
        level=level,
    )
    frame["group"] = dom.labels if by else [None]
    frame["n"] = counts.astype(int)
    return _result(
        design,
        "survey_proportion",
        frame,
        vcov,
        _warnings(design, [var], dom, by),
        level,
        {"var": var, "by": by, "value": value, "method": method},
    )


def replicate_design(
    data: pd.DataFrame,
    *,
    weights: str,
    repweights: str | Sequence[str],
    type: str,
    scale: float | None = None,
    rscales: float | Sequence[float] | None = None,
    rho: float | None = None,
    mse: bool = False,
) -> ReplicateDesign:
    """A design given by replicate weights, as R's ``svrepdesign(combined.weights = TRUE)``.

    Parameters
    ----------
    data : DataFrame
    weights : str
        Full-sample weight column.
    repweights : str or list of str
        The replicate-weight columns, or a regular expression matching their names
        (``"repwt[0-9]+"``), as R's ``repweights=``. Combined weights: they include the
        sampling weights.
    type : {"BRR", "Fay", "JK1", "JKn", "bootstrap", "other"}
        Sets ``scale`` and ``rscales`` as R does: BRR 1/R; Fay 1/(R(1−ρ)²); JK1
        (R−1)/R; bootstrap 1/(R−1); JKn needs ``rscales`` ((n_h−1)/n_h per replicate).
    scale, rscales : optional
        Override (JK1, bootstrap, other) or supply (JKn) the multipliers.
    rho : float, optional
        Fay's coefficient (``type="Fay"``).
    mse : bool
        Centre on the full-sample estimate instead of the replicates' mean.

    Returns
    -------
    ReplicateDesign
    """
    check_option("type", type, REPLICATE_TYPES, func=_FUNC)
    if not isinstance(data, pd.DataFrame):
        raise DyadicDataError(f"{_FUNC}(): data must be a pandas DataFrame.")
    if isinstance(repweights, str):
        pattern = re.compile(repweights)
        cols = [str(c) for c in data.columns if pattern.search(str(c))]
        if not cols:
            raise DyadicDataError(
                f"{_FUNC}(): no column matches repweights={repweights!r}; give the "
                "replicate-weight columns or a regular expression for their names."
            )
    else:
        cols = list(repweights)
    check_columns(data, [weights, *cols], func=_FUNC)
    check_numeric(data, [weights, *cols], func=_FUNC)
    from dyadlab.survey._design import _weights

    w = _weights(data, weights)
    rep = data[cols].to_numpy(dtype=float)
    bad = np.isnan(rep).any(axis=1)
    if bad.any():
        raise DyadicDataError(
            f"{_FUNC}(): replicate weights are missing in {int(bad.sum())} rows (rows "
            f"{show_ids(list(data.index[bad]))}); every respondent needs all of them."
        )
    n_rep = rep.shape[1]
    if type == "Fay" and rho is None:
        raise OptionError(f"{_FUNC}(): type='Fay' needs rho=, Fay's coefficient (e.g. 0.3).")
    if type == "JKn" and rscales is None:
        raise OptionError(
            f"{_FUNC}(): type='JKn' needs rscales= ((n_h − 1)/n_h for each replicate, "
            "n_h the PSUs of the replicate's stratum), as R's svrepdesign."
        )
    if type == "BRR":
        scale = 1 / n_rep
    elif type == "Fay":
        assert rho is not None
        scale = 1 / (n_rep * (1 - rho) ** 2)
    elif type == "bootstrap" and scale is None:
        scale = 1 / (n_rep - 1)
    elif type == "JK1" and scale is None:
        scale = (n_rep - 1) / n_rep
    rs = (
        np.ones(n_rep)
        if rscales is None
        else np.broadcast_to(np.asarray(rscales, dtype=float), (n_rep,)).copy()
    )
    call = {
        "weights": weights,
        "repweights": cols if len(cols) <= 8 else f"{len(cols)} columns",
        "type": type,
    }
    return ReplicateDesign(
        data,
        weights=w,
        repweights=rep,
        scale=1.0 if scale is None else float(scale),
        rscales=rs,
        mse=mse,
        type=type,
        call=call,
    )


def jackknife(design: SurveyDesign, type: str = "JKn") -> ReplicateDesign:
    """Delete-one-PSU jackknife replicates of a Taylor design (R ``as.svrepdesign``).

    ``"JK1"`` for an unstratified design; ``"JKn"`` drops one PSU of one stratum per
    replicate and reweights the stratum's other PSUs by n_h/(n_h − 1), with
    ``rscales`` f_h·(n_h − 1)/n_h (f_h the first-stage finite-population correction).
    Strata with one PSU follow the design's ``lonely_psu`` as R's ``jknweights``.
    """
    func = "survey.replicates"
    check_option("type", type, ("JK1", "JKn"), func=func)
    stage = design.stages[0]
    has_strata = design.call.get("strata") is not None
    if type == "JK1" and has_strata:
        raise OptionError(f"{func}(): type='JK1' is for unstratified designs; use 'JKn'.")
    if type == "JKn" and not has_strata:
        raise OptionError(f"{func}(): type='JKn' needs strata; use 'JK1'.")
    unit, s_of_u = stage.unit, stage.unit_stratum
    n_h = stage.n_sampled
    f = stage.f  # per unit: (N − n)/N, or 1
    n_units = stage.n_units
    columns: list[np.ndarray] = []
    rscales: list[float] = []
    scale = 1.0
    if type == "JK1":
        n = n_units
        fpc = float(f[0])
        for j in range(n_units):
            factor = np.where(np.arange(n_units) == j, 0.0, n / (n - 1))
            columns.append(factor)
        rscales = [1.0] * n_units
        scale = fpc * (n - 1) / n
    else:
        n_strata = stage.n_strata
        lonely = design.lonely_psu
        kept = 0
        for h in range(n_strata):
            members = np.flatnonzero(s_of_u == h)
            fh = float(f[members[0]])
            nh = int(n_h[h])
            if fh == 0:  # a census stratum adds no replicates (survey.drop.replicates)
                continue
            if nh == 1:
                if lonely == "adjust":
                    factor = np.where(s_of_u == h, 0.0, n_strata / (n_strata - 1))
                    columns.append(factor)
                    rscales.append((n_strata - 1) / n_strata)
                continue
            for j in members.tolist():
                factor = np.ones(n_units)
                factor[members] = nh / (nh - 1)
                factor[j] = 0.0
                columns.append(factor)
                rscales.append(fh * (nh - 1) / nh)
            kept += 1
        if len(columns) < n_units and lonely == "average":
            scale = n_units / len(columns)
    factors = np.column_stack(columns)
    rep = design.weights[:, None] * factors[unit]
    call = {
        "weights": design.call.get("weights"),
        "type": type,
        "from": "jackknife of a Taylor design",
    }
    return ReplicateDesign(
        design.data,
        weights=design.weights,
        repweights=rep,
        scale=scale,
        rscales=np.asarray(rscales, dtype=float),
        mse=False,
        type=type,
        call=call,
    )
