"""The truth and bias model of judgment (West & Kenny, 2011) for couples.

How accurately do partners read each other, and how much do they project themselves?
Each person judges their partner (``judgment``) on an attribute both report about
themselves (``truth``). The judgment is regressed on the partner's own report (the
*truth force*) and on the judge's own report (*assumed similarity*); judgment and both
truths are centred on the mean of truth, so that the intercept is the *directional
bias* — how much higher (or lower) judgments are than the truth on average.

Repeated judgments (a diary: one judgment per person per day; or one session with many
items, ``time`` = item) give every person their own bias, truth force and similarity:
random intercepts and slopes over persons. Model and reference::

    jc = judgment - M,  tc_partner = partner's truth - M,  tc_own = own truth - M
    (M = the mean of the truth variable over all rows of the data)

    distinguishable:
    nlme::lme(jc ~ 0 + role + role:tc_partner + role:tc_own,
              random = list(dyad = pdBlocked(list(pdSymm(~ 0 + role),
                                pdDiag(~ 0 + role:tc_partner + role:tc_own)))),
              correlation = corCompSymm(form = ~ 1 | dyad/time),
              weights = varIdent(form = ~ 1 | role), method = "REML")
    indistinguishable (member = 1, 2 within dyad; the labels do not matter):
    nlme::lme(jc ~ tc_partner + tc_own,
              random = list(dyad = pdBlocked(list(pdCompSymm(~ 0 + member),
                                pdIdent(~ 0 + member:tc_partner),
                                pdIdent(~ 0 + member:tc_own)))),
              correlation = corCompSymm(form = ~ 1 | dyad/time), method = "REML")
    one judgment per person (no time): no random slopes can be identified,
    nlme::gls(jc ~ 0 + role + role:tc_partner + role:tc_own,
              correlation = corCompSymm(form = ~ 1 | dyad),
              weights = varIdent(form = ~ 1 | role), method = "REML")

The partners' random intercepts are correlated; the random truth and similarity slopes
are independent of each other and of the intercepts (a variance per role). A fully
unstructured 6 × 6 covariance of all person effects is not offered: nlme does not reach
its maximum reliably (so no reference exists) and the slopes' correlations are rarely
estimable in couples' data.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_truth_bias(60, 14, random_sd=(0.5, 0.3, 0.3), rng=1)
>>> res = dl.truth_bias(df, judgment="judgment", truth="truth", dyad="dyad",
...                     person="person", time="time", role="role")
>>> res.estimates["effect"].unique().tolist()
['directional_bias', 'truth', 'assumed_similarity']
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import (
    check_columns,
    check_numeric,
    check_range,
    estimator_option,
    show_ids,
)
from dyadlab.data import DyadicData
from dyadlab.data.model_frame import keys_of
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError
from dyadlab.models._engine import EngineFit, fit_mixed, refit_small_log_sds
from dyadlab.models._engine_covariance import CovarianceStructure, Unstructured
from dyadlab.models._engine_residual import CompoundSymmetry, RowLayout
from dyadlab.models._result import (
    VARIANCE_COLUMNS,
    ModelResult,
    convergence_warnings,
    emit,
    estimates_frame,
    present,
)
from dyadlab.models._truth_bias_design import Prepared, TruthBiasMatrices, design, prepare
from dyadlab.models._truth_bias_random import PersonEffects

__all__ = ["TruthBiasResult", "truth_bias"]

_FUNC = "truth_bias"
#: a slope log-SD below this (relative to the residual SD) is re-examined from a new start
_SMALL_LOG_SD = -4.0


@dataclass(frozen=True)
class TruthBiasResult(ModelResult):
    """The result of :func:`truth_bias`; adds :meth:`plot`."""

    @property
    def truth_mean(self) -> float:
        """M, the grand mean of the truth subtracted from truth and judgment."""
        return float(self.extra["truth_mean"])

    @property
    def n_excluded(self) -> int:
        """Rows left out of the fit."""
        return int(self.extra["n_excluded"])

    @property
    def excluded(self) -> dict[str, int]:
        """Rows left out, by reason."""
        return {str(k): int(v) for k, v in self.extra["excluded"].items()}

    @property
    def random_covariance(self) -> dict[str, Any] | None:
        """Names and matrix of the random effects' covariance (None without them)."""
        cov = self.extra.get("random_covariance")
        return None if cov is None else dict(cov)

    def plot(self, ax: Any = None) -> Any:
        """Directional bias, truth force and assumed similarity by role, with CIs.

        Returns a matplotlib Figure (see :func:`dyadlab.report.truth_bias_plot.plot_truth_bias`).
        """
        return present("truth_bias_plot", "plot_truth_bias")(self, ax=ax)


