"""Nonindependence and distinguishability: how alike are the two partners?

Before any dyadic model, Kenny, Kashy & Cook (2006, ch. 2) ask how strongly the two
members' scores go together, and whether the roles that seem to distinguish them
(wife and husband, patient and caregiver) make an empirical difference (ch. 6).
:func:`nonindependence` answers both for one or more variables:

- distinguishable dyads (``role`` given): the partner correlation (Pearson r, or a
  partial r controlling for covariates) and the omnibus test of distinguishability;
- indistinguishable dyads (no ``role``): the ANOVA intraclass correlation and the
  pairwise (double-entry) correlation, optionally partial.

Examples
--------
>>> import pandas as pd
>>> import dyadlab as dl
>>> df = pd.DataFrame({"couple": [1, 1, 2, 2, 3, 3, 4, 4],
...                    "sat": [4.0, 3.5, 5.0, 4.5, 2.0, 2.5, 3.0, 3.8]})
>>> res = dl.nonindependence(df, variables="sat", dyad="couple")
>>> res.estimates["effect"].tolist()
['icc', 'pairwise_r']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_range, show_ids
from dyadlab.data import DyadicData
from dyadlab.data.checks import (
    check_analysis_variables,
    check_distinguishable,
    check_dyads,
    check_keys,
    check_not_empty,
)
from dyadlab.data.model_frame import keys_of, model_frame
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._nonindependence_math import (
    distinguishability_test,
    icc_anova,
    pairwise_r,
    partner_pearson,
)
from dyadlab.models._result import VARIANCE_COLUMNS, ModelResult, emit, estimates_frame

__all__ = ["NonindependenceResult", "nonindependence"]

_FUNC = "nonindependence"


class NonindependenceResult(ModelResult):
    """The result of :func:`nonindependence`, with its counts as typed attributes."""

    @property
    def variables(self) -> list[str]:
        """The variables whose partners' similarity was estimated."""
        return [str(v) for v in self.extra["variables"]]

    @property
    def n_dyads_used(self) -> dict[str, int]:
        """Per variable, the dyads with both members' values."""
        return {str(k): int(v) for k, v in self.extra["n_dyads_used"].items()}

    @property
    def n_excluded_dyads(self) -> dict[str, int]:
        """Per variable, the dyads left out (a value missing)."""
        return {str(k): int(v) for k, v in self.extra["n_excluded_dyads"].items()}

    @property
    def f_df(self) -> dict[str, list[float]] | None:
        """Per variable, the two df of the intraclass correlation's F test (None for
        Pearson correlations)."""
        f_df = self.extra.get("f_df")
        return None if f_df is None else {str(k): list(v) for k, v in f_df.items()}


#: fewest complete dyads a correlation is computed from
MIN_DYADS = 3


def _names(value: str | Sequence[str] | None, argument: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    names = list(value)
    for name in names:
        if not isinstance(name, str):
            raise OptionError(
                f"{_FUNC}(): {argument} must hold column names (str), not "
                f"{type(name).__name__}. Pass a name or a list of names."
            )
    return names


def _check_arguments(
    data: pd.DataFrame,
    variables: list[str],
    covariates: list[str],
    keys: dict[str, Any],
    level: float,
) -> None:
    check_not_empty(data, func=_FUNC)
    if not variables:
        raise OptionError(
            f"{_FUNC}(): variables is empty. Name at least one numeric column, e.g. "
            "variables=['satisfaction']."
        )
    check_range("level", level, func=_FUNC, low=0.0, high=1.0, inclusive=False)
    seen: set[str] = set()
    for name in variables + covariates:
        if name in seen:
            raise OptionError(
                f"{_FUNC}(): column {name!r} is named twice in variables/covariates. "
                "Name each column once."
            )
        seen.add(name)
    for argument, key in keys.items():
        if key is not None and key in seen:
            raise OptionError(
                f"{_FUNC}(): column {key!r} is the {argument} column and cannot also be "
                "analysed. Remove it from variables/covariates."
            )
    check_keys(data, dyad=keys["dyad"], person=keys["person"], role=keys["role"], func=_FUNC)
    check_analysis_variables(data, variables + covariates, func=_FUNC)


class _Dyads:
    """The dyads with two members, as (n, 2) arrays: first role (or member) in column 0."""

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        dyad: str,
        person: str | None,
        role: str | None,
        columns: list[str],
    ) -> None:
        size = data.groupby(dyad, sort=False)[dyad].transform("size").to_numpy()
        single = size == 1
        self.single_ids: list[Any] = list(pd.unique(data.loc[single, dyad]))
        kept = data.loc[~single]
        frame = model_frame(kept, dyad=dyad, person=person, role=role, func=_FUNC)
        self.roles: list[Any] = list(frame.roles)
        self._wide = frame.wide(columns)
        self.ids = kept[dyad].drop_duplicates().to_numpy()
        self.n = len(self.ids)

    def wide(self, column: str) -> np.ndarray:
        """The two members' values of ``column`` as floats, shape (n, 2)."""
        return self._wide[column]


