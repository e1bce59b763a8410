"""Design-based GLMs: weighted IRLS, sandwich variance over the design, Wald F per term.

As R's ``svyglm``: the coefficients solve the weighted score equations (IRLS with the
sampling weights as prior weights); their covariance is the design variance of the
influence functions ``U_i A⁻¹`` (``U_i`` the score of respondent i, ``A`` the weighted
information), computed over the whole design with zero influence for respondents with
a missing value. Coefficients are tested with t on the design df minus the
coefficients plus one (R's ``df.residual``); each predictor gets a Wald F test of all its
coefficients together (R's ``regTermTest``).

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(600, rng=5)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> res = d.glm("depression", ["loneliness", "relationship"])
>>> list(res.estimates["effect"])[:3]
['(Intercept)', 'loneliness', 'relationshipman-woman']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_option, show_ids
from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import convergence_warnings, estimates_frame
from dyadlab.survey._estimators import _label, _result
from dyadlab.survey._result import critical
from dyadlab.survey._variance import design_variance

if TYPE_CHECKING:
    from dyadlab.survey._design import SurveyDesign
    from dyadlab.survey._replicate import ReplicateDesign

__all__ = ["FAMILIES", "glm", "model_matrix"]

FAMILIES = ("gaussian", "quasibinomial", "poisson")
_FUNC = "survey.glm"


def _is_factor(series: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)


def model_matrix(
    data: pd.DataFrame, x: Sequence[str]
) -> tuple[np.ndarray, list[str], list[str | None], np.ndarray]:
    """Intercept, numeric columns and treatment-coded factors, named as R names them.

    Returns the matrix (rows with a missing predictor are NaN), the coefficient names
    (``(Intercept)``, ``ell``, ``stypeH``), the column each comes from (None for the
    intercept) and the rows with every predictor observed.
    """
    n = len(data)
    names: list[str] = ["(Intercept)"]
    sources: list[str | None] = [None]
    fills: list[tuple[np.ndarray, np.ndarray, int | None]] = []
    complete = np.ones(n, dtype=bool)
    for c in x:
        s = data[c]
        miss = s.isna().to_numpy()
        complete &= ~miss
        if _is_factor(s):
            codes, levels = pd.factorize(s, sort=True)
            if pd.api.types.is_bool_dtype(s):
                labels = ["FALSE" if not v else "TRUE" for v in levels]
            else:
                labels = [_label(v) for v in levels]
            for k in range(1, len(levels)):
                fills.append((codes, miss, k))
                names.append(f"{c}{labels[k]}")
                sources.append(c)
        else:
            fills.append((pd.to_numeric(s).to_numpy(dtype=float), miss, None))
            names.append(c)
            sources.append(c)
    X = np.empty((n, len(names)))
    X[:, 0] = 1.0
    for j, (values, miss, level) in enumerate(fills, start=1):
        if level is None:
            X[:, j] = values
        else:
            X[:, j] = values == level
            X[miss, j] = np.nan
    return X, names, sources, complete


def weighted_cross(
    X: np.ndarray, w: np.ndarray, z: np.ndarray | None, *, step: int = 1 << 16
) -> tuple[np.ndarray, np.ndarray]:
    """X'WX and X'Wz, summed over blocks of rows.

    Blocks keep the temporaries small (in cache, no fresh 48 MB array per product), which
    makes the time steady on a busy machine.
    """
    p = X.shape[1]
    gram = np.zeros((p, p))
    rhs = np.zeros(p)
    for start in range(0, len(w), step):
        xs = X[start : start + step]
        xw = xs * w[start : start + step, None]
        gram += xw.T @ xs
        if z is not None:
            rhs += xw.T @ z[start : start + step]
    return gram, rhs


def _collinear(X: np.ndarray) -> bool:
    """Whether the columns of ``X`` are (numerically) linearly dependent.

    The smallest eigenvalue of the columns' cosine matrix, so that the check costs a
    p × p problem rather than an SVD of the n × p matrix.
    """
    gram = X.T @ X
    norms = np.sqrt(np.diag(gram))
    if np.any(norms == 0):
        return True
    cosine = gram / np.outer(norms, norms)
    return bool(np.linalg.eigvalsh(cosine)[0] < 1e-10)


def _family(family: str) -> tuple[Any, Any, Any, Any]:
    """Inverse link, d mu / d eta, variance function, and a starting mu."""
    if family == "gaussian":
        return (lambda e: e, lambda e: np.ones_like(e), lambda m: np.ones_like(m), lambda y: y)
    if family == "poisson":
        return (np.exp, np.exp, lambda m: m, lambda y: y + 0.1)

    def expit(e: np.ndarray) -> np.ndarray:
        return np.asarray(1 / (1 + np.exp(-e)), dtype=float)

    def dexpit(e: np.ndarray) -> np.ndarray:
        p = expit(e)
        return np.asarray(np.maximum(p * (1 - p), np.finfo(float).eps), dtype=float)

    return (expit, dexpit, lambda m: m * (1 - m), lambda y: (y + 0.5) / 2)


def _link(family: str, mu: np.ndarray) -> np.ndarray:
    if family == "gaussian":
        return mu
    if family == "poisson":
        return np.asarray(np.log(mu), dtype=float)
    return np.asarray(np.log(mu / (1 - mu)), dtype=float)


def _irls(
    X: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    family: str,
    *,
    tol: float = 1e-13,
    max_iter: int = 100,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, bool, np.ndarray]:
    """Weighted IRLS; returns beta, mu, eta, iterations, convergence and X'WX.

    X'WX is that of the last step's working weights: for the Gaussian family (one
    step, weights that do not change) the information at the solution.
    """
    if family == "gaussian":  # weighted least squares: one solve
        gram, rhs = weighted_cross(X, w, y)
        beta = np.linalg.solve(gram, rhs)
        eta = np.einsum("ij,j->i", X, beta)
        return beta, eta, eta, 1, True, gram
    inv, dmu, var, first = _family(family)
    eta = _link(family, first(y)) if start is None else np.einsum("ij,j->i", X, start)
    beta = np.zeros(X.shape[1])
    gram = np.eye(X.shape[1])
    dev_old = np.inf
    converged = False
    it = 0
    while it < max_iter:
        it += 1
        mu = inv(eta)
        g = dmu(eta)
        ww = w * g**2 / var(mu)
        z = eta + (y - mu) / g
        gram, rhs = weighted_cross(X, ww, z)
        beta = np.linalg.solve(gram, rhs)
        eta = np.einsum("ij,j->i", X, beta)  # no threaded BLAS for a tall product
        mu = inv(eta)
        dev = float(np.sum(w * (y - mu) ** 2 / np.maximum(var(mu), 1e-300)))
        if abs(dev - dev_old) <= tol * (abs(dev) + 0.1):
            converged = True
            break
        dev_old = dev
    return beta, inv(eta), eta, it, converged, gram


def glm(
    design: SurveyDesign | ReplicateDesign,
    y: str,
    x: str | Sequence[str],
    *,
    family: str = "gaussian",
    level: float = 0.95,
) -> Any:
    """Fit a design-based GLM of ``y`` on ``x`` (R ``svyglm``), with a Wald F per term.

    Parameters
    ----------
    design : SurveyDesign
    y : str
        Outcome: any number (gaussian), a proportion in [0, 1] (quasibinomial) or a
        count ≥ 0 (poisson).
    x : str or list of str
        Predictors; numeric columns enter as they are, others as treatment-coded
        factors (first level in sorted order is the reference), named as R names them.
    family : {"gaussian", "quasibinomial", "poisson"}
        Identity, logit and log links.
    level : float
        Confidence level.

    Returns
    -------
    SurveyResult
        One row per coefficient (``effect`` its R name, ``predictor`` its column), t on
        ``df`` = design df of the complete cases + 1 − coefficients; ``tests``: one Wald
        F per predictor (``name`` ``term:<column>``, ``df``, ``ddf``); ``fit``:
        ``n_used``, ``df_residual``, ``iterations``, ``converged``.

    Notes
    -----
    Reproduces ``survey::svyglm(y ~ x1 + x2, design, family = …)`` and
    ``survey::regTermTest(model, ~x)`` to 1e-6 relative.
    """
    check_option("family", family, FAMILIES, func=_FUNC)
    xs = [x] if isinstance(x, str) else list(x)
    data = design.data
    check_columns(data, [y, *xs], func=_FUNC)
    X, names, sources, complete = model_matrix(data, xs)
    yv = pd.to_numeric(data[y], errors="coerce").to_numpy(dtype=float)
    bad_y = data[y].notna().to_numpy() & np.isnan(yv)
    if bad_y.any():
        raise DyadicDataError(
            f"{_FUNC}(): the outcome {y!r} must be numeric; {int(bad_y.sum())} values are not."
        )
    used = complete & ~np.isnan(yv)
    if used.sum() <= X.shape[1]:
        raise DyadicDataError(
            f"{_FUNC}(): only {int(used.sum())} respondents have {y!r} and every predictor "
            f"observed, too few for {X.shape[1]} coefficients."
        )
    yu = yv if used.all() else yv[used]
    if family == "quasibinomial" and (np.any(yu < 0) or np.any(yu > 1)):
        raise DyadicDataError(
            f"{_FUNC}(): family='quasibinomial' needs {y!r} in [0, 1]; recode it as 0/1."
        )
    if family == "poisson" and np.any(yu < 0):
        raise DyadicDataError(f"{_FUNC}(): family='poisson' needs counts ≥ 0 in {y!r}.")
    everyone = bool(used.all())
    Xu = X if everyone else X[used]
    if _collinear(Xu):
        raise DyadicDataError(
            f"{_FUNC}(): the predictors are collinear in the {int(used.sum())} complete "
            f"cases (coefficients {show_ids(names)}); drop one of them."
        )
    w = design.weights if everyone else design.weights[used]
    beta, mu, eta, iterations, converged, gram = _irls(Xu, yu, w, family)
    _, dmu, var, _ = _family(family)
    g = dmu(eta)
    if family != "gaussian":  # the information at the solution
        gram, _ = weighted_cross(Xu, w * g**2 / var(mu), None)
    a_inv = np.linalg.inv(gram)
    replicate_note: list[str] = []
    if not hasattr(design, "stages"):  # a replicate design: refit with every replicate
        assert isinstance(design, _replicate_class())
        rep = design.repweights if everyone else design.repweights[used]
        refits = [_irls(Xu, yu, rep[:, r], family, start=beta) for r in range(rep.shape[1])]
        betas = np.array([f[0] for f in refits])
        stuck = sum(not f[4] for f in refits)
        if stuck:
            replicate_note = [f"{stuck} of {len(refits)} replicate refits did not converge"]
        vcov = design.variance(beta, betas)
        df_resid = design.df + 1 - len(beta)
    else:
        vcov, df_resid = _taylor(
            design, Xu, yu, w, mu, g, var(mu), a_inv, used, everyone, len(beta)
        )
    se = np.sqrt(np.maximum(np.diag(vcov), 0.0))
    df_value = float(df_resid) if df_resid > 0 else None
    crit = critical(df_resid if df_resid > 0 else np.inf, level)
    rows = [
        {
            "effect": nm,
            "predictor": src,
            "role": None,
            "estimate": float(b),
            "se": float(s),
            "df": df_value,
            "ci_low": float(b - crit * s),
            "ci_high": float(b + crit * s),
        }
        for nm, src, b, s in zip(names, sources, beta, se, strict=True)
    ]
    frame = estimates_frame(rows, level=level)
    frame["group"] = None
    frame["n"] = int(used.sum())
    tests = [_term_test(c, beta, vcov, sources, df_resid) for c in dict.fromkeys(xs)]
    warnings = []
    n_out = int((~used).sum())
    if n_out:
        warnings.append(
            f"{n_out} respondents with a missing outcome or predictor have zero influence "
            "(kept in the design, as R's svyglm)."
        )
    convergence = convergence_warnings(
        func=_FUNC,
        converged=converged,
        detail=f"IRLS, {iterations} iterations",
        estimation="pseudo-likelihood",
    ) + convergence_warnings(
        func=_FUNC,
        converged=True,
        boundary=replicate_note,
        hint="the replicate standard errors may be off",
    )
    fit = {
        "n_used": int(used.sum()),
        "df_residual": int(df_resid),
        "iterations": iterations,
        "converged": converged,
        "family": family,
    }
    return _result(
        design,
        "survey_glm",
        frame,
        vcov,
        warnings,
        level,
        {"y": y, "x": xs, "family": family},
        tests=tests,
        fit=fit,
        convergence=convergence,
    )


def _replicate_class() -> type:
    from dyadlab.survey._replicate import ReplicateDesign

    return ReplicateDesign


def _taylor(
    design: Any,
    Xu: np.ndarray,
    yu: np.ndarray,
    w: np.ndarray,
    mu: np.ndarray,
    g: np.ndarray,
    v: np.ndarray,
    a_inv: np.ndarray,
    used: np.ndarray,
    everyone: bool,
    p: int,
) -> tuple[np.ndarray, int]:
    """The sandwich covariance A⁻¹ V(score) A⁻¹ over the design, and the residual df."""
    score = Xu * (w * g * (yu - mu) / v)[:, None]
    if not everyone:
        full = np.zeros((len(used), p))
        full[used] = score
        score = full
    lonely = "remove" if design.lonely_psu == "fail" else design.lonely_psu
    # the influence functions are score @ A⁻¹; the design variance is linear in them, so
    # V = A⁻¹ V(score) A⁻¹ (and no n × p product is formed)
    v_score = design_variance(score, design.stages, lonely_psu=lonely, present=used)
    return a_inv @ v_score @ a_inv, design.subset_df(used) + 1 - p


def _term_test(
    column: str, beta: np.ndarray, vcov: np.ndarray, sources: list[str | None], ddf: int
) -> dict[str, Any]:
    """Wald F of all coefficients of ``column`` (R ``regTermTest(model, ~column)``)."""
    idx = [i for i, s in enumerate(sources) if s == column]
    b = beta[idx]
    v = vcov[np.ix_(idx, idx)]
    chisq = float(b @ np.linalg.solve(v, b))
    q = len(idx)
    if ddf > 0:
        stat = chisq / q
        p = float(stats.f.sf(stat, q, ddf))
    else:
        stat, p = chisq, float(stats.chi2.sf(chisq, q))
    return {"name": f"term:{column}", "statistic": stat, "df": q, "ddf": ddf, "p": p}
