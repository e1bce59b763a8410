"""The dyadic diary GLMM: binary and count outcomes of both partners, day by day.

:func:`diary_glmm` is what ``dl.diary(..., family="binomial" | "poisson" |
"negative_binomial")`` runs. It prepares the data exactly as the Gaussian diary model
(:func:`dyadlab.models.diary._prepare`: partner predictors matched by dyad and occasion,
person-mean centring, covariates, rows left out counted) and fits the two-intercept
GLMM — correlated random intercepts of the two partners, actor and partner effects per
role — by the Laplace approximation (or adaptive Gauss–Hermite quadrature) of
:mod:`dyadlab.models._glmm_laplace`, equal to ``lme4::glmer`` (and ``glmmTMB`` with
``nbinom2`` for the negative binomial).

Examples
--------
>>> import numpy as np, dyadlab as dl
>>> df = dl.simulate_diary(40, 21, rng=1)
>>> df["y"] = (df["y"] > df["y"].median()).astype(int)
>>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time",
...                role="role", family="binomial")
>>> res.estimation, list(res.ratios.columns)[:4]
('Laplace', ['effect', 'predictor', 'role', 'ratio'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_option, check_range, show_ids
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, OptionError
from dyadlab.models._glmm_family import FAMILIES
from dyadlab.models._glmm_laplace import Blocks, Cholesky, Exchangeable, GlmmFit, fit_glmm
from dyadlab.models._result import (
    VARIANCE_COLUMNS,
    convergence_warnings,
    emit,
    estimates_frame,
    present,
)
from dyadlab.models.diary import (
    DiaryResult,
    _as_list,
    _check_input,
    _design,
    _prepare,
    persons_without_outcome,
)

__all__ = ["GlmmDiaryResult", "diary_glmm"]

_FUNC = "diary"
#: Pearson chi-square / df above this (and significant) is called overdispersion
_OVERDISPERSED = 1.2


@dataclass(frozen=True)
class GlmmDiaryResult(DiaryResult):
    """:class:`~dyadlab.models.diary.DiaryResult` of a binary or count outcome.

    ``estimates`` are on the link scale (log-odds, log-rate); :attr:`ratios` gives their
    exponentials (odds ratios, rate ratios) with the same confidence limits
    exponentiated; ``plot()`` draws predicted probabilities (or counts) over a predictor
    per role.
    """

    _curve: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def family(self) -> str:
        """The response family (``"binomial"``, ``"poisson"``, ``"negative_binomial"``)."""
        return str(self.extra["family"])

    @property
    def link(self) -> str:
        """The link of the estimates' scale (``"logit"``, ``"log"``)."""
        return str(self.extra["link"])

    @property
    def overdispersion(self) -> dict[str, Any] | None:
        """Pearson chi-square over residual df of a Poisson fit (None for other families)."""
        od = self.extra.get("overdispersion")
        return None if od is None else dict(od)

    @property
    def ratios(self) -> pd.DataFrame:
        """Odds ratios (binomial) or rate ratios (counts) with their confidence limits."""
        return pd.DataFrame(self.extra[_ratio_key(self.family)])

    def plot(self, *, predictor: str | None = None, **_ignored: Any) -> Any:
        """Predicted probabilities or counts over ``predictor`` per role (see
        :func:`dyadlab.report.glmm_plots.plot_predicted`)."""
        if self._curve is None:
            raise OptionError("diary GLMM plot(): this result carries no design to plot.")
        return present("glmm_plots", "plot_predicted")(
            self._curve, predictor=predictor, level=self.level
        )

    def summary(self) -> str:
        """The diary summary, with the odds (or rate) ratios after the estimates."""
        text = super().summary()
        ratios = self.ratios
        name = "Odds ratios" if self.family == "binomial" else "Rate ratios"
        lines = ["", f"{name} (exp of the estimates) with {self.level:.0%} CI:"]
        for r in ratios.itertuples(index=False):
            label = " ".join(str(v) for v in (r.effect, r.predictor, r.role) if v is not None)
            lines.append(f"  {label}: {r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]")
        head, sep, tail = text.partition("\n\nVariance components:")
        return head + "\n".join(lines) + sep + tail


def _ratio_key(family: str) -> str:
    return "odds_ratios" if family == "binomial" else "rate_ratios"


