"""The four APIM estimators, k with its interval (delta method or bootstrap), and simple slopes.

Each estimator turns a :class:`~dyadlab.models._apim_design.ApimData` into a
:class:`Fitted`: the estimate rows of the result table, variance components, fit
indices, tests, and what k and the simple slopes need (coefficients, their covariance
matrix, and a refit function on dyad weights for the bootstrap).

Examples
--------
>>> pattern_of(0.05, -0.3, 0.4)[0]
'actor-only'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special, stats

from dyadlab.models import _bootstrap as bs
from dyadlab.models._apim_design import ApimData, pairwise_design
from dyadlab.models._engine import EngineFit, fit_gls_batch, fit_mixed
from dyadlab.models._engine_covariance import Unstructured
from dyadlab.models._engine_residual import CompoundSymmetry, RowLayout
from dyadlab.models._numerics import saturated_loglik as complete_saturated_loglik
from dyadlab.models._sem import (
    SemSpec,
    apim_spec,
    complete_moments,
    exo_loglik,
    fiml_fixed_x_batch,
    fit_sem,
    saturated_loglik,
    sem_data,
)

__all__ = [
    "Fitted",
    "k_table",
    "mlm",
    "pattern_of",
    "sem_distinguishable",
    "sem_indistinguishable",
    "simple_slopes",
]

Array = NDArray[np.float64]
Key = tuple[str, str | None, int | None]  # (effect, predictor, member)


@dataclass
class Fitted:
    """What an estimator hands back to :func:`dyadlab.apim`."""

    rows: list[dict[str, Any]]
    variance: list[dict[str, Any]]
    fit: dict[str, Any]
    n_dyads: int
    n_obs: int
    coef: dict[Key, int]
    theta: Array
    vcov: Array
    df: float | None = None
    tests: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    refit: Callable[[Array], Array] | None = None  # dyad weights -> theta
    refit_batch: Callable[[Array], Array] | None = None  # (b, n) weights -> (b, k) theta
    n_units: int = 0  # number of dyads the weights index


def _role(des: ApimData, r: int | None) -> str | None:
    return None if r is None or not des.distinguishable else des.roles[r]


def _rows(
    des: ApimData, coef: dict[Key, int], theta: Array, vcov: Array, df: float | None
) -> list[dict[str, Any]]:
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    out = []
    for (eff, pred, r), i in coef.items():
        out.append(
            {
                "effect": eff,
                "predictor": pred,
                "role": _role(des, r),
                "estimate": float(theta[i]),
                "se": float(se[i]),
                "df": df,
            }
        )
    return out


def _n_dyads(n: int) -> str:
    return f"{n} dyad" if n == 1 else f"{n} dyads"


def _names(des: ApimData, which: Any) -> str:
    """The dyads ``which`` (a mask or indices) selects, as ``dyad 3, dyad 7 and 2 more``."""
    which = np.asarray(which)
    idx = np.flatnonzero(which) if which.dtype == bool else which
    shown = ", ".join(des.who(int(i)) for i in idx[:5])
    return shown + (f" and {len(idx) - 5} more" if len(idx) > 5 else "")


def _check_rank(x: Array, labels: list[str], *, unit: str = "dyads") -> str | None:
    """Raise DyadicDataError when the design has too few rows or collinear columns,
    naming them; return a warning when columns are nearly collinear."""
    from dyadlab.exceptions import DyadicDataError

    n, p = x.shape
    if n <= p:
        raise DyadicDataError(
            f"apim(): only {n} {unit} with complete values for a model with {p} "
            f"coefficients{' per outcome' if unit == 'dyads' else ''} ({', '.join(labels)}); "
            f"at least {p + 1} are needed "
            "to estimate the effects and a residual variance. Add dyads, or use fewer "
            "predictors, covariates or moderator terms."
        )
    scale = np.sqrt((x**2).mean(axis=0))
    xs = x / np.where(scale > 0, scale, 1.0)
    sv = np.linalg.svd(xs, compute_uv=False)
    # the rank as np.linalg.matrix_rank finds it, from the same singular values
    if int((sv > sv.max(initial=0.0) * max(n, p) * np.finfo(float).eps).sum()) == p:
        # condition number of the scaled design (a predictor's mean far from 0 adds
        # about mean / SD, so 1e4 means terms that nearly repeat each other)
        cond = float(sv[0] / sv[-1]) if sv[-1] > 0 else np.inf
        if cond > 1e4:
            return (
                f"The model's terms are nearly collinear (condition number {cond:.3g}): "
                "their effects are poorly separated and the standard errors unreliable. "
                "Remove a predictor or covariate that nearly repeats another."
            )
        return None
    _, _, vt = np.linalg.svd(xs, full_matrices=False)
    null = vt[-1]
    involved = [labels[i] for i in np.flatnonzero(np.abs(null) > 1e-6)]
    raise DyadicDataError(
        "apim(): the model's terms are collinear, so their effects cannot be separated "
        f"(involved: {', '.join(involved)}). This happens, e.g., when a within-dyad "
        "moderator splits every dyad in the same way (use it as role instead) or when a "
        "covariate repeats a predictor. Remove one of these terms."
    )


def _well_conditioned(mean: Array, cov: Array) -> bool:
    """True when the design ``[1, x]`` with these column means and (ML) covariance is
    certainly of full rank with a condition number below 1e3 (so :func:`_check_rank`
    would neither raise nor warn); False when the rows must be looked at.

    The scaled Gram matrix of the design comes from the moments; its eigenvalues are
    the squared singular values of :func:`_check_rank` (divided by n), accurate to
    about 1e-16 of the largest, so a ratio above 1e-6 is safe to judge.
    """
    mu = np.concatenate([[1.0], mean])
    gram = np.zeros((len(mu), len(mu)))
    gram[1:, 1:] = cov
    gram += np.outer(mu, mu)
    scale = np.sqrt(np.diag(gram))
    if not np.all(np.isfinite(gram)) or not np.all(scale > 0):
        return False
    eig = np.linalg.eigvalsh(gram / np.outer(scale, scale))
    return bool(eig[0] > 1e-6 * eig[-1])


def _check_outcomes(
    y: Array, q: int, roles: Sequence[str] | None, *, complete: bool = False
) -> None:
    """Raise DyadicDataError when an outcome has too few values or no variation for a
    regression on ``q`` coefficients (its residual variance would be zero)."""
    from dyadlab.exceptions import DyadicDataError

    for r in range(2):
        col = y[:, r] if roles is not None else y.ravel()
        if not complete:
            col = col[~np.isnan(col)]
        who = f" of the {roles[r]} members" if roles is not None else ""
        if len(col) <= q:
            raise DyadicDataError(
                f"apim(): only {len(col)} outcome values{who} for {q} coefficients; the "
                "residual variance cannot be estimated. Add dyads, or use fewer predictors, "
                "covariates or moderator terms."
            )
        if np.ptp(col) == 0:
            raise DyadicDataError(
                f"apim(): the outcome{who} takes one value only ({col[0]:g}); there is "
                "nothing to explain. Check the outcome column."
            )
        if roles is None:
            break


def _fit_warnings(vcov: Array) -> list[str]:
    """A warning when the standard errors could not be computed."""
    if np.all(np.isfinite(np.diag(vcov))):
        return []
    return [
        "The information matrix is singular, so standard errors, tests and intervals are "
        "not available (too few dyads for the number of parameters, or nearly collinear "
        "predictors). Add dyads or use fewer predictors."
    ]


def _info_criteria(ll: float, k: int, n: float) -> dict[str, Any]:
    return {
        "loglik": float(ll),
        "aic": float(-2 * ll + 2 * k),
        "bic": float(-2 * ll + k * np.log(n)),
        "n_params": int(k),
    }


# ---- SEM, distinguishable -------------------------------------------------------------
def _sem_layout(des: ApimData) -> tuple[list[str], Array, list[list[int]], list[str]]:
    keys, data = des.sem_columns()
    terms = [[keys.index(t.key(r)) for t in des.terms] for r in range(2)]
    groups = [t.effect if t.kind == "x" else "other" for t in des.terms]
    return keys, data, terms, groups


def _constrained_start(
    spec: SemSpec, con: SemSpec, theta: Array, vcov: Array
) -> tuple[Array | None, Array | None]:
    """Start and curvature for refitting ``spec`` under the equalities of ``con``.

    ``con`` shares some of ``spec``'s parameters: with ``A`` mapping its parameters to
    ``spec``'s and ``I`` the information (the inverse of ``vcov``), the minimum-distance
    estimate ``(A'IA)^-1 A'I theta`` is within O(1/n) of the constrained ML estimate and
    ``(A'IA)^-1`` its covariance, so BFGS starts next to the optimum with the right
    curvature and needs a few steps. (None, None) without standard errors: then
    :func:`fit_sem` starts from least squares.
    """
    if not np.all(np.isfinite(vcov)):
        return None, None
    a = np.zeros((spec.n_params, con.n_params))
    a[spec.a_idx, con.a_idx] = 1.0
    a[spec.psi_idx, con.psi_idx] = 1.0
    free = spec.b_idx >= 0
    a[spec.b_idx[free], con.b_idx[free]] = 1.0
    try:
        info = np.linalg.inv(vcov)
        cov = np.linalg.inv(a.T @ info @ a)
    except np.linalg.LinAlgError:
        return None, None
    start = cov @ (a.T @ (info @ theta))
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(cov))):
        return None, None
    return np.asarray(start, dtype=float), np.asarray(cov, dtype=float)


def sem_distinguishable(des: ApimData, *, level: float) -> Fitted:
    """lavaan::sem() ML (fixed.x = TRUE, meanstructure, missing = "ml")."""
    keys, data, terms, groups = _sem_layout(des)
    m = data.shape[1] - 2
    warns = []
    # complete data (the usual case): the moments at once, no row masks
    moments = complete_moments(data)
    complete = moments is not None
    if moments is None:
        drop = np.isnan(data[:, 2:]).any(axis=1)
        if drop.any():
            warns.append(
                f"{_n_dyads(int(drop.sum()))} with a missing predictor or covariate "
                f"{'was' if drop.sum() == 1 else 'were'} left out ({_names(des, drop)}; the "
                "predictors are fixed, as lavaan's fixed.x = TRUE)."
            )
            data = data[~drop]
        empty = np.isnan(data[:, :2]).all(axis=1)
        if empty.any():
            kept = np.flatnonzero(~drop)
            warns.append(
                f"{_n_dyads(int(empty.sum()))} {'has' if empty.sum() == 1 else 'have'} no "
                f"outcome value ({_names(des, kept[empty])}); they add nothing to the fit."
            )
        complete = not np.isnan(data).any()  # only predictors were missing
        moments = sem_data(data)  # one pass over the rows for the checks and four fits below
    labels = ["intercept", *keys]
    if len(data) <= m + 1 or not _well_conditioned(moments.mx, moments.sx):
        near = _check_rank(np.column_stack([np.ones(len(data)), data[:, 2:]]), labels)
    else:
        near = None
    _check_outcomes(data[:, :2], m + 1, des.roles, complete=complete)
    spec = apim_spec(m, terms, term_groups=groups)
    fit = fit_sem(moments, spec)
    warns += [near] if near else []
    warns += _fit_warnings(fit.vcov)
    ll = fit.loglik - exo_loglik(moments)
    coef: dict[Key, int] = {}
    for r in range(2):
        coef[("intercept", None, r)] = int(spec.a_idx[r])
        for k, t in enumerate(des.terms):
            coef[(t.effect, t.predictor, r)] = int(spec.b_idx[r, terms[r][k]])
    th, v = fit.theta, fit.vcov
    p = spec.psi_idx
    variance = [
        {"name": "residual_variance", "role": des.roles[0], "estimate": th[p[0]]},
        {"name": "residual_variance", "role": des.roles[1], "estimate": th[p[1]]},
        {"name": "residual_covariance", "role": None, "estimate": th[p[2]]},
        {
            "name": "residual_correlation",
            "role": None,
            "estimate": th[p[2]] / np.sqrt(th[p[0]] * th[p[1]]),
        },
    ]
    n = float(len(data))
    fitd = _info_criteria(ll, spec.n_params, n)
    fitd["converged"] = bool(fit.converged)
    tests = []
    for name, equal in [
        ("equal_actor_effects", ("actor",)),
        ("equal_partner_effects", ("partner",)),
        ("equal_roles", ("intercept", "actor", "partner", "variance")),
    ]:
        con = apim_spec(m, terms, term_groups=groups, equal=equal)
        start, curvature = _constrained_start(spec, con, fit.theta, fit.vcov)
        cfit = fit_sem(moments, con, compute_se=False, start=start, hess_inv=curvature)
        lr = max(2 * (fit.loglik - cfit.loglik), 0.0)
        dfree = spec.n_params - con.n_params
        if not (np.isfinite(lr) and abs(cfit.loglik) < 1e250 and abs(fit.loglik) < 1e250):
            warns.append(f"The {name} likelihood-ratio test failed to fit and is left out.")
        else:
            tests.append(
                {
                    "name": name,
                    "method": "likelihood_ratio",
                    "statistic": lr,
                    "df": dfree,
                    "p": float(special.chdtrc(dfree, lr)),  # = stats.chi2.sf(lr, dfree)
                }
            )
        rows = []
        if "intercept" in equal:
            rows.append((spec.a_idx[0], spec.a_idx[1]))
        for k, g in enumerate(groups):
            if g in equal:
                rows.append((spec.b_idx[0, terms[0][k]], spec.b_idx[1, terms[1][k]]))
        if "variance" in equal:
            rows.append((p[0], p[1]))
        c = np.zeros((len(rows), len(th)))
        for i, (a, b) in enumerate(rows):
            c[i, a], c[i, b] = 1.0, -1.0
        diff = c @ th
        try:
            wald = float(diff @ np.linalg.solve(c @ v @ c.T, diff))
        except np.linalg.LinAlgError:
            wald = np.nan
        if not np.isfinite(wald):
            continue  # no standard errors: the Wald test is left out (warned above)
        tests.append(
            {
                "name": name,
                "method": "wald",
                "statistic": wald,
                "df": len(rows),
                "p": float(special.chdtrc(len(rows), wald)),
            }
        )
    n_obs = 2 * len(data) if complete else int((~np.isnan(data[:, :2])).sum())
    out = Fitted(
        rows=_rows(des, coef, th, v, None),
        variance=variance,
        fit=fitd,
        n_dyads=len(data),
        n_obs=n_obs,
        coef=coef,
        theta=th,
        vcov=v,
        tests=tests,
        warnings=warns,
        n_units=len(data),
    )
    saturated = sorted(terms[0]) == sorted(terms[1])
    if complete and saturated:
        # ML = least squares per outcome: all resamples solved at once
        pos = []
        for j in range(spec.n_params):
            hit = None
            for r in range(2):
                if spec.a_idx[r] == j:
                    hit = (0, r)
                cols = np.flatnonzero(spec.b_idx[r] == j)
                if cols.size:
                    hit = (1 + int(cols[0]), r)
            pos.append(hit)

        def batch(w: Array) -> Array:
            design = np.column_stack([np.ones(len(data)), data[:, 2:]])  # only when used
            b = bs.batched_ols(design, data[:, :2], w)
            out_t = np.full((len(w), spec.n_params), np.nan)
            for j, h in enumerate(pos):
                if h is not None:
                    out_t[:, j] = b[:, h[0], h[1]]
            return out_t

        out.refit_batch = batch
    else:

        def one(w: Array) -> Array:
            return fit_sem(data, spec, weights=w, start=th, compute_se=False, hess_inv=v).theta

        out.refit = one
        psi0 = th[spec.psi_idx]

        def fiml(w: Array) -> Array:
            return fiml_fixed_x_batch(data, spec, w, psi0)

        # the batched FIML refits, used when they reproduce the full-data fit
        try:
            with np.errstate(all="ignore"):
                same = np.allclose(fiml(np.ones((1, len(data))))[0], th, rtol=1e-5, atol=1e-7)
        except np.linalg.LinAlgError:
            same = False
        if same:
            out.refit_batch = fiml
    return out


# ---- SEM, indistinguishable (Olsen & Kenny 2006) --------------------------------------
def sem_indistinguishable(des: ApimData, *, level: float) -> Fitted:
    """lavaan::sem() with every parameter equal across the two (arbitrary) members."""
    keys, data, terms, groups = _sem_layout(des)
    exo = data[:, 2:]
    swap = {}
    for t in des.terms:
        for r in range(2):
            swap[t.key(r)] = t.key(1 - r)
    perm = [keys.index(swap[k]) for k in keys]
    data = data[~np.isnan(data).all(axis=1)]
    m = exo.shape[1]
    complete_x = ~np.isnan(exo).any(axis=1)
    near = _check_rank(
        np.column_stack([np.ones(int(complete_x.sum())), exo[complete_x]]), ["intercept", *keys]
    )
    _check_outcomes(data[:, :2], m + 1, None)
    spec = apim_spec(m, terms, term_groups=groups, equal=("all",), fixed_x=False, swap=perm)
    fit = fit_sem(data, spec)
    coef: dict[Key, int] = {("intercept", None, None): int(spec.a_idx[0])}
    for k, t in enumerate(des.terms):
        coef[(t.effect, t.predictor, None)] = int(spec.b_idx[0, terms[0][k]])
    th, v = fit.theta, fit.vcov
    p = spec.psi_idx
    variance = [
        {"name": "residual_variance", "role": None, "estimate": th[p[0]]},
        {"name": "residual_covariance", "role": None, "estimate": th[p[2]]},
        {"name": "residual_correlation", "role": None, "estimate": th[p[2]] / th[p[0]]},
    ]
    n = float(len(data))
    fitd = _info_criteria(fit.loglik, spec.n_params, n)
    fitd["converged"] = bool(fit.converged)
    fitd.update(_olsen_kenny_fit(data, fit.loglik, spec.n_params, [1, 0] + [2 + j for j in perm]))
    warns = [near] if near else []
    warns += _fit_warnings(v)
    if np.isnan(data).any():
        warns.append(
            "Missing values: the Olsen & Kenny adjusted fit indices need complete data and are "
            "not reported."
        )
    out = Fitted(
        rows=_rows(des, coef, th, v, None),
        variance=variance,
        fit=fitd,
        n_dyads=len(data),
        n_obs=int((~np.isnan(data[:, :2])).sum()),
        coef=coef,
        theta=th,
        vcov=v,
        warnings=warns,
        n_units=len(data),
    )

    def one(w: Array) -> Array:
        return fit_sem(data, spec, weights=w, start=th, compute_se=False, hess_inv=v).theta

    out.refit = one
    if not np.isnan(data).any():
        out.refit_batch = _sum_difference_batch(des, spec, terms, th)
    return out


def _sum_difference_batch(
    des: ApimData, spec: Any, terms: list[list[int]], theta: Array
) -> Callable[[Array], Array] | None:
    """Batched refits of the indistinguishable model's regression coefficients.

    With complete data and equal residual variances, the dyad sum ``y_1 + y_2`` and
    difference ``y_1 - y_2`` have independent residuals; when every coefficient is
    identified by exactly one of the two equations (actor and partner terms come in
    pairs), the ML coefficients are least squares on the stacked sum and difference
    rows. Checked against the full ML fit; None when they differ (then refits are used).
    """
    t0 = np.column_stack([t.values(des.wide, 0) for t in des.terms])
    t1 = np.column_stack([t.values(des.wide, 1) for t in des.terms])
    y = des.wide[des.y]
    n = len(y)
    z = np.vstack(
        [
            np.column_stack([np.full(n, 2.0), t0 + t1]),
            np.column_stack([np.zeros(n), t0 - t1]),
        ]
    )
    ys = np.concatenate([y[:, 0] + y[:, 1], y[:, 0] - y[:, 1]])[:, None]
    idx = [int(spec.a_idx[0])] + [int(spec.b_idx[0, terms[0][k]]) for k in range(len(des.terms))]

    def batch(w: Array) -> Array:
        coef = bs.batched_ols(z, ys, np.hstack([w, w]))[:, :, 0]
        out = np.full((len(w), len(theta)), np.nan)
        out[:, idx] = coef
        return out

    check = batch(np.ones((1, n)))[0, idx]
    if np.allclose(check, theta[idx], rtol=1e-6, atol=1e-8):
        return batch
    return None


def _olsen_kenny_fit(data: Array, ll: float, npar: int, perm: list[int]) -> dict[str, Any]:
    """Chi-square, RMSEA and CFI against the saturated model, and Olsen & Kenny's
    adjustment against the saturated (I-SAT) and null (I-NULL) indistinguishable models."""
    n, v = data.shape
    moments = v + v * (v + 1) // 2
    ll_sat = saturated_loglik(data)
    chisq = max(2 * (ll_sat - ll), 0.0)
    df = moments - npar
    # independence baseline: every variable on its own (its observed values)
    ll_base = 0.0
    for j in range(v):
        col = data[:, j][~np.isnan(data[:, j])]
        ll_base += -0.5 * len(col) * (np.log(2 * np.pi * col.var()) + 1)
    chisq_b = max(2 * (ll_sat - ll_base), 0.0)
    df_b = v * (v - 1) // 2
    out: dict[str, Any] = {
        "chisq": chisq,
        "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else None,
        "rmsea": float(np.sqrt(max(chisq - df, 0) / (df * n))) if df > 0 else None,
        "cfi": _cfi(chisq, df, chisq_b, df_b),
    }
    if np.isnan(data).any():
        return out
    # I-SAT: invariant under swapping the members; I-NULL: also no covariances
    pairs = sorted({tuple(sorted((j, perm[j]))) for j in range(v)})
    sym, anti = [], []
    for a, b in pairs:
        if a == b:
            sym.append(data[:, a])
        else:
            sym.append((data[:, a] + data[:, b]) / np.sqrt(2))
            anti.append((data[:, a] - data[:, b]) / np.sqrt(2))
    s = np.column_stack(sym)
    ll_isat = complete_saturated_loglik(s)
    n_s, n_d = s.shape[1], len(anti)
    k_isat = n_s + n_s * (n_s + 1) // 2
    if anti:
        d = np.column_stack(anti)
        ll_isat += complete_saturated_loglik(d, centred=False)
        k_isat += n_d * (n_d + 1) // 2
    ll_inull, k_inull = 0.0, 0
    for a, b in pairs:
        vals = data[:, a] if a == b else np.concatenate([data[:, a], data[:, b]])
        ll_inull += -0.5 * len(vals) * (np.log(2 * np.pi * vals.var()) + 1)
        k_inull += 2
    chisq_isat = max(2 * (ll_sat - ll_isat), 0.0)
    df_isat = moments - k_isat
    chisq_inull = max(2 * (ll_sat - ll_inull), 0.0)
    df_inull = moments - k_inull
    adj, dfa = chisq - chisq_isat, df - df_isat
    if abs(adj) < 1e-8 * max(1.0, chisq):  # rounding noise of two equal likelihoods
        adj = 0.0
    nadj, dfn = chisq_inull - chisq_isat, df_inull - df_isat
    out.update(
        {
            "chisq_isat": chisq_isat,
            "df_isat": df_isat,
            "chisq_inull": chisq_inull,
            "df_inull": df_inull,
            "chisq_adjusted": adj,
            "df_adjusted": dfa,
            "pvalue_adjusted": float(stats.chi2.sf(max(adj, 0), dfa)) if dfa > 0 else None,
            "rmsea_adjusted": float(np.sqrt(max(adj - dfa, 0) / (dfa * n))) if dfa > 0 else None,
            "cfi_adjusted": _cfi(adj, dfa, nadj, dfn),
        }
    )
    return out


def _cfi(chisq: float, df: float, chisq_b: float, df_b: float) -> float | None:
    num = max(chisq - df, 0.0)
    den = max(chisq_b - df_b, chisq - df, 0.0)
    return 1.0 if den == 0 else float(1 - num / den)


# ---- MLM ------------------------------------------------------------------------------
def gls_by_engine(
    y: Array, x: Array, dyad: NDArray[Any], member: NDArray[Any], *, distinguishable: bool
) -> tuple[EngineFit, Callable[[Array], Array]]:
    """``nlme::gls`` REML (corCompSymm, varIdent by role) fitted by the engine, and its
    bootstrap.

    The engine's model without random effects (:func:`~dyadlab.models._engine.fit_mixed`
    with ``q = 0``), the one REML path of the Gaussian models. A nearly collinear design
    is fitted too (the APIM has checked the rank and warns, see ``_check_rank``).
    Returns the fit and ``batch(weights)``: the fixed effects for frequency weights
    (b, n) over the dyad codes ``0..n-1`` of ``dyad``, all resamples at once
    (:func:`~dyadlab.models._engine.fit_gls_batch`).
    """
    order = np.lexsort((member, dyad))
    ids, code = np.unique(dyad[order], return_inverse=True)
    layout = RowLayout(dyad=code, member=member[order].astype(int), time=np.zeros(len(order)))
    residual = CompoundSymmetry(distinguishable=distinguishable)
    xs, ys = x[order], y[order]
    fit = fit_mixed(
        xs, ys, np.zeros((len(order), 0)), layout, residual, Unstructured(0), check_rank=False
    )

    def batch(w: Array) -> Array:
        return fit_gls_batch(xs, ys, layout, residual, w[:, ids], fit.theta)

    return fit, batch


def mlm(des: ApimData, *, level: float) -> Fitted:
    """nlme::gls() REML, compound symmetry within dyad (+ varIdent by role)."""
    yv, xm, dyv, mv, labels = pairwise_design(des)
    ok = ~np.isnan(yv) & ~np.isnan(xm).any(axis=1)
    warns = []
    present = des.present.T.ravel() if des.present is not None else np.ones(len(ok), bool)
    lost = np.flatnonzero(~ok & present)
    if len(lost):
        shown = ", ".join(des.who(int(dyv[i]), int(mv[i])) for i in lost[:5])
        more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
        warns.append(
            f"{len(lost)} {'person' if len(lost) == 1 else 'persons'} with a missing outcome, "
            f"predictor or partner's predictor {'was' if len(lost) == 1 else 'were'} left out "
            f"(na.omit): {shown}{more}."
        )
    near = _check_rank(xm[ok], [f"{e}({v})" if v else e for e, v, _ in labels], unit="persons")
    fit, batch = gls_by_engine(yv[ok], xm[ok], dyv[ok], mv[ok], distinguishable=des.distinguishable)
    warns += [near] if near else []
    warns += _fit_warnings(fit.vcov)
    coef: dict[Key, int] = {}
    order = sorted(
        range(len(labels)), key=lambda i: (labels[i][2] if labels[i][2] is not None else -1, i)
    )
    for i in order:
        coef[labels[i]] = i
    rho = fit.residual_params["rho"]
    sd = np.sqrt(fit.sigma2) * np.array([1.0, fit.residual_params.get("sd_ratio", 1.0)])
    variance: list[dict[str, Any]]
    if des.distinguishable:
        variance = [
            {"name": "residual_variance", "role": des.roles[0], "estimate": sd[0] ** 2},
            {"name": "residual_variance", "role": des.roles[1], "estimate": sd[1] ** 2},
            {"name": "residual_covariance", "role": None, "estimate": rho * sd[0] * sd[1]},
        ]
    else:
        variance = [
            {"name": "residual_variance", "role": None, "estimate": sd[0] ** 2},
            {"name": "residual_covariance", "role": None, "estimate": rho * sd[0] ** 2},
        ]
    variance.append({"name": "residual_correlation", "role": None, "estimate": rho})
    df = float(fit.n_obs - len(fit.beta))
    fitd = _info_criteria(fit.loglik, fit.n_params, df)
    fitd["converged"] = bool(fit.converged)
    out = Fitted(
        rows=_rows(des, coef, fit.beta, fit.vcov, df),
        variance=variance,
        fit=fitd,
        n_dyads=fit.n_groups,
        n_obs=fit.n_obs,
        coef=coef,
        theta=fit.beta,
        vcov=fit.vcov,
        df=df,
        warnings=warns,
        n_units=des.n_dyads,
    )
    y_ok, x_ok, d_ok, m_ok = yv[ok], xm[ok], dyv[ok], mv[ok]

    def one(w: Array) -> Array:
        """The engine's fit of the resample: each dyad repeated as often as it is drawn."""
        rw = np.rint(w[d_ok]).astype(int)
        rows = np.repeat(np.arange(len(d_ok)), rw)
        copy = np.arange(len(rows)) - np.repeat(np.cumsum(rw) - rw, rw)
        dyad = d_ok[rows] * (rw.max(initial=0) + 1) + copy
        return gls_by_engine(
            y_ok[rows], x_ok[rows], dyad, m_ok[rows], distinguishable=des.distinguishable
        )[0].beta

    out.refit = one
    same: list[bool] = []  # checked at the bootstrap's first call, not at every fit

    def checked(w: Array) -> Array:
        """The batched refits where they reproduce the full-data fit, else one by one."""
        if not same:
            ones = batch(np.ones((1, des.n_dyads)))[0]
            same.append(bool(np.allclose(ones, fit.beta, rtol=1e-6, atol=1e-8)))
        return batch(w) if same[0] else _refit_rows(out, w)

    out.refit_batch = checked
    return out


# ---- k and its interval ---------------------------------------------------------------
_PATTERNS = {
    "actor-only": (
        "actor-only pattern: k's interval contains 0 but not 1 or -1 (the partner effect "
        "is negligible)"
    ),
    "couple": (
        "couple pattern: k's interval contains 1 but not 0 or -1 (actor and partner effects "
        "are about equal)"
    ),
    "contrast": (
        "contrast pattern: k's interval contains -1 but not 0 or 1 (the partner effect is "
        "about the actor effect's opposite)"
    ),
    "partner-only": (
        "partner-only pattern: the actor effect's interval contains 0, the partner "
        "effect's does not"
    ),
    "mixed": (
        "no simple pattern: k's interval excludes 0, 1 and -1 (both effects matter, unequally)"
    ),
}
_VALUES = (("actor-only", 0.0), ("couple", 1.0), ("contrast", -1.0))


def pattern_of(
    k: float | None,
    lo: float | None,
    hi: float | None,
    *,
    actor_zero: bool | None = None,
    partner_zero: bool | None = None,
) -> tuple[str, str]:
    """The dyadic pattern k's interval supports (Kenny & Ledermann 2010).

    The pattern is read from the interval only: the one of actor-only (k = 0), couple
    (k = 1) and contrast (k = -1) it contains; "undetermined" if it contains several
    of them or there is no interval, "mixed" if it contains none. ``actor_zero`` and
    ``partner_zero`` say whether the actor and the partner effect's own intervals
    contain 0: an actor effect that may be 0 makes k unstable (partner-only when the
    partner effect's interval excludes 0, else undetermined), and a partner effect whose
    interval excludes 0 is never called negligible.

    Examples
    --------
    >>> pattern_of(0.39, 0.09, 0.68)[0]
    'mixed'
    >>> pattern_of(0.5, -0.2, 1.2)[1]
    "undetermined: k's interval contains both 0 (actor-only) and 1 (couple)"
    """
    if k is None or not np.isfinite(k):
        return "undetermined", "k is undetermined (the actor effect is zero)"
    if actor_zero:
        if partner_zero is False:
            return "partner-only", _PATTERNS["partner-only"]
        return "undetermined", (
            "undetermined: the actor effect's interval contains 0, so k is unstable"
        )
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return "undetermined", "undetermined: k has no interval (no standard errors)"
    inside = [(name, val) for name, val in _VALUES if lo <= val <= hi]
    if len(inside) > 1:
        names = " and ".join(f"{val:g} ({name})" for name, val in inside)
        both = "both " if len(inside) == 2 else "all of "
        return "undetermined", f"undetermined: k's interval contains {both}{names}"
    if not inside:
        return "mixed", _PATTERNS["mixed"]
    name = inside[0][0]
    if name == "actor-only" and partner_zero is False:
        return "undetermined", (
            "undetermined: k's interval contains 0, but the partner effect's own interval "
            "excludes 0"
        )
    return name, _PATTERNS[name]


def _crit(level: float, df: float | None) -> float:
    q = 0.5 + level / 2
    return float(stats.norm.ppf(q) if df is None else stats.t.ppf(q, df))


def k_table(
    des: ApimData,
    out: Fitted,
    n_boot: int,
    level: float,
    rng: int | np.random.Generator | None,
    *,
    client: Any = None,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """k = partner / actor per role and predictor, always with an interval.

    The standard error is the delta method's, ``sqrt(g' V g)`` with ``g = (-p / a^2,
    1 / a)`` and ``V`` the covariance of the actor and partner estimates (as lavaan's
    ``k := p / a``); the interval is ``k ± z se`` (``t`` with the MLM's df), or with
    ``n_boot`` resamples the bootstrap percentile interval (BCa as well). The resamples
    run in seeded chunks (:func:`dyadlab.models._bootstrap.replicates`), here or on a Dask
    ``client``, with the same numbers.
    """
    members: list[int | None] = [0, 1] if des.distinguishable else [None]
    pairs = []
    for v in des.x:
        for r in members:
            pairs.append((v, r, out.coef[("actor", v, r)], out.coef[("partner", v, r)]))
    ai = np.array([p[2] for p in pairs])
    pi = np.array([p[3] for p in pairs])

    def ks(theta: Array) -> Array:
        theta = np.atleast_2d(theta)
        with np.errstate(divide="ignore", invalid="ignore"):
            return theta[:, pi] / theta[:, ai]

    est = ks(out.theta)[0]
    a, p = out.theta[ai], out.theta[pi]
    va, vp, cap = out.vcov[ai, ai], out.vcov[pi, pi], out.vcov[ai, pi]
    with np.errstate(divide="ignore", invalid="ignore"):
        var = vp / a**2 + p**2 * va / a**4 - 2 * p * cap / a**3
        se = np.sqrt(np.where(var >= 0, var, np.nan))
    crit = _crit(level, out.df)
    with np.errstate(invalid="ignore"):
        lo, hi = est - crit * se, est + crit * se
        actor_zero = np.abs(a) < crit * np.sqrt(va)
        partner_zero = np.abs(p) < crit * np.sqrt(vp)
    blo = bhi = np.full(len(pairs), np.nan)
    method = "delta"
    if n_boot > 0:
        method = "bootstrap_percentile"
        n = out.n_units
        refit = out.refit_batch or partial(_refit_rows, out)
        boot = ks(bs.replicates(refit, n, n_boot, rng, client=client, progress=progress))
        with np.errstate(all="ignore"):
            jack = ks(refit(bs.jackknife_weights(n)))
        lo, hi = bs.percentile_interval(boot, level)
        blo, bhi = bs.bca_interval(boot, est, jack, level)
    rows = []
    for i, (v, r, _, _) in enumerate(pairs):
        known = bool(np.isfinite(va[i]) and np.isfinite(vp[i]))
        name, text = pattern_of(
            float(est[i]),
            _num(lo[i]),
            _num(hi[i]),
            actor_zero=bool(actor_zero[i]) if known else None,
            partner_zero=bool(partner_zero[i]) if known else None,
        )
        rows.append(
            {
                "role": _role(des, r),
                "predictor": v,
                "estimate": _num(est[i]),
                "se": _num(se[i]),
                "ci_low": _num(lo[i]),
                "ci_high": _num(hi[i]),
                "ci_method": method,
                "bca_low": _num(blo[i]),
                "bca_high": _num(bhi[i]),
                "n_boot": n_boot,
                "pattern": name,
                "pattern_text": text,
            }
        )
    return rows


def _refit_rows(out: Fitted, w: Array) -> Array:
    """Refits for the rows of ``w`` one at a time (estimators without a batched refit)."""
    return np.array([_safe_refit(out, wi) for wi in w])


def _safe_refit(out: Fitted, w: Array) -> Array:
    """One bootstrap refit; NaN when the resample cannot be fitted (singular design)."""
    if out.refit is None:  # every estimator sets refit or refit_batch
        return np.full(len(out.theta), np.nan)
    try:
        return out.refit(w)
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
        return np.full(len(out.theta), np.nan)


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


# ---- moderation -----------------------------------------------------------------------
def simple_slopes(des: ApimData, out: Fitted, level: float) -> list[dict[str, Any]]:
    """Actor and partner effects at the moderator's mean and mean ± 1 SD."""
    mod = des.moderator
    assert mod is not None
    vals = des.wide[mod]
    if des.moderator_within:
        m = vals[~np.isnan(vals)]
    else:
        m = np.where(np.isnan(vals[:, 0]), vals[:, 1], vals[:, 0])
        m = m[~np.isnan(m)]
    mean, sd = float(m.mean()), float(m.std(ddof=1))
    members: list[int | None] = [0, 1] if des.distinguishable else [None]
    crit = (
        stats.norm.ppf(0.5 + level / 2) if out.df is None else stats.t.ppf(0.5 + level / 2, out.df)
    )
    rows = []
    for v in des.x:
        for r in members:
            for eff in ("actor", "partner"):
                i = out.coef[(eff, v, r)]
                j = out.coef[(f"{eff}:{mod}", v, r)]
                for label, val in (("-1 SD", mean - sd), ("mean", mean), ("+1 SD", mean + sd)):
                    est = out.theta[i] + val * out.theta[j]
                    var = out.vcov[i, i] + val**2 * out.vcov[j, j] + 2 * val * out.vcov[i, j]
                    se = float(np.sqrt(max(var, 0)))
                    stat = est / se if se > 0 else np.nan
                    p = 2 * (
                        stats.norm.sf(abs(stat))
                        if out.df is None
                        else stats.t.sf(abs(stat), out.df)
                    )
                    rows.append(
                        {
                            "effect": eff,
                            "predictor": v,
                            "role": _role(des, r),
                            "moderator": mod,
                            "at": label,
                            "moderator_value": val,
                            "estimate": float(est),
                            "se": se,
                            "statistic": float(stat),
                            "p": float(p),
                            "ci_low": float(est - crit * se),
                            "ci_high": float(est + crit * se),
                        }
                    )
    return rows
