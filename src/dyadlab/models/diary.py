"""The dyadic diary model: the two-intercept multilevel APIM for daily couples' data.

Both partners report on many occasions (days). Each person's outcome on a day depends
on their own predictor (actor effect) and their partner's predictor that day (partner
effect); each partner has a random intercept, the two correlated within a couple; the
partners' residuals on the same day correlate (``residual="cs"``), or each person's
residuals follow an AR(1) over days (``"ar1"``), or both (``"kronecker"``, unstructured
2 × 2 ⊗ AR(1), Bolger & Laurenceau 2013).

Fitted by the engine :mod:`dyadlab.models._engine` (REML or ML, vectorised over
couples), equal to ``nlme::lme`` (see :func:`diary`).

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_diary(60, 14, rng=1)
>>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time", role="role")
>>> res.estimates["effect"].tolist()[:2]
['intercept', 'intercept']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from dyadlab._validation import (
    check_columns,
    check_numeric,
    check_option,
    check_range,
    estimator_option,
)
from dyadlab.data import DyadicData
from dyadlab.data.centering import _person_parts
from dyadlab.data.checks import (
    check_dyads,
    check_keys,
    check_not_empty,
    codes_once,
    factorize_key,
    nested_codes,
)
from dyadlab.data.model_frame import keys_of, model_frame
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, OptionError
from dyadlab.models._engine import EngineFit, fit_mixed
from dyadlab.models._engine_covariance import Exchangeable, Unstructured
from dyadlab.models._engine_residual import AR1, CompoundSymmetry, Kronecker, RowLayout
from dyadlab.models._result import (
    VARIANCE_COLUMNS,
    ModelResult,
    convergence_warnings,
    emit,
    estimates_frame,
    present,
)

__all__ = ["DiaryResult", "diary"]

_FUNC = "diary"
_FAMILIES = ("gaussian", "binomial", "poisson", "negative_binomial")
_RESIDUALS = {"cs": CompoundSymmetry, "ar1": AR1, "kronecker": Kronecker}
_CORR = {
    "cs": "corCompSymm(form = ~ 1 | dyad/time)",
    "ar1": "corAR1(form = ~ time | dyad/person)",
    "kronecker": "no nlme equivalent (SAS type=un@ar(1))",
}


@dataclass(frozen=True)
class DiaryResult(ModelResult):
    """:class:`~dyadlab.models._result.ModelResult` of :func:`diary`, with ``plot()``."""

    _plot_data: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    _plot_keys: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def n_excluded(self) -> int:
        """Person-occasion rows left out of the fit."""
        return int(self.extra["n_excluded"])

    @property
    def excluded(self) -> dict[str, int]:
        """Rows left out, by reason (``no_partner_row``, ``missing_predictor``, …)."""
        return {str(k): int(v) for k, v in self.extra["excluded"].items()}

    @property
    def n_persons(self) -> int:
        """Persons with at least one row used."""
        return int(self.extra["n_persons"])

    def plot(self, *, dyads: Sequence[Any] | None = None, max_dyads: int = 6) -> Any:
        """Per-couple trajectories of the outcome (see
        :func:`dyadlab.report.diary_plots.plot_trajectories`)."""
        if self._plot_data is None or self._plot_keys is None:
            raise OptionError("DiaryResult.plot(): this result carries no data to plot.")
        return present("diary_plots", "plot_trajectories")(
            self._plot_data, **self._plot_keys, dyads=dyads, max_dyads=max_dyads
        )

    def refit(self, outcomes: Any) -> Any:
        """Refit this model to many outcome vectors at once (simulation, bootstrap).

        Parameters
        ----------
        outcomes : array (reps, rows of the data) or (rows,)
            New outcome values, aligned with the rows of the data passed to
            :func:`diary`; needed wherever the original outcome entered the fit.

        Returns
        -------
        DiaryRefits
            ``beta``, ``se`` (reps × fixed effects, in the order of ``estimates``),
            ``loglik``, ``converged``, ``labels``; ``table()`` in long format.

        Notes
        -----
        Every refit starts at this fit's variance parameters. For ``residual="cs"``
        with REML, one predictor and no covariates, centring or random slopes, and both
        partners in every occasion of the fit, all replications are fitted together
        from per-couple sufficient statistics (``batched`` True); otherwise each one is
        refitted on the engine, steered by this fit's curvature. See
        :mod:`dyadlab.models._diary_refit`.

        Examples
        --------
        >>> import dyadlab as dl
        >>> df = dl.simulate_diary(30, 10, rng=2)
        >>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time")
        >>> again = res.refit(df["y"].to_numpy())
        >>> bool(abs(again.beta[0] - res.estimates["estimate"]).max() < 1e-6)
        True
        """
        from dyadlab.models._diary_refit import refit

        return refit(self, outcomes)

    def simulate(self, reps: int, *, rng: Any = None) -> np.ndarray:
        """Draw ``reps`` outcome vectors from the fitted model (``residual="cs"``).

        Random intercepts, daily residuals and fixed effects at their estimates; the
        rows are those of the data (NaN where a row is not in the fit), ready for
        :meth:`refit`: ``res.refit(res.simulate(1000, rng=1))`` is a parametric
        bootstrap.

        Examples
        --------
        >>> import dyadlab as dl
        >>> df = dl.simulate_diary(30, 10, rng=2)
        >>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time")
        >>> res.simulate(5, rng=1).shape
        (5, 600)
        """
        from dyadlab.models._diary_refit import simulate_outcomes

        return simulate_outcomes(self, reps, rng)


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _check_input(
    data: pd.DataFrame,
    *,
    y: str,
    xs: list[str],
    covariates: list[str],
    dyad: str,
    person: str,
    time: str,
    role: str | None,
    residual: str,
) -> list[str]:
    check_not_empty(data, func=_FUNC)
    check_columns(data, [y, *xs, *covariates, dyad, person, time, role], func=_FUNC)
    check_keys(data, dyad=dyad, person=person, role=role, time=time, func=_FUNC)
    check_numeric(data, [y, *xs, *covariates], func=_FUNC)
    check_dyads(data, dyad=dyad, person=person, time=time, allow_incomplete=True, func=_FUNC)
    if residual in ("ar1", "kronecker"):
        t = pd.to_numeric(data[time], errors="coerce").to_numpy(dtype=float)
        if np.isnan(t).any() or not np.all(t == np.round(t)):
            raise DyadicDataError(
                f"{_FUNC}(): residual={residual!r} needs whole-numbered occasions in "
                f"{time!r} (day 1, 2, …; gaps are allowed and count, as in nlme's corAR1). "
                "Number the occasions as integers, or use residual='cs'."
            )
    warnings = []
    # integer codes once, then counts by bincount (pandas groupbys cost 5× as much);
    # the keys have no missing values (check_keys)
    dcode = factorize_key(data, dyad)[0]
    pkey = nested_codes(data, dyad, person)  # person within dyad
    n_pkey = int(pkey.max()) + 1
    if role is not None:
        rcode = factorize_key(data, role)[0]
        n_r = int(rcode.max()) + 1
        n_dyads = int(dcode.max()) + 1
        first_p = _first_rows(pkey)
        n_persons = np.bincount(dcode[first_p], minlength=n_dyads)
        # distinct roles per dyad and per person
        n_roles = _distinct_per(dcode, n_dyads, rcode, n_r)
        roles_per_person = _distinct_per(pkey, n_pkey, rcode, n_r)
        bad_dyads = np.flatnonzero((n_persons == 2) & (n_roles != 2))
        if len(bad_dyads):
            bad_d = data[dyad].to_numpy()[_first_rows(dcode)[bad_dyads]]
            raise DyadicDataError(
                f"{_FUNC}(): column {role!r} must give the two persons of a dyad different "
                f"roles, but {len(bad_d)} dyads do not (first: {bad_d[:3].tolist()}). Correct "
                "their roles, or leave role out to treat the dyads as indistinguishable."
            )
        if (roles_per_person > 1).any():
            rows = first_p[roles_per_person > 1]
            keys = data[[dyad, person]].to_numpy()[rows]
            bad = [tuple(k) for k in keys[:3].tolist()]
            raise DyadicDataError(
                f"{_FUNC}(): column {role!r} must be constant within each person, but "
                f"{len(rows)} persons change role (first (dyad, person): {bad}). "
                "Fix the role column."
            )
    single = int(np.sum(np.bincount(pkey, minlength=n_pkey) == 1))
    if single:
        warnings.append(
            f"{single} persons have a single occasion; they are kept (they inform the "
            "between-person part only)."
        )
    return warnings


def _distinct_per(group: np.ndarray, n_groups: int, code: np.ndarray, n_codes: int) -> np.ndarray:
    """Number of distinct ``code`` values in each group (codes 0..n-1 both).

    Examples
    --------
    >>> _distinct_per(np.array([0, 0, 1, 1]), 2, np.array([0, 1, 1, 1]), 2).tolist()
    [2, 1]
    """
    pair = group * n_codes + code
    if n_groups * n_codes > 4 * len(pair) + 64:  # many codes: sort instead of counting
        return np.bincount(np.unique(pair) // n_codes, minlength=n_groups)
    seen = np.bincount(pair, minlength=n_groups * n_codes) > 0
    out: np.ndarray = seen.reshape(n_groups, n_codes).sum(axis=1)
    return out


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """The first row of each code of :func:`pandas.factorize` (codes numbered in order of
    first appearance: a row starts a code where it exceeds every code before it).

    Examples
    --------
    >>> _first_rows(np.array([0, 1, 0, 2, 1])).tolist()
    [0, 1, 3]
    """
    before = np.maximum.accumulate(np.r_[-1, codes[:-1]])
    return np.flatnonzero(codes > before)


def _floats(data: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(data[column], errors="coerce").to_numpy(dtype=float)


def persons_without_outcome(data: pd.DataFrame, *, y: str, dyad: str, person: str) -> str:
    """A sentence naming the persons whose every outcome is missing ("" when none).

    Examples
    --------
    >>> df = pd.DataFrame({"d": [1, 1, 1, 1], "p": ["a", "a", "b", "b"],
    ...                    "y": [1.0, 2.0, None, None]})
    >>> persons_without_outcome(df, y="y", dyad="d", person="p")
    " 1 person has no outcome value at all and is not in the fit: person 'b' of dyad 1."
    """
    from dyadlab._validation import show_ids

    empty = (
        pd.to_numeric(data[y], errors="coerce")
        .isna()
        .groupby([data[dyad], data[person]], sort=False)
        .all()
    )
    lost = list(empty.index[empty.to_numpy()])
    if not lost:
        return ""
    shown = ", ".join(f"person {show_ids([p])} of dyad {show_ids([d])}" for d, p in lost[:5]) + (
        f" and {len(lost) - 5} more" if len(lost) > 5 else ""
    )
    if len(lost) == 1:
        return f" 1 person has no outcome value at all and is not in the fit: {shown}."
    return f" {len(lost)} persons have no outcome value at all and are not in the fit: {shown}."


def _prepare(
    data: pd.DataFrame,
    *,
    y: str,
    xs: list[str],
    covariates: list[str],
    dyad: str,
    person: str,
    time: str,
    role: str | None,
    center: str,
) -> tuple[dict[str, np.ndarray], list[tuple[str, str, str]], dict[str, int], list[Any]]:
    """Arrays of the rows in the fit (sorted by dyad, occasion, member) with actor and
    partner predictors, the predictors' (column, effect, name), the rows left out and the
    roles (member 0's first; empty without a role)."""
    n = len(data)
    mf = model_frame(data, dyad=dyad, person=person, role=role, time=time, func=_FUNC)
    if role is not None and len(mf.roles) != 2:
        raise DyadicDataError(
            f"{_FUNC}(): column {role!r} must take exactly 2 values (one per partner), "
            f"but it takes {len(mf.roles)}: {list(mf.roles[:5])}. Leave role out for "
            "indistinguishable dyads."
        )
    member = mf.member
    dcodes = factorize_key(data, dyad, sort=True)[0].astype(np.int64)
    # persons are nested in dyads (ids may repeat across dyads, as in nlme's dyad/person)
    pkey = nested_codes(data, dyad, person)
    if pd.api.types.is_numeric_dtype(data[time]):
        tval = _floats(data, time)
    else:
        tval = factorize_key(data, time, sort=True)[0].astype(float)
    pos = mf.partner  # the other row of the same dyad at the same occasion
    has_partner = pos >= 0

    arrays: dict[str, np.ndarray] = {}
    predictors: list[tuple[str, str, str]] = []  # (array key, effect, predictor name)
    parts = ["_within", "_between"] if center == "person" else [""]
    for x in xs:
        values = _floats(data, x)
        if center == "person":
            within, between = _person_parts(values, pkey)
            if not np.nansum(within**2) > 1e-12 * max(1.0, float(np.nansum(values**2))):
                raise DyadicDataError(
                    f"{_FUNC}(): predictor {x!r} does not vary within persons, so its "
                    "within-person (actor_within, partner_within) effects cannot be "
                    "estimated. Use center='none' for a person-level predictor."
                )
            split = {"_within": within, "_between": between}
        else:
            split = {"": values}
        for part in parts:
            v = split[part]
            arrays[f"__actor{part}__{x}"] = v
            arrays[f"__partner{part}__{x}"] = np.where(has_partner, v[np.maximum(pos, 0)], np.nan)
    for x in xs:
        for part in parts:
            predictors.append((f"__actor{part}__{x}", f"actor{part}", x))
            predictors.append((f"__partner{part}__{x}", f"partner{part}", x))
    for c in covariates:
        arrays[c] = _floats(data, c)
        predictors.append((c, "covariate", c))
    yv = _floats(data, y)
    actor_ok = np.ones(n, dtype=bool)
    partner_ok = np.ones(n, dtype=bool)
    for key, effect, _ in predictors:
        if effect.startswith("partner"):
            partner_ok &= ~np.isnan(arrays[key])
        else:
            actor_ok &= ~np.isnan(arrays[key])
    y_ok = ~np.isnan(yv)
    ok = y_ok & actor_ok & partner_ok
    excluded = {
        "missing_outcome": int(np.sum(~y_ok)),
        "missing_predictor": int(np.sum(y_ok & ~actor_ok)),
        "no_partner_row": int(np.sum(y_ok & actor_ok & ~has_partner)),
        "missing_partner_predictor": int(np.sum(y_ok & actor_ok & has_partner & ~partner_ok)),
    }
    idx = np.flatnonzero(ok)
    rows = idx[np.lexsort((member[idx], tval[idx], dcodes[idx]))]
    d_sorted = dcodes[rows]
    out = {key: v[rows] for key, v in arrays.items()}
    out[y] = yv[rows]
    out["_dyad"] = np.cumsum(np.r_[False, d_sorted[1:] != d_sorted[:-1]]).astype(np.int64)
    out["_member"] = member[rows]
    out["_time"] = tval[rows]
    out["_person"] = pkey[rows]
    out["_row"] = rows  # positions in ``data`` (DiaryResult.refit maps outcomes by them)
    return out, predictors, excluded, list(mf.roles)


def _design(
    df: dict[str, np.ndarray],
    predictors: list[tuple[str, str, str]],
    roles: list[Any],
    random_slopes: bool,
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]], list[tuple[str, Any]]]:
    member = df["_member"]
    n = len(member)
    ind = np.column_stack([member == 0, member == 1]).astype(float)
    cols: list[np.ndarray] = []
    labels: list[dict[str, Any]] = []
    if roles:
        for k, r in enumerate(roles):
            cols.append(ind[:, k])
            labels.append({"effect": "intercept", "predictor": None, "role": str(r)})
        for col, effect, name in predictors:
            v = df[col]
            for k, r in enumerate(roles):
                cols.append(ind[:, k] * v)
                labels.append({"effect": effect, "predictor": name, "role": str(r)})
    else:
        cols.append(np.ones(n))
        labels.append({"effect": "intercept", "predictor": None, "role": None})
        for col, effect, name in predictors:
            cols.append(df[col])
            labels.append({"effect": effect, "predictor": name, "role": None})
    X = np.column_stack(cols)
    # Z: member 0's terms, then member 1's (Exchangeable needs this order)
    terms: list[tuple[str, np.ndarray]] = [("intercept", np.ones(n))]
    if random_slopes:
        for col, effect, _name in predictors[:2]:
            terms.append((f"{effect}_slope", df[col]))
    zcols, zlabels = [], []
    for k in (0, 1):
        for lab, v in terms:
            zcols.append(ind[:, k] * v)
            zlabels.append((lab, str(roles[k]) if roles else f"member {k + 1}"))
    return X, np.column_stack(zcols), labels, zlabels