def check_outcome(data: pd.DataFrame, y: str, family: str) -> None:
    """Raise :class:`DyadicDataError` naming the values a family cannot take."""
    values = data[y].dropna()
    num = pd.to_numeric(values, errors="coerce")
    text = values[num.isna()]
    if family == "binomial":
        bad = pd.unique(values[num.isna() | ~num.isin([0, 1])])
        if len(bad):
            raise DyadicDataError(
                f"{_FUNC}(): family='binomial' needs the outcome {y!r} coded 0/1, but it "
                f"holds {len(bad)} other value(s): {show_ids(list(bad))}. Code it as 0/1 "
                "(e.g. yes = 1, no = 0), or use family='poisson' for counts."
            )
        return
    if len(text):
        raise DyadicDataError(
            f"{_FUNC}(): family={family!r} needs counts (0, 1, 2, …) in {y!r}, but it holds "
            f"text: {show_ids(list(pd.unique(text)))}. Convert the column to numbers."
        )
    bad_mask = (num < 0) | (num != np.round(num))
    if bad_mask.any():
        bad = pd.unique(num[bad_mask])
        raise DyadicDataError(
            f"{_FUNC}(): family={family!r} needs non-negative whole counts in {y!r}, but "
            f"{int(bad_mask.sum())} values are negative or not whole: {show_ids(list(bad))}. "
            "Fix the counts, or use family='gaussian' for a continuous outcome."
        )


def _separated_persons(
    data: pd.DataFrame, y: str, dyad: str, person: str
) -> tuple[list[Any], list[Any]]:
    """(dyad, person) of persons whose observed outcomes are all 0, and all 1."""
    obs = data[[dyad, person, y]].dropna()
    per = pd.to_numeric(obs[y]).groupby([obs[dyad], obs[person]], sort=True)
    lo, hi = per.max() == 0, per.min() == 1
    return list(lo.index[lo]), list(hi.index[hi])


def _glmer_call(roles: list[Any], family: str, nagq: int) -> str:
    if family == "negative_binomial":
        fam, fn = "nbinom2", "glmmTMB::glmmTMB"
    else:
        fam, fn = family, "lme4::glmer"
    agq = f", nAGQ = {nagq}" if nagq > 1 else ""
    if roles:
        return (
            f"{fn}(y ~ 0 + role + role:x + role:x_partner + (0 + role | dyad), family = {fam}{agq})"
        )
    return f"{fn}(y ~ x + x_partner + (1 | dyad) + (1 | dyad:person), family = {fam}{agq})"


def _variance_rows(fit: GlmmFit, roles: list[Any]) -> pd.DataFrame:
    sd = np.sqrt(np.clip(np.diag(fit.G), 0, None))
    cor = float(fit.G[0, 1] / (sd[0] * sd[1])) if sd[0] > 0 and sd[1] > 0 else float("nan")
    if roles:
        rows = [
            {"name": "random_intercept_sd", "role": str(r), "estimate": float(s)}
            for r, s in zip(roles, sd, strict=True)
        ]
    else:
        rows = [{"name": "random_intercept_sd", "role": None, "estimate": float(sd[0])}]
    rows.append({"name": "random_intercept_correlation", "role": None, "estimate": cor})
    if fit.dispersion is not None:
        # glmmTMB's nbinom2 dispersion: Var(y) = mu + mu^2 / theta
        rows.append({"name": "nb_dispersion", "role": None, "estimate": fit.dispersion})
    frame = pd.DataFrame(rows, columns=VARIANCE_COLUMNS)
    frame["role"] = pd.Series([r["role"] for r in rows], dtype=object)
    return frame


def _ratios(estimates: pd.DataFrame) -> list[dict[str, Any]]:
    with np.errstate(over="ignore"):  # a diverging estimate gives inf, written as null
        exp = np.exp(estimates[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float))
    return [
        {
            "effect": lab["effect"],
            "predictor": lab["predictor"],
            "role": lab["role"],
            "ratio": float(e[0]),
            "ci_low": float(e[1]),
            "ci_high": float(e[2]),
        }
        for lab, e in zip(estimates.to_dict(orient="records"), exp, strict=True)
    ]


def _overdispersion(
    fit: GlmmFit, y: np.ndarray, family: str, warnings: list[str]
) -> dict[str, Any]:
    """Pearson chi-square of the conditional residuals over the residual df."""
    var = FAMILIES[family].pearson_variance(fit.mu, fit.dispersion)
    chisq = float(np.sum((y - fit.mu) ** 2 / np.maximum(var, 1e-300)))
    rdf = int(fit.n_obs - fit.n_params)
    ratio = chisq / rdf if rdf > 0 else float("nan")
    p = float(stats.chi2.sf(chisq, rdf)) if rdf > 0 else float("nan")
    if ratio > _OVERDISPERSED and p < 0.05:
        p_text = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
        warnings.append(
            f"The Poisson model is overdispersed (Pearson chi-square / df = {ratio:.2f}, "
            f"{p_text}): its standard errors are too small. Refit with "
            "family='negative_binomial'."
        )
    return {"name": "overdispersion", "statistic": chisq, "df": rdf, "p": p, "ratio": ratio}