def truth_bias(
    data: pd.DataFrame | DyadicData,
    *,
    judgment: str,
    truth: str,
    dyad: str | None = None,
    person: str | None = None,
    time: str | None = None,
    role: str | None = None,
    similarity: bool = True,
    moderators: Sequence[str] | None = None,
    estimator: str = "REML",
    level: float = 0.95,
    method: str | None = None,
) -> TruthBiasResult:
    """Fit West & Kenny's (2011) truth and bias model to couples' judgments of each other.

    Parameters
    ----------
    data : DataFrame or DyadicData
        Individual format: one row per person, or per person-occasion (diary) or
        person-item. It is not changed. A DyadicData gives the keys not passed.
    judgment : str
        The judge's rating of the partner (e.g. ``partner_desire``).
    truth : str
        The same attribute as each person reports it about themselves (e.g. ``desire``).
        The partner's value is the truth; the judge's own value gives assumed similarity.
    dyad : str, optional
        Dyad id column (needed with a DataFrame).
    person : str, optional
        Person id column; needed with ``time`` unless ``role`` tells the partners apart.
    time : str, optional
        Occasion (day) or item column; partners are matched within it. Without it every
        person has one row and the model has no random effects (likewise, with a warning,
        when every person has a single usable judgment).
    role : str, optional
        Column whose two values distinguish the partners (the judge's role); effects are
        estimated per role. Leave out for indistinguishable dyads (pooled effects).
    similarity : bool, default True
        Include assumed similarity (the judge's own truth). False fits truth force and
        bias only.
    moderators : sequence of str, optional
        Numeric columns (of the judge's row) that moderate bias, truth force and
        similarity: effects ``directional_bias:M``, ``truth:M``, ``assumed_similarity:M``.
        The main effects are then those at ``M = 0``; centre a moderator to read them at
        its mean.
    estimator : {"REML", "ML"}
        Restricted (default, as nlme's ``method = "REML"``) or full maximum likelihood.
    level : float, default 0.95
        Confidence level of the intervals.
    method : {"REML", "ML"}, optional
        Deprecated old name of ``estimator`` (a :class:`FutureWarning`).

    Returns
    -------
    TruthBiasResult
        ``model == "truth_bias"``. ``.estimates`` has columns ``effect`` (
        ``directional_bias``, ``truth``, ``assumed_similarity``, and ``EFFECT:M`` per
        moderator), ``predictor``, ``role`` (the judge's role as in the data, or None),
        ``estimate``, ``se``, ``statistic`` (t), ``df`` (nlme's), ``p``, ``ci_low``,
        ``ci_high``. ``.variance_components`` holds the SDs of the random bias, truth and
        similarity per role, the partners' bias correlation, the residual SD per role
        and the partners' residual correlation. ``.extra`` holds ``truth_mean`` (M),
        ``n_excluded`` and ``excluded`` (rows left out, by reason). ``.fit`` holds
        ``loglik, aic, bic, n_params, converged``.

    Raises
    ------
    DyadicDataError
        A missing or non-numeric column, or a broken dyad structure (a dyad of three
        persons, duplicate person-occasions, a role that does not split a dyad).
    OptionError
        An invalid ``estimator`` or ``level``.

    Warns
    -----
    ConvergenceWarning
        A fit that did not converge or a variance at its boundary.
    DyadlabWarning
        Rows left out (no partner row, missing truths or judgment), dyads whose partner
        never reports the truth, a constant truth; the same texts are in ``.warnings``.

    See Also
    --------
    dyadlab.simulate_truth_bias : data with known truth force, similarity and bias.

    Notes
    -----
    For judge :math:`j` in dyad :math:`i` at occasion :math:`t`:

    .. math::

        J_{ijt} - M = (d_j + \\delta_{ij}) + (t_j + \\tau_{ij})(T_{ij't} - M)
                      + (s_j + \\sigma_{ij})(T_{ijt} - M) + \\varepsilon_{ijt}

    Reproduces the ``nlme`` calls in the module documentation (estimates within 1e-4,
    SEs within 1e-3; tested against fixtures from ``tests/reference/truth_bias.R``).

    References
    ----------
    West, T. V., & Kenny, D. A. (2011). The truth and bias model of judgment.
    Psychological Review, 118(2), 357–378.

    Examples
    --------
    >>> import dyadlab as dl
    >>> df = dl.simulate_truth_bias(80, 14, random_sd=(0.5, 0.3, 0.3), rng=3)
    >>> res = dl.truth_bias(df, judgment="judgment", truth="truth", dyad="dyad",
    ...                     person="person", time="time", role="role")
    >>> res.fit["converged"]
    True
    """
    estimator = estimator_option(estimator, method, func=_FUNC)
    check_range("level", level, func=_FUNC, low=0.0, high=1.0, inclusive=False)
    data, dyad, person, role, time = keys_of(
        data, dyad=dyad, person=person, role=role, time=time, func=_FUNC
    )
    mods = list(moderators or [])
    keys = [c for c in (dyad, person, time, role) if c is not None]
    variables = list(dict.fromkeys([judgment, truth, *mods]))
    check_columns(data, [*keys, *variables], func=_FUNC)
    check_numeric(data, variables, func=_FUNC)
    bad_mod = [m for m in mods if m in keys or m in (judgment, truth)]
    if bad_mod:
        raise DyadicDataError(
            f"{_FUNC}(): moderator {bad_mod[0]!r} is a key, the judgment or the truth. "
            "Pass another variable as a moderator."
        )
    dd = DyadicData(
        data[list(dict.fromkeys([*keys, *variables]))],
        dyad=dyad,
        person=person,
        role=role,
        time=time,
        allow_incomplete=True,
    )
    if role is not None:
        dd.require_distinguishable(func=_FUNC)
    distinguishable = role is not None
    prep = prepare(
        dd.data,
        judgment=judgment,
        truth=truth,
        dyad=dyad,
        person=person,
        time=time,
        role=role,
        moderators=mods,
        func=_FUNC,
    )
    warns = _exclusion_warnings(prep, truth)
    call: dict[str, Any] = {
        "judgment": judgment,
        "truth": truth,
        "dyad": dyad,
        "person": person,
        "time": time,
        "role": role,
        "similarity": similarity,
        "moderators": mods or None,
        "estimator": estimator,
        "level": level,
    }
    common: dict[str, Any] = dict(
        prep=prep, distinguishable=distinguishable, estimator=estimator, level=level, call=call
    )
    problem = _unfittable(prep, mods, truth)
    if problem:
        warns.append(problem)
        return _failed(warns=emit(warns), **common)
    des = design(
        prep,
        truth=truth,
        judgment=judgment,
        moderators=mods,
        similarity=similarity,
        distinguishable=distinguishable,
    )
    if np.linalg.matrix_rank(des.X) < des.X.shape[1]:
        warns.append(
            f"{_FUNC}(): the fixed effects cannot all be estimated (a moderator or a truth "
            "without variance within a role, or collinear with another term); nothing was "
            "fitted. Check the moderators and that both partners report the truth."
        )
        return _failed(warns=emit(warns), **common)
    f = prep.frame
    layout = RowLayout(
        dyad=f["_dyad_code"].to_numpy(),
        member=f["_member"].to_numpy(),
        time=pd.factorize(f["_time"], sort=True)[0].astype(float),
    )
    residual = CompoundSymmetry(distinguishable=distinguishable)
    per_person = f.groupby(["_dyad_code", "_member"]).size()
    random = time is not None and int(per_person.max()) > 1
    if time is not None and not random:
        warns.append(
            f"{_FUNC}(): every person has a single usable judgment, so person-level random "
            "effects cannot be estimated; the model was fitted without them (as without "
            "time)."
        )
    fit = _fit(
        des,
        layout,
        residual,
        random=random,
        similarity=similarity,
        distinguishable=distinguishable,
        estimator=estimator,
    )
    boundary = [
        b.replace("member 1", prep.roles[0]).replace("member 2", prep.roles[1])
        if distinguishable
        else b
        for b in fit.boundary
    ]
    convergence = convergence_warnings(
        func=_FUNC,
        converged=fit.converged,
        detail=fit.message,
        boundary=boundary,
        estimation=estimator,
        hint="consider a simpler model (e.g. similarity=False)",
    )
    if random and (per_person < 3).any():
        warns.append(
            f"{_FUNC}(): {int((per_person < 3).sum())} persons have fewer than 3 usable "
            "judgments; their own bias and slopes rest on very little data (kept)."
        )
    warns = emit(warns) + emit(convergence, ConvergenceWarning)
    return _result(fit, des, warns=warns, random=random, **common)