def _variance_rows(
    fit: EngineFit, zlabels: list[tuple[str, Any]], roles: list[Any], level: float
) -> pd.DataFrame:
    """nlme's variance components; Wald CIs on the Fisher-z scale for rho and phi."""
    G = fit.psi * fit.sigma2
    sd = np.sqrt(np.clip(np.diag(G), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        cor = G / np.outer(sd, sd)
    rows: list[dict[str, Any]] = []
    q = len(zlabels)
    if roles:
        for k, (lab, r) in enumerate(zlabels):
            rows.append({"name": f"sd_{lab}", "role": r, "estimate": sd[k]})
    else:
        for k in range(q // 2):
            rows.append({"name": f"sd_{zlabels[k][0]}", "role": None, "estimate": sd[k]})
    if q == 2:
        rows.append({"name": "cor_intercepts", "role": None, "estimate": cor[0, 1]})
    elif not roles:
        # exchangeable members: each correlation once, within a person and across partners
        k = q // 2
        for a in range(k):
            for b in range(a + 1, k):
                name = f"cor({zlabels[a][0]}, {zlabels[b][0]}) within person"
                rows.append({"name": name, "role": None, "estimate": cor[a, b]})
        for a in range(k):
            for b in range(a, k):
                name = f"cor({zlabels[a][0]}, {zlabels[b][0]}) across partners"
                rows.append({"name": name, "role": None, "estimate": cor[a, k + b]})
    else:
        for a in range(q):
            for b in range(a):
                la, lb = zlabels[a], zlabels[b]
                rows.append(
                    {
                        "name": f"cor({lb[0]}[{lb[1]}], {la[0]}[{la[1]}])",
                        "role": None,
                        "estimate": cor[a, b],
                    }
                )
    sigma = float(np.sqrt(fit.sigma2))
    ratio = fit.residual_params.get("sd_ratio", 1.0)
    if roles:
        rows.append({"name": "sd_residual", "role": str(roles[0]), "estimate": sigma})
        rows.append({"name": "sd_residual", "role": str(roles[1]), "estimate": sigma * ratio})
        # nlme's varIdent parameter, with the first role (in sorted order) as reference
        rows.append({"name": "varident_ratio", "role": str(roles[1]), "estimate": ratio})
    else:
        rows.append({"name": "sd_residual", "role": None, "estimate": sigma})
    k0 = fit.theta.size - len(fit.residual_params)
    names = list(fit.residual_params)
    for key, label in (("rho", "residual_correlation"), ("phi", "ar1_phi")):
        if key in fit.residual_params:
            j = k0 + names.index(key)
            z = float(fit.theta[j])
            se = float(np.sqrt(fit.theta_cov[j, j])) if fit.theta_cov is not None else np.nan
            crit = float(special.ndtri(0.5 + level / 2))  # stats.norm.ppf, without its overhead
            rows.append(
                {
                    "name": label,
                    "role": None,
                    "estimate": fit.residual_params[key],
                    "ci_low": float(np.tanh(z - crit * se)),
                    "ci_high": float(np.tanh(z + crit * se)),
                }
            )
    frame = pd.DataFrame(rows, columns=[*VARIANCE_COLUMNS, "ci_low", "ci_high"])
    frame["role"] = pd.Series([r.get("role") for r in rows], dtype=object)
    return frame


def _nlme_call(roles: list[Any], residual: str, method: str, random_slopes: bool) -> str:
    corr = _CORR[residual]
    if roles:
        rand = (
            "~ 0 + role + role:x + role:x_partner | dyad" if random_slopes else "~ 0 + role | dyad"
        )
        return (
            f"nlme::lme(y ~ 0 + role + role:x + role:x_partner, random = {rand}, "
            f"correlation = {corr}, weights = varIdent(form = ~ 1 | role), "
            f'method = "{method}", na.action = na.omit)'
        )
    return (
        "nlme::lme(y ~ x + x_partner, random = list(dyad = pdCompSymm(~ 0 + member)), "
        f'correlation = {corr}, method = "{method}", na.action = na.omit)'
    )


def diary(
    data: pd.DataFrame | DyadicData,
    *,
    y: str,
    x: str | Sequence[str],
    dyad: str | None = None,
    person: str | None = None,
    time: str | None = None,
    role: str | None = None,
    center: str = "none",
    residual: str = "cs",
    random_slopes: bool = False,
    estimator: str = "REML",
    covariates: str | Sequence[str] | None = None,
    level: float = 0.95,
    family: str = "gaussian",
    nagq: int = 1,
    method: str | None = None,
) -> DiaryResult:
    """Fit the two-intercept multilevel APIM to dyadic diary data.

    Parameters
    ----------
    data : DataFrame or DyadicData
        Individual (long) format: one row per person-occasion. Partner variables are
        built here (matched within dyad and occasion). A DyadicData gives the keys not
        passed.
    y : str
        The daily outcome.
    x : str or sequence of str
        Daily predictor(s); each gets an actor and a partner effect.
    dyad, person, time : str
        Dyad id, person id (within dyad; ids may repeat across dyads) and occasion
        (needed unless a DyadicData gives them).
    role : str, optional
        Distinguishing variable (e.g. gender). Without it the dyads are
        indistinguishable: pooled fixed effects, partners' random intercepts with equal
        variances, equal residual variances.
    center : {"none", "person"}
        ``"person"`` splits x into ``within = x - person mean`` (over the person's
        non-missing occasions) and ``between = person mean - grand mean`` (of all
        person-occasions), for the actor and the partner: effects ``actor_within``,
        ``partner_within``, ``actor_between``, ``partner_between``.
    residual : {"cs", "ar1", "kronecker"}
        ``"cs"``: partners' residuals correlated within an occasion; ``"ar1"``: AR(1)
        over occasions within person (integer occasions; gaps count); ``"kronecker"``:
        unstructured 2 × 2 ⊗ AR(1).
    random_slopes : bool
        Add random actor and partner slopes per partner (of the first predictor; the
        within parts when ``center="person"``), unstructured (distinguishable) or
        exchangeable between partners (indistinguishable).
    estimator : {"REML", "ML"}
        Restricted (default, as nlme's ``method = "REML"``) or full maximum likelihood.
    covariates : str or sequence of str, optional
        Further fixed predictors (effect ``covariate``; per role if distinguishable).
    level : float
        Confidence level of ``ci_low`` / ``ci_high``.
    family : {"gaussian", "binomial", "poisson", "negative_binomial"}
        Not ``"gaussian"``: the dyadic GLMM of a 0/1 or count outcome (random intercepts
        only, no residual structure), fitted by the Laplace approximation like
        ``lme4::glmer`` (``glmmTMB`` ``nbinom2`` for the negative binomial); estimates on
        the link scale, odds or rate ratios in ``.ratios`` (see
        :mod:`dyadlab.models._glmm`). ``estimator`` does not apply.
    nagq : int
        Adaptive Gauss–Hermite nodes per random effect for a GLMM (1 = Laplace).
    method : {"REML", "ML"}, optional
        Deprecated old name of ``estimator`` (a :class:`FutureWarning`).

    Returns
    -------
    DiaryResult
        ``.estimates``: ``effect`` (``intercept``, ``actor``, ``partner``, or the
        ``_within`` / ``_between`` effects, ``covariate``), ``predictor``, ``role`` (whose
        outcome; None if pooled), ``estimate``, ``se``, ``statistic`` (t), ``df`` (nlme's
        rule), ``p``, ``ci_low``, ``ci_high``. ``.variance_components``: ``sd_intercept``
        per role, ``cor_intercepts``, ``sd_residual`` per role, ``varident_ratio`` (the
        second role's residual SD over the first's), ``residual_correlation``
        (cs, kronecker), ``ar1_phi`` (ar1, kronecker); with random slopes the slopes' SDs
        and all correlations. ``.fit``: ``loglik, aic, bic, n_params, converged,
        iterations``. ``.extra``: ``n_excluded`` and ``excluded`` (rows left out, by
        reason), ``n_persons``, ``residual``, ``center``, ``reproduces`` (the nlme call).

    Raises
    ------
    DyadicDataError
        Missing columns, non-numeric variables, a dyad of three persons, a person-occasion
        twice, a role that does not split a dyad, non-integer occasions for AR(1), a
        predictor without within-person variance when ``center="person"``.
    OptionError
        An unknown ``center``, ``residual`` or ``estimator``.

    Notes
    -----
    For person *i* of role *r* in dyad *d* on day *t*:
    ``y = b0_r + a_r x_dt,i + p_r x_dt,partner + u_d,r + e_dt,i`` with
    ``(u_d,1, u_d,2) ~ N(0, G)`` and ``e`` as ``residual`` says.

    Distinguishable, reproduces ``nlme::lme(y ~ 0 + role + role:x + role:x_partner,
    random = ~ 0 + role | dyad, correlation = corCompSymm(form = ~ 1 | dyad/time),
    weights = varIdent(form = ~ 1 | role), method = "REML")``; indistinguishable,
    ``nlme::lme(y ~ x + x_partner, random = list(dyad = pdCompSymm(~ 0 + member)),
    correlation = corCompSymm(form = ~ 1 | dyad/time), method = "REML")`` with
    ``member`` 1 or 2 within the dyad; ``residual="ar1"`` uses
    ``corAR1(form = ~ time | dyad/person)``. Rows whose outcome, predictor or partner's
    predictor is missing are left out (nlme's ``na.omit``) and counted.

    References
    ----------
    Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). *Dyadic data analysis*, ch. 13.
    Bolger, N., & Laurenceau, J.-P. (2013). *Intensive longitudinal methods*, ch. 8.
    Pinheiro, J. C., & Bates, D. M. (2000). *Mixed-effects models in S and S-PLUS*.

    Examples
    --------
    >>> import dyadlab as dl
    >>> df = dl.simulate_diary(50, 14, rng=2)
    >>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time")
    >>> res.fit["converged"]
    True
    """
    check_option("family", family, _FAMILIES, func=_FUNC)
    estimator = estimator_option(estimator, method, func=_FUNC)
    data, dyad, person, role, time = keys_of(
        data, dyad=dyad, person=person, role=role, time=time, func=_FUNC
    )
    if person is None or time is None:
        raise OptionError(f"{_FUNC}(): give person= and time= (the person and occasion ids).")
    if family != "gaussian":
        from dyadlab.models._glmm import diary_glmm

        return diary_glmm(
            data, y=y, x=x, dyad=dyad, person=person, time=time, role=role, center=center,
            residual=residual, random_slopes=random_slopes, covariates=covariates,
            level=level, family=family, nagq=nagq,
        )  # fmt: skip
    if nagq != 1:
        raise OptionError(f"{_FUNC}(): nagq applies to a GLMM; give family='binomial' or a count.")
    check_option("center", center, ("none", "person"), func=_FUNC)
    check_option("residual", residual, tuple(_RESIDUALS), func=_FUNC)
    check_range("level", level, func=_FUNC, low=0.0, high=1.0, inclusive=False)
    xs = _as_list(x)
    covs = _as_list(covariates)
    if not xs:
        raise OptionError(f"{_FUNC}(): x names no predictor. Give x='column'.")
    with codes_once():  # the checks and the data step factorize each key column once
        warnings = _check_input(
            data, y=y, xs=xs, covariates=covs, dyad=dyad, person=person, time=time,
            role=role, residual=residual,
        )  # fmt: skip
        df, predictors, excluded, roles = _prepare(
            data, y=y, xs=xs, covariates=covs, dyad=dyad, person=person, time=time,
            role=role, center=center,
        )  # fmt: skip
    n_excluded = int(len(data) - len(df["_member"]))
    if n_excluded:
        reasons = ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in excluded.items() if v)
        warnings.append(
            f"{n_excluded} of {len(data)} person-occasions were left out of the fit ({reasons})."
            + persons_without_outcome(data, y=y, dyad=dyad, person=person)
        )
    if len(df["_member"]) == 0:
        raise DyadicDataError(
            f"{_FUNC}(): no person-occasion has the outcome, the predictors and the partner's "
            "predictors all observed. Check the time column matches partners' occasions."
        )
    X, Z, labels, zlabels = _design(df, predictors, roles, random_slopes)
    layout = RowLayout(dyad=df["_dyad"], member=df["_member"], time=df["_time"])
    distinguishable = bool(roles)
    structure = _RESIDUALS[residual](distinguishable=distinguishable)
    cov = Unstructured(Z.shape[1]) if distinguishable else Exchangeable(Z.shape[1] // 2)
    start = None
    if (residual, estimator, center, random_slopes, len(xs), covs) == (
        "cs",
        "REML",
        "none",
        False,
        1,
        [],
    ):
        from dyadlab.models._diary_refit import engine_start

        # the default model starts at its optimum, found from sufficient statistics
        start = engine_start(df, predictors[0][0], y, distinguishable)
    try:
        fit = fit_mixed(
            X,
            df[y],
            Z,
            layout,
            structure,
            cov,
            estimator=estimator,  # type: ignore[arg-type]
            start=start,
        )
    except np.linalg.LinAlgError as exc:
        from dyadlab.models._numerics import collinear_note

        raise DyadicDataError(
            f"{_FUNC}(): the fixed effects cannot be estimated ({exc}): a predictor is "
            "constant or a linear combination of others in the rows used "
            f"({collinear_note(X, labels)}). Leave one of them out."
        ) from None
    warnings = emit(warnings) + emit(
        convergence_warnings(
            func=_FUNC,
            converged=fit.converged,
            detail=fit.message,
            boundary=fit.boundary,
            estimation=estimator,
        ),
        ConvergenceWarning,
    )
    se = np.sqrt(np.diag(fit.vcov))
    rows = [
        {**lab, "estimate": float(b), "se": float(s), "df": float(d)}
        for lab, b, s, d in zip(labels, fit.beta, se, fit.df, strict=True)
    ]
    estimates = estimates_frame(rows, level=level)
    vc = _variance_rows(fit, zlabels, roles, level)
    keys = {"y": y, "dyad": dyad, "person": person, "time": time, "role": role}
    return DiaryResult(
        model="diary",
        estimates=estimates,
        n_dyads=fit.n_groups,
        n_obs=fit.n_obs,
        distinguishable=distinguishable,
        roles=[str(r) for r in roles],
        estimation=estimator,
        variance_components=vc,
        fit={
            "loglik": fit.loglik,
            "aic": fit.aic,
            "bic": fit.bic,
            "n_params": fit.n_params,
            "converged": fit.converged,
            "iterations": fit.iterations,
        },
        tests=[],
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
            "residual": residual,
            "random_slopes": random_slopes,
            "estimator": estimator,
            "covariates": covs,
            "level": level,
        },
        extra={
            "n_excluded": n_excluded,
            "excluded": excluded,
            "n_persons": len(pd.unique(df["_person"])),
            "residual": residual,
            "center": center,
            "reproduces": _nlme_call(roles, residual, estimator, random_slopes),
        },
        _plot_data=data,
        _plot_keys=keys,
    )