def _curve(
    df: dict[str, np.ndarray],
    X: np.ndarray,
    labels: list[dict[str, Any]],
    predictors: list[tuple[str, str, str]],
    fit: GlmmFit,
    roles: list[Any],
    family: str,
    y: str,
) -> dict[str, Any]:
    """What plot_predicted needs: the design's means per role and each predictor's range."""
    member = df["_member"]
    groups: list[tuple[str | None, np.ndarray]] = [
        (str(r), member == k) for k, r in enumerate(roles)
    ] or [(None, member >= 0)]
    ranges = {}
    for col, effect, name in predictors:
        v = df[col]
        ranges[(effect, name)] = (float(np.min(v)), float(np.max(v)))
    return {
        "labels": labels,
        "beta": fit.beta,
        "vcov": fit.vcov,
        "means": {r: X[rows].mean(axis=0) for r, rows in groups},
        "ranges": ranges,
        "family": family,
        "y": y,
    }


def two_intercept_design(
    df: dict[str, np.ndarray],
    predictors: list[tuple[str, str, str]],
    roles: Sequence[Any],
) -> tuple[np.ndarray, list[dict[str, Any]], Cholesky | Exchangeable]:
    """The diary GLMM's fixed effects and random-intercept structure, from arrays.

    ``df`` holds ``_member`` (0/1) and each predictor's column; ``predictors`` are
    ``(column, effect, name)`` as :func:`dyadlab.models.diary._prepare` gives them. With
    ``roles``: columns ``(intercept_1, intercept_2, then each predictor per role)`` and
    correlated random intercepts per role (``Cholesky(2)``); without: one intercept and
    exchangeable random intercepts. :func:`dyadlab.diary` and ``power.diary``'s yes/no
    refits both build their design here.

    Examples
    --------
    >>> df = {"_member": np.array([0, 1]), "a": np.array([1.0, 2.0]),
    ...       "p": np.array([2.0, 1.0])}
    >>> X, labels, structure = two_intercept_design(
    ...     df, [("a", "actor", "x"), ("p", "partner", "x")], ["f", "m"])
    >>> X.tolist(), type(structure).__name__
    ([[1.0, 0.0, 1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 2.0, 0.0, 1.0]], 'Cholesky')
    """
    X, _, labels, _ = _design(df, predictors, list(roles), False)
    return X, labels, Cholesky(2) if roles else Exchangeable()