def _fit(
    des: TruthBiasMatrices,
    layout: RowLayout,
    residual: CompoundSymmetry,
    *,
    random: bool,
    similarity: bool,
    distinguishable: bool,
    estimator: str,
) -> EngineFit:
    """Fit by the engine; re-examine slope variances that ended near zero."""
    meth: Any = estimator
    if not random:
        Z0 = np.zeros((len(des.y), 0))  # no random effects: the engine's GLS case
        return fit_mixed(des.X, des.y, Z0, layout, residual, Unstructured(0), estimator=meth)
    cov: CovarianceStructure = PersonEffects(
        distinguishable=distinguishable, n_slopes=2 if similarity else 1
    )
    fit = fit_mixed(des.X, des.y, des.Z, layout, residual, cov, estimator=meth)
    # slope variances near zero: re-examined (the log-SD plateau), the better fit kept
    k0 = cov.intercepts.n_params if isinstance(cov, PersonEffects) else 0
    return refit_small_log_sds(
        fit,
        des.X,
        des.y,
        des.Z,
        layout,
        residual,
        cov,
        positions=np.arange(k0, cov.n_params),
        estimator=meth,
        below=_SMALL_LOG_SD,
    )


def _exclusion_warnings(prep: Prepared, truth: str) -> list[str]:
    warns = []
    if prep.n_excluded:
        why = ", ".join(f"{k}: {v}" for k, v in prep.excluded.items())
        warns.append(
            f"{_FUNC}(): {prep.n_excluded} rows were left out of the fit because the "
            f"judgment, a truth or a moderator is missing (by reason, a row may have several: "
            f"{why}); as nlme's na.omit."
        )
    if prep.no_partner_truth_dyads:
        ids = show_ids(prep.no_partner_truth_dyads)
        warns.append(
            f"{_FUNC}(): in {len(prep.no_partner_truth_dyads)} dyads one partner never "
            f"reports {truth!r} (first: {ids}), so the other's judgments of them have no "
            "truth and are left out. Check that both partners report the truth variable."
        )
    if prep.single_person_dyads:
        ids = show_ids(prep.single_person_dyads)
        warns.append(
            f"{_FUNC}(): {len(prep.single_person_dyads)} dyads have only one person "
            f"(first: {ids}); their rows have no partner truth and are left out."
        )
    return warns