def _covariate_block(dyads: _Dyads, covariates: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Covariates as (n, 2, m) and the complete-case mask over dyads."""
    if not covariates:
        return np.empty((dyads.n, 2, 0)), np.ones(dyads.n, dtype=bool)
    block = np.stack([dyads.wide(c) for c in covariates], axis=2)
    return block, np.isfinite(block).all(axis=(1, 2))


def _both_partners(block: np.ndarray) -> np.ndarray:
    """(n, 2, m) -> (n, m') with both members' columns; a dyad-level covariate once."""
    cols = []
    for j in range(block.shape[2]):
        first, second = block[:, 0, j], block[:, 1, j]
        cols.append(first)
        if not np.array_equal(first, second):
            cols.append(second)
    return np.column_stack(cols) if cols else np.empty((block.shape[0], 0))


def _too_few(variable: str, n: int, needed: int, n_excluded: int, covariates: list[str]) -> None:
    because = f"; {n_excluded} dyads have missing values" if n_excluded else ""
    extra = f" with {len(covariates)} covariates" if covariates else ""
    raise DyadicDataError(
        f"{_FUNC}(): variable {variable!r} has {n} complete dyads{because}, but at least "
        f"{needed} are needed{extra}. Use a variable with more data"
        + (" or fewer covariates." if covariates else ".")
    )


def nonindependence(
    data: pd.DataFrame | DyadicData,
    *,
    variables: str | Sequence[str],
    dyad: str | None = None,
    person: str | None = None,
    role: str | None = None,
    covariates: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> NonindependenceResult:
    """Measure how alike partners are, and test whether their roles distinguish them.

    Parameters
    ----------
    data : DataFrame or DyadicData
        Individual format: one row per person, two persons per dyad. A dyad with only
        one row is left out (counted in ``warnings``). A DyadicData gives the keys not
        passed.
    variables : str or sequence of str
        Numeric variables to analyse, one at a time.
    dyad : str, optional
        Dyad id column (needed with a DataFrame).
    person : str, optional
        Person id column; orders the members of indistinguishable dyads.
    role : str, optional
        Column whose two values distinguish the members of every dyad (e.g. gender in
        a study of man–woman couples). Leave it out for indistinguishable dyads.
    covariates : str or sequence of str, optional
        Variables to control for (partial correlations). Both partners' values are
        used; a covariate equal within every dyad (dyad-level) enters once.
    level : float, default 0.95
        Confidence level of ``ci_low``/``ci_high``.

    Returns
    -------
    NonindependenceResult
        ``model = "nonindependence"``. ``estimates`` has one row per variable and
        effect, with columns ``effect`` (``pearson_r`` with a role, else ``icc`` and
        ``pairwise_r``), ``predictor`` (the variable), ``role`` (None), ``estimate``,
        ``se`` (``sqrt((1 - r^2) / df)`` for ``pearson_r``, ``1 / sqrt(n)`` for
        ``pairwise_r``, none for ``icc``), ``statistic`` (t, z or F), ``df`` (t's df;
        F's two df are in ``.f_df``), ``p``, ``ci_low``, ``ci_high``.
        With a role, ``tests`` holds ``{"name": "distinguishability", "statistic",
        "df", "p", "n_dyads", ...}``. ``.n_dyads_used`` and ``.n_excluded_dyads``
        give the dyads per variable (missing values) and, without a role, ``.f_df``
        the F test's df per variable (all also in the JSON). ``variance_components`` holds the mean
        squares (indistinguishable) or each role's variance (distinguishable).

    Raises
    ------
    DyadicDataError
        A missing, non-numeric or constant variable; a dyad of three or more rows; a
        role that does not take two different values in every dyad (a mixed study:
        leave ``role`` out); fewer than 3 complete dyads for a variable.
    OptionError
        No variables, a column named twice, or ``level`` outside (0, 1).

    See Also
    --------
    dyadlab.apim : the actor–partner interdependence model.

    Notes
    -----
    Each variable uses the dyads complete on it and on the covariates (both members);
    the test of distinguishability uses the dyads complete on all variables.

    Distinguishable: ``r`` is Pearson's correlation of the two roles' values, tested by
    ``t = r sqrt(df / (1 - r^2))`` on ``df = n - 2 - k`` (``k`` covariate columns),
    with a Fisher-z interval ``tanh(atanh(r) -/+ z / sqrt(n - 3 - k))``. Reproduces
    ``cor.test(x_role1, x_role2)``; the partial r is the correlation of the residuals of
    ``lm(x_role1 ~ Z)`` and ``lm(x_role2 ~ Z)``.

    Indistinguishable: with dyad means ``m``, differences ``d`` and grand mean ``M``,
    ``MS_B = 2 sum (m - M)^2 / (n - 1)``, ``MS_W = sum d^2 / (2n)``, the ICC is
    ``(MS_B - MS_W) / (MS_B + MS_W)``, tested by F with a two-tailed p (Kenny et al.
    2006, ch. 2), and equals the rho of ``nlme::gls(y ~ 1, correlation =
    corCompSymm(form = ~1 | dyad), method = "REML")``. The pairwise correlation
    ``r_p = (SS_B - SS_W) / (SS_B + SS_W)`` is Pearson's r on the double-entry data,
    tested by ``Z = r_p sqrt(n)`` (Griffin & Gonzalez 1995), and equals the rho of the
    same gls with ``method = "ML"``. With covariates, the sums of squares are those of
    the residuals of the dyad means on the covariates' dyad means and of the
    differences on the covariates' differences (``y ~ z + z_partner`` in gls).

    Distinguishability: the saturated model of the variables of both partners against
    the I-SAT model whose means, variances, within-person and cross-partner covariances
    are equal across roles, by ML; chi-square on ``p (p + 1)`` df. Reproduces
    ``lavaan::anova()`` of the two models fit by ``lavaan::sem(..., estimator = "ML")``.

    References
    ----------
    Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). *Dyadic data analysis*. Guilford.
    Griffin, D., & Gonzalez, R. (1995). Correlational analysis of dyad-level data in the
    exchangeable case. *Psychological Bulletin, 118*, 430–439.

    Examples
    --------
    >>> import pandas as pd
    >>> import dyadlab as dl
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2, 3, 3, 4, 4],
    ...                    "gender": ["w", "m"] * 4,
    ...                    "sat": [4.0, 3.5, 5.0, 4.5, 2.0, 2.5, 3.0, 3.8]})
    >>> res = dl.nonindependence(df, variables="sat", dyad="couple", role="gender")
    >>> round(float(res.estimates.loc[0, "estimate"]), 3)
    0.886
    """
    data, dyad, person, role, _ = keys_of(data, dyad=dyad, person=person, role=role, func=_FUNC)
    names = _names(variables, "variables")
    covs = _names(covariates, "covariates")
    keys: dict[str, Any] = {"dyad": dyad, "person": person, "role": role}
    _check_arguments(data, names, covs, keys, level)
    check_dyads(data, dyad=dyad, person=person, allow_incomplete=True, func=_FUNC)
    if role is not None:
        check_distinguishable(data, dyad=dyad, role=role, func=_FUNC)

    dyads = _Dyads(data, dyad=dyad, person=person, role=role, columns=names + covs)
    warnings: list[str] = []
    if dyads.single_ids:
        k = len(dyads.single_ids)
        warnings.append(
            f"{k} {'dyad has' if k == 1 else 'dyads have'} only one member in the data and "
            f"{'was' if k == 1 else 'were'} left out (first: {show_ids(dyads.single_ids)})."
        )
    block, cov_ok = _covariate_block(dyads, covs)

    rows: list[dict[str, Any]] = []
    vc_rows: list[dict[str, Any]] = []
    n_used: dict[str, int] = {}
    n_excluded: dict[str, int] = {}
    f_df: dict[str, list[float]] = {}
    for name in names:
        x = dyads.wide(name)
        ok = np.isfinite(x).all(axis=1) & cov_ok
        n, k_excl = int(ok.sum()), int(dyads.n - ok.sum())
        n_used[name], n_excluded[name] = n, k_excl
        if k_excl:
            ids = list(dyads.ids[~ok])
            warnings.append(
                f"{name}: {k_excl} of {dyads.n} dyads left out for missing values of "
                f"{name!r}{' or the covariates' if covs else ''} (first: {show_ids(ids)})."
            )
        xs, zs = x[ok], block[ok]
        z = _both_partners(zs)
        k = int(np.linalg.matrix_rank(np.column_stack([np.ones(n), z]))) - 1 if n else 0
        if n < MIN_DYADS + k:
            _too_few(name, n, MIN_DYADS + k, k_excl, covs)
        _check_varies(xs, name, dyads.roles)
        if role is not None:
            c = partner_pearson(xs, z if covs else None, level=level)
            _check_finite(c.estimate, name, covs)
            rows.append(_row("pearson_r", name, c.se, c.df, c))
            for j, value in enumerate(dyads.roles):
                variance = float(np.var(xs[:, j], ddof=1))
                vc_rows.append(
                    {
                        "name": f"{name} variance",
                        "role": str(value),
                        "estimate": variance,
                        "variable": name,
                    }
                )
        else:
            icc = icc_anova(xs, zs if covs else None, level=level)
            _check_finite(icc.estimate, name, covs)
            rows.append(_row("icc", name, None, None, icc))
            f_df[name] = [icc.df1, icc.df2]
            pr = pairwise_r(xs, zs if covs else None, level=level)
            rows.append(_row("pairwise_r", name, pr.se, None, pr))
            for vc_name, value in (("ms_between", icc.ms_between), ("ms_within", icc.ms_within)):
                vc_rows.append(
                    {"name": f"{name} {vc_name}", "role": None, "estimate": value, "variable": name}
                )

    tests: list[dict[str, Any]] = []
    if role is not None:
        tests.append(_distinguishability(dyads, names, warnings))

    extra: dict[str, Any] = {
        "variables": names,
        "covariates": covs,
        "n_dyads_used": n_used,
        "n_excluded_dyads": n_excluded,
        "n_incomplete_dyads": len(dyads.single_ids),
    }
    if f_df:
        extra["f_df"] = f_df
    vc = pd.DataFrame(vc_rows, columns=[*VARIANCE_COLUMNS, "variable"])
    return NonindependenceResult(
        model=_FUNC,
        estimates=estimates_frame(rows, level=level),
        n_dyads=dyads.n,
        n_obs=2 * dyads.n,
        distinguishable=role is not None,
        roles=[str(r) for r in dyads.roles],
        estimation="Pearson" if role is not None else "ANOVA",
        variance_components=vc,
        tests=tests,
        warnings=emit(warnings),
        level=level,
        call={
            "variables": names,
            "dyad": dyad,
            "person": person,
            "role": role,
            "covariates": covs,
            "level": level,
        },
        extra=extra,
    )


def _check_varies(x: np.ndarray, name: str, roles: list[Any]) -> None:
    """Raise if the variable does not vary (overall, or within a role) in the used dyads."""
    if np.ptp(x) == 0:
        raise DyadicDataError(
            f"{_FUNC}(): variable {name!r} is constant in the complete dyads (every value is "
            f"{x[0, 0]:g}), so partners cannot be compared on it. Leave it out."
        )
    if np.array_equal(x[:, 0], x[:, 1]):
        raise DyadicDataError(
            f"{_FUNC}(): variable {name!r} has the same value for both partners in every "
            "complete dyad (a dyad-level variable), so its nonindependence is 1 by "
            "construction. Leave it out, or use it as a covariate."
        )
    for j, value in enumerate(roles):
        if np.ptp(x[:, j]) == 0:
            raise DyadicDataError(
                f"{_FUNC}(): variable {name!r} is constant for role {value!r} in the complete "
                f"dyads (every value is {x[0, j]:g}), so its partner correlation is undefined. "
                "Leave the variable out, or leave role out to treat the dyads as "
                "indistinguishable."
            )


def _check_finite(estimate: float, name: str, covariates: list[str]) -> None:
    if not np.isfinite(estimate):
        raise DyadicDataError(
            f"{_FUNC}(): the covariates {', '.join(repr(c) for c in covariates)} explain "
            f"variable {name!r} completely (no residual variation between or within "
            "dyads), so no partial correlation can be computed. Use fewer covariates."
        )


def _row(effect: str, name: str, se: float | None, df: float | None, stat: Any) -> dict[str, Any]:
    return {
        "effect": effect,
        "predictor": name,
        "role": None,
        "estimate": stat.estimate,
        "se": se,
        "statistic": stat.statistic,
        "df": df,
        "p": stat.p,
        "ci_low": stat.ci_low,
        "ci_high": stat.ci_high,
    }


def _distinguishability(dyads: _Dyads, names: list[str], warnings: list[str]) -> dict[str, Any]:
    w = np.column_stack([dyads.wide(v)[:, 0] for v in names] + [dyads.wide(v)[:, 1] for v in names])
    ok = np.isfinite(w).all(axis=1)
    n, p = int(ok.sum()), len(names)
    if n <= 2 * p:
        raise DyadicDataError(
            f"{_FUNC}(): the test of distinguishability needs more complete dyads than "
            f"twice the number of variables ({2 * p}), but has {n}. Use fewer variables or "
            "data with fewer missing values."
        )
    excluded = dyads.n - n
    if excluded:
        warnings.append(
            f"distinguishability: {excluded} of {dyads.n} dyads left out (listwise) for "
            f"missing values of {', '.join(repr(v) for v in names)}."
        )
    t = distinguishability_test(w[ok])
    return {
        "name": "distinguishability",
        "statistic": t.statistic,
        "df": t.df,
        "p": t.p,
        "n_dyads": n,
        "n_excluded_dyads": excluded,
        "estimation": "ML",
        "loglik_saturated": t.loglik_saturated,
        "loglik_indistinguishable": t.loglik_indistinguishable,
    }