def diary_glmm(
    data: pd.DataFrame,
    *,
    y: str,
    x: str | Sequence[str],
    dyad: str,
    person: str,
    time: str,
    role: str | None,
    center: str,
    residual: str,
    random_slopes: bool,
    covariates: str | Sequence[str] | None,
    level: float,
    family: str,
    nagq: int,
) -> GlmmDiaryResult:
    """Fit the dyadic diary GLMM; the arguments are :func:`dyadlab.diary`'s."""
    check_option("family", family, tuple(FAMILIES), func=_FUNC)
    check_option("center", center, ("none", "person"), func=_FUNC)
    check_range("level", level, func=_FUNC, low=0.0, high=1.0, inclusive=False)
    if not isinstance(nagq, int | np.integer) or not 1 <= nagq <= 25:
        raise OptionError(f"{_FUNC}(): nagq must be a whole number from 1 to 25, not {nagq!r}.")
    if residual != "cs" or random_slopes:
        raise OptionError(
            f"{_FUNC}(): residual={residual!r} and random_slopes are options of the Gaussian "
            f"model; family={family!r} has no residual correlation and fits random "
            "intercepts only. Leave them at their defaults."
        )
    if not isinstance(data, pd.DataFrame):
        raise OptionError(f"{_FUNC}(): data must be a pandas DataFrame, not {type(data).__name__}.")
    xs, covs = _as_list(x), _as_list(covariates)
    if not xs:
        raise OptionError(f"{_FUNC}(): x names no predictor. Give x='column'.")
    check_columns(data, [y], func=_FUNC)
    check_outcome(data, y, family)
    keys: dict[str, Any] = {"y": y, "xs": xs, "covariates": covs, "dyad": dyad, "person": person}
    warnings = _check_input(data, **keys, time=time, role=role, residual="cs")
    df, predictors, excluded, roles = _prepare(data, **keys, time=time, role=role, center=center)
    n_used = len(df["_member"])
    n_excluded = int(len(data) - n_used)
    if n_excluded:
        reasons = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in excluded.items() if v)
        warnings.append(
            f"{n_excluded} of {len(data)} person-occasions were left out of the fit ({reasons})."
            + persons_without_outcome(data, y=y, dyad=keys["dyad"], person=keys["person"])
        )
    if n_used == 0:
        raise DyadicDataError(
            f"{_FUNC}(): no person-occasion has the outcome, the predictors and the partner's "
            "predictors all observed. Check the time column matches partners' occasions."
        )
    X, labels, structure = two_intercept_design(df, predictors, roles)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        from dyadlab.models._numerics import collinear_note

        raise DyadicDataError(
            f"{_FUNC}(): the fixed effects cannot be estimated: a predictor is constant or a "
            f"linear combination of others in the rows used ({collinear_note(X, labels)}). "
            "Leave one of them out."
        )
    if family == "binomial":
        zeros, ones = _separated_persons(data, y, dyad, person)
        for ids, value in ((zeros, 0), (ones, 1)):
            if ids:
                warnings.append(
                    f"{len(ids)} persons have {y!r} = {value} on every day they answered "
                    f"(complete separation within person; (dyad, person): {show_ids(ids)}). "
                    "Their random intercepts are pulled toward the mean, not infinite; "
                    "check they are coded right."
                )
    fit = fit_glmm(X, df[y], Blocks(df["_dyad"], df["_member"]), family, structure, nagq=int(nagq))
    estimation = "Laplace" if nagq == 1 else "AGQ"
    convergence = convergence_warnings(
        func=_FUNC,
        converged=fit.converged,
        detail=fit.message,
        boundary=fit.boundary,
        estimation=estimation,
    )
    se = np.sqrt(np.diag(fit.vcov))
    rows = [
        {**lab, "estimate": float(b), "se": float(s), "df": None}
        for lab, b, s in zip(labels, fit.beta, se, strict=True)
    ]
    estimates = estimates_frame(rows, level=level)
    extreme = estimates[(estimates["estimate"].abs() > 15) | ~(estimates["se"] < 1e3)]
    if len(extreme):
        names = [
            " ".join(str(v) for v in (r.effect, r.predictor, r.role) if v is not None)
            for r in extreme.itertuples(index=False)
        ]
        warnings.append(
            f"Estimates drift toward infinity ({', '.join(names)}): complete or quasi-complete "
            "separation (e.g. every outcome of a role is the same). Do not interpret them; "
            "drop or merge the predictor, or collect more varied outcomes."
        )
    tests: list[dict[str, Any]] = []
    extra_od: dict[str, Any] = {}
    if family == "poisson":
        od = _overdispersion(fit, df[y], family, warnings)
        tests.append(od)
        extra_od = {"overdispersion": od}
    warnings = emit(warnings) + emit(convergence, ConvergenceWarning)
    ratio_key = _ratio_key(family)
    return GlmmDiaryResult(
        model="diary",
        estimates=estimates,
        n_dyads=fit.n_groups,
        n_obs=fit.n_obs,
        distinguishable=bool(roles),
        roles=[str(r) for r in roles],
        estimation=estimation,
        variance_components=_variance_rows(fit, roles),
        fit={
            "loglik": fit.loglik,
            "aic": fit.aic,
            "bic": fit.bic,
            "n_params": fit.n_params,
            "converged": fit.converged,
            "iterations": fit.iterations,
        },
        tests=tests,
        warnings=warnings,
        level=level,
        call={
            "y": y,
            "x": xs,
            "dyad": dyad,
            "person": person,
            "time": time,
            "role": role,
            "center": center,
            "covariates": covs,
            "family": family,
            "nagq": int(nagq),
            "level": level,
        },
        extra={
            "family": family,
            "link": FAMILIES[family].link,
            "nagq": int(nagq),
            ratio_key: _ratios(estimates),
            **extra_od,
            "n_excluded": n_excluded,
            "excluded": excluded,
            "n_persons": len(np.unique(df["_person"])),
            "center": center,
            "reproduces": _glmer_call(roles, family, int(nagq)),
        },
        _plot_data=data,
        _plot_keys={"y": y, "dyad": dyad, "person": person, "time": time, "role": role},
        _curve=_curve(df, X, labels, predictors, fit, roles, family, y),
    )