def _unfittable(prep: Prepared, mods: list[str], truth: str) -> str | None:
    f = prep.frame
    if not (prep.truth_sd > 0):
        return (
            f"{_FUNC}(): the truth variable {truth!r} is constant (or missing), so neither "
            "truth force nor assumed similarity can be estimated; nothing was fitted."
        )
    if len(f) == 0 or f["_dyad_code"].nunique() < 2:
        return (
            f"{_FUNC}(): no (or only one) dyad has both a judgment and the partner's "
            f"{truth!r}; nothing was fitted. Check that both partners report {truth!r} "
            "(on the same occasions)."
        )
    for col in ("tc_partner", "tc_own"):
        if np.ptp(f[col].to_numpy()) == 0:
            return (
                f"{_FUNC}(): the truth {truth!r} is constant in the rows that can be fitted; "
                "nothing was fitted."
            )
    return None


def _failed(
    *,
    prep: Prepared,
    distinguishable: bool,
    estimator: str,
    level: float,
    call: dict[str, Any],
    warns: list[str],
) -> TruthBiasResult:
    """A result without estimates: fit.converged False and the reasons in warnings."""
    return TruthBiasResult(
        model="truth_bias",
        estimates=estimates_frame([], level=level),
        n_dyads=int(prep.frame["_dyad_code"].nunique()),
        n_obs=len(prep.frame),
        distinguishable=distinguishable,
        roles=prep.roles,
        estimation=estimator,
        fit={"loglik": None, "aic": None, "bic": None, "n_params": 0, "converged": False},
        warnings=warns,
        level=level,
        call=call,
        extra={
            "truth_mean": prep.truth_mean,
            "n_excluded": prep.n_excluded,
            "excluded": prep.excluded,
        },
    )


def _result(
    fit: EngineFit,
    des: TruthBiasMatrices,
    *,
    prep: Prepared,
    distinguishable: bool,
    estimator: str,
    level: float,
    call: dict[str, Any],
    warns: list[str],
    random: bool,
) -> TruthBiasResult:
    se = np.sqrt(np.diag(fit.vcov))
    n, p = des.X.shape
    # lme: nlme's df; no random effects (gls): t with N - p df, as summary.gls
    df = fit.df if random else np.full(p, float(n - p))
    rows = [
        {
            "effect": e,
            "predictor": pr,
            "role": r,
            "estimate": float(b),
            "se": float(s),
            "df": float(d),
        }
        for (e, pr, r), b, s, d in zip(des.terms, fit.beta, se, df, strict=True)
    ]
    vc, random_cov = _variance_components(fit, des, prep, distinguishable, random)
    return TruthBiasResult(
        model="truth_bias",
        estimates=estimates_frame(rows, level=level),
        n_dyads=fit.n_groups,
        n_obs=fit.n_obs,
        distinguishable=distinguishable,
        roles=prep.roles,
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
        warnings=warns,
        level=level,
        call=call,
        extra={
            "truth_mean": prep.truth_mean,
            "n_excluded": prep.n_excluded,
            "excluded": prep.excluded,
            "random_covariance": random_cov,
        },
    )


def _variance_components(
    fit: EngineFit, des: TruthBiasMatrices, prep: Prepared, distinguishable: bool, random: bool
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Random-effect SDs and correlations, residual SDs and correlation, per role."""
    roles: list[str | None] = list(prep.roles) if distinguishable else [None, None]
    rows: list[dict[str, Any]] = []
    random_cov = None
    if random:
        S = np.diag(1.0 / des.z_scale)
        V = S @ (fit.psi * fit.sigma2) @ S
        names = ["directional_bias", "truth", "assumed_similarity"][: len(V) // 2]
        for k, name in enumerate(names):
            for m in range(2 if distinguishable else 1):
                rows.append(
                    {
                        "name": f"sd_{name}",
                        "role": roles[m],
                        "estimate": math.sqrt(max(V[2 * k + m, 2 * k + m], 0.0)),
                    }
                )
        sd0, sd1 = math.sqrt(V[0, 0]), math.sqrt(V[1, 1])
        corr = V[0, 1] / (sd0 * sd1) if sd0 > 0 and sd1 > 0 else float("nan")
        rows.append({"name": "partner_bias_correlation", "role": None, "estimate": corr})
        labels = [
            f"{n}[{'member ' + str(m + 1) if r is None else r}]"
            for n in names
            for m, r in enumerate(roles)
        ]
        random_cov = {"names": labels, "matrix": V.tolist()}
    sd_ratio = fit.residual_params.get("sd_ratio", 1.0)
    sigma = math.sqrt(fit.sigma2)
    if distinguishable:
        rows.append({"name": "residual_sd", "role": roles[0], "estimate": sigma})
        rows.append({"name": "residual_sd", "role": roles[1], "estimate": sigma * sd_ratio})
    else:
        rows.append({"name": "residual_sd", "role": None, "estimate": sigma})
    rows.append(
        {
            "name": "residual_correlation",
            "role": None,
            "estimate": fit.residual_params.get("rho", float("nan")),
        }
    )
    vc = pd.DataFrame(rows, columns=VARIANCE_COLUMNS)
    vc["role"] = vc["role"].astype(object).where(vc["role"].notna(), None)
    return vc, random_cov
