"""The actor–partner interdependence model (APIM).

``apim()`` fits the APIM of Kenny, Kashy & Cook (2006) to individual-format data (one
row per person): every person's outcome is explained by their own predictor (the actor
effect) and their partner's (the partner effect), and the two partners' residuals are
correlated. Four estimators, each equal to an R reference:

=====================  ===========  ==========================================================
dyads                  method       reproduces
=====================  ===========  ==========================================================
distinguishable        ``"sem"``    ``lavaan::sem()`` ML on the dyad-wide data, FIML for missing
                                    outcomes (``missing = "ml"``)
distinguishable        ``"mlm"``    ``nlme::gls(y ~ 0 + role + role:x + role:x_partner,
                                    corCompSymm, varIdent, method = "REML")``
indistinguishable      ``"mlm"``    ``nlme::gls(y ~ x + x_partner, corCompSymm, "REML")``
indistinguishable      ``"sem"``    Olsen & Kenny (2006): ``lavaan::sem()`` with equal
                                    intercepts, effects, variances and x moments
=====================  ===========  ==========================================================

Examples
--------
>>> import dyadlab as dl
>>> from dyadlab.data.datasets import load_acitelli
>>> res = dl.apim(load_acitelli(), y="satisfaction", x="other_pos", dyad="cuplid")
>>> round(float(res.estimates.loc[1, "estimate"]), 4)  # actor effect, as nlme::gls
0.4004
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dyadlab._validation import check_option, check_range
from dyadlab.data import DyadicData
from dyadlab.data.checks import codes_once
from dyadlab.data.model_frame import keys_of
from dyadlab.exceptions import (
    ConvergenceWarning,
    DyadicDataError,
    DyadlabError,
    OptionError,
)
from dyadlab.models._apim_design import ApimData, prepare
from dyadlab.models._chunked import check_client
from dyadlab.models._result import (
    VARIANCE_COLUMNS,
    ModelResult,
    convergence_warnings,
    emit,
    estimates_frame,
    present,
)

__all__ = ["ApimResult", "apim"]

Array = NDArray[np.float64]
_FUNC = "apim"


class ApimResult(ModelResult):
    """The result of :func:`apim`: a :class:`ModelResult` with k, simple slopes and an
    APIM path diagram.

    Examples
    --------
    >>> import dyadlab as dl
    >>> from dyadlab.data.datasets import load_acitelli
    >>> res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid")
    >>> list(res.k[["predictor", "ci_method"]].iloc[0])
    ['tension', 'delta']
    >>> res.r_call[:60]
    'nlme::gls(satisfaction ~ tension + tension_partner, correlat'
    """

    @property
    def k(self) -> pd.DataFrame:
        """k = partner / actor per predictor (and role): estimate, se, interval, pattern."""
        return pd.DataFrame(list(self.extra.get("k") or []))

    @property
    def simple_slopes(self) -> pd.DataFrame | None:
        """Actor and partner effects at moderator values (None without a moderator)."""
        slopes = self.extra.get("simple_slopes")
        return None if slopes is None else pd.DataFrame(list(slopes))

    @property
    def n_rows_used(self) -> int:
        """Person rows used in the fit."""
        return int(self.extra["n_rows_used"])

    @property
    def n_rows_dropped(self) -> int:
        """Person rows of the data left out of the fit."""
        return int(self.extra["n_rows_dropped"])

    @property
    def r_call(self) -> str:
        """The R call whose numbers this result reproduces (see the module's table)."""
        if self.call.get("method") == "sem":
            if self.distinguishable:
                return 'lavaan::sem(apim_model, data = wide, missing = "ml")'
            return "lavaan::sem(olsen_kenny_model, data = wide)  # Olsen & Kenny (2006)"
        first = self.roles[0] if self.distinguishable else None
        terms = [
            _r_term(str(r.effect), str(r.predictor))
            for r in self.estimates.itertuples(index=False)
            if r.effect != "intercept" and (first is None or r.role == first)
        ]
        cs = "correlation = corCompSymm(form = ~1 | dyad)"
        if self.distinguishable:
            role = f"factor({self.call['role']})"
            rhs = " + ".join([f"0 + {role}", *(f"{role}:{t}" for t in terms)])
            cs += f", weights = varIdent(form = ~1 | {self.call['role']})"
        else:
            rhs = " + ".join(terms)
        return f'nlme::gls({self.call["y"]} ~ {rhs}, {cs}, method = "REML", na.action = na.omit)'

    def plot(
        self,
        ax: Any = None,
        *,
        predictor: str | None = None,
        labels: Mapping[Any, str] | None = None,
        show: str = "stars",
        data: pd.DataFrame | None = None,
    ) -> Any:
        """Draw the APIM path diagram with the estimates on the arrows.

        One panel per predictor, or only ``predictor``; with ``ax``, one panel in that
        Axes. Significant effects (p < 1 - level) are drawn solid; others dashed. Each
        estimate has the decimals its SE calls for, with stars (``show="stars"``), its
        CI (``"ci"``) or alone (``"none"``); ``labels`` names roles and variables
        (``{-1: "wife"}``); with ``data`` (the data the model was fitted to) each
        label adds the standardised effect β. Boxes fit their (wrapped) variable names.
        Returns the matplotlib Figure.
        """
        return present("apim_plot", "path_diagram")(
            self, ax=ax, predictor=predictor, labels=labels, show=show, data=data
        )

    def plot_simple_slopes(self, ax: Any = None) -> Any:
        """Plot the simple slopes of a moderated APIM (actor and partner effects by
        moderator value). Returns the matplotlib Figure."""
        return present("apim_plot", "simple_slopes_plot")(self, ax=ax)

    def summary(self) -> str:
        """The readable table of :class:`ModelResult` plus k and the pattern it suggests."""
        est = self.estimates.copy()
        est["predictor"] = est["predictor"].astype(object).where(est["predictor"].notna(), "")
        vc = self.variance_components.copy()
        vc["role"] = vc["role"].astype(object).where(vc["role"].notna(), None)
        labels = {"likelihood_ratio": "LR", "wald": "Wald"}
        tests = [
            {**t, "name": f"{t['name']} ({labels.get(t.get('method', ''), t.get('method', ''))})"}
            if t.get("method")
            else t
            for t in self.tests
        ]
        base = {k: v for k, v in self.fit.items() if k in _BASE_FIT and v is not None}
        shown = dataclasses.replace(
            self, estimates=est, variance_components=vc, tests=tests, fit=base
        )
        text = ModelResult.summary(shown)
        extra_fit = _olsen_kenny_lines(self.fit)
        if extra_fit:
            head, sep, tail = text.partition("\n\nWarnings:")
            text = head + "\n" + "\n".join(extra_fit) + sep + tail
        ks = list(self.extra.get("k") or [])
        if ks:
            mod = self.call.get("moderator")
            at = f" at {mod} = 0" if mod else ""
            lines = ["", f"k = partner / actor{at} (Kenny & Ledermann 2010):"]
            for k in ks:
                who = f" [{k['role']}]" if k.get("role") is not None else ""
                lines.append(f"  {k['predictor']}{who}: {k_sentence(k, self.level)}")
            text += "\n" + "\n".join(lines)
        return text


def _r_term(effect: str, predictor: str) -> str:
    """An APIM estimate's term as nlme's formula names it (``x_partner``, ``x:m``).

    Examples
    --------
    >>> _r_term("partner:years", "x")
    'x_partner:years'
    """
    base, _, moderator = effect.partition(":")
    name = f"{predictor}_partner" if base == "partner" else predictor
    return f"{name}:{moderator}" if moderator else name


_BASE_FIT = ("loglik", "aic", "bic", "n_params", "converged")


def k_sentence(k: dict[str, Any], level: float) -> str:
    """One k row in words: the estimate, its SE and interval, and the pattern it supports.

    Examples
    --------
    >>> k_sentence({"estimate": 0.389, "se": 0.151, "ci_low": 0.093, "ci_high": 0.685,
    ...             "ci_method": "delta", "pattern_text": "no simple pattern"}, 0.95)
    'k = 0.389 (SE 0.151), 95% CI [0.093, 0.685] (delta method) — no simple pattern'
    """
    est = k.get("estimate")
    out = "k = —" if est is None else f"k = {est:.3f}"
    if k.get("se") is not None:
        out += f" (SE {k['se']:.3f})"
    if k.get("ci_low") is not None and k.get("ci_high") is not None:
        how = {"delta": "delta method", "bootstrap_percentile": "bootstrap percentile"}
        method = how.get(k.get("ci_method", ""), k.get("ci_method", ""))
        out += f", {level:.0%} CI [{k['ci_low']:.3f}, {k['ci_high']:.3f}]"
        if method:
            n = f", {k['n_boot']} resamples" if k.get("n_boot") else ""
            out += f" ({method}{n})"
    return f"{out} — {k['pattern_text']}"


def _olsen_kenny_lines(fit: dict[str, Any]) -> list[str]:
    """The chi-square fit of the indistinguishable SEM in words (no None cells)."""

    def test(chisq: Any, df: Any, p: Any = None, rmsea: Any = None, cfi: Any = None) -> str:
        out = f"chi-square = {chisq:.3f}, df = {df}"
        if df == 0:
            return (
                out
                + " (saturated: p and RMSEA not defined)"
                + (f", CFI = {cfi:.3f}" if cfi is not None else "")
            )
        for name, val, fmt in (("p", p, ".3g"), ("RMSEA", rmsea, ".3f"), ("CFI", cfi, ".3f")):
            if val is not None:
                out += f", {name} = {val:{fmt}}"
        return out

    if fit.get("chisq") is None:
        return []
    lines = [
        "  against the saturated model: "
        + test(fit["chisq"], fit["df"], fit.get("pvalue"), fit.get("rmsea"), fit.get("cfi"))
    ]
    if fit.get("chisq_adjusted") is not None:
        lines.append(
            "  adjusted for indistinguishable members (Olsen & Kenny 2006): "
            + test(
                fit["chisq_adjusted"],
                fit["df_adjusted"],
                fit.get("pvalue_adjusted"),
                fit.get("rmsea_adjusted"),
                fit.get("cfi_adjusted"),
            )
        )
        lines.append(
            f"  I-SAT model: chi-square = {fit['chisq_isat']:.3f}, df = {fit['df_isat']}; "
            f"I-NULL model: chi-square = {fit['chisq_inull']:.3f}, df = {fit['df_inull']}"
        )
    return ["Model fit:", *lines]


# --------------------------------------------------------------------------------------
def apim(
    data: pd.DataFrame | DyadicData,
    *,
    y: str,
    x: str | Sequence[str],
    dyad: str | None = None,
    role: str | None = None,
    person: str | None = None,
    covariates: str | Sequence[str] | None = None,
    moderator: str | None = None,
    method: str | None = None,
    missing: str = "ml",
    bootstrap: int | bool = 0,
    level: float = 0.95,
    rng: int | np.random.Generator | None = None,
    client: Any = None,
    progress: bool | None = None,
) -> ApimResult:
    """Fit the actor–partner interdependence model.

    Parameters
    ----------
    data : DataFrame or DyadicData
        Individual format: one row per person, with a dyad id (a DyadicData gives the
        keys not passed).
    y : str
        The outcome.
    x : str or list of str
        Predictor(s); the partner's values are matched within each dyad.
    dyad : str, optional
        Dyad id column (needed with a DataFrame).
    role : str, optional
        Column that distinguishes the two members (e.g. gender in heterosexual couples).
        Leave out for indistinguishable dyads.
    person : str, optional
        Person id column (orders the members of indistinguishable dyads).
    covariates : str or list of str, optional
        Control variables. A covariate that is constant within every dyad is dyad-level
        (one effect per outcome, written ``actor``); otherwise it gets an actor and a
        partner effect like a predictor. Covariates are not part of k or the role tests.
    moderator : str, optional
        A between-dyads (constant within dyad) or within-dyad moderator. Adds its main
        effect(s) and the products with the actor and partner values of each predictor,
        written ``actor:MODERATOR`` and ``partner:MODERATOR``. Not centred.
    method : {"sem", "mlm"}, optional
        Structural equation model (ML) or multilevel model (REML). Default ``"sem"`` with
        a role, ``"mlm"`` without.
    missing : {"ml", "listwise"}
        ``"ml"``: full-information ML in the SEM (lavaan's ``missing = "ml"``; dyads with a
        missing predictor are left out, as lavaan does with ``fixed.x = TRUE``). The MLM
        always leaves out persons with a missing outcome or predictor (``na.omit``).
        ``"listwise"``: leave out every dyad with any missing value.
    bootstrap : int or bool
        Number of bootstrap resamples of dyads for the k intervals (0 or False: the
        delta-method interval; True: 5,000 resamples).
    level : float
        Confidence level of all intervals.
    rng : int or numpy.random.Generator, optional
        Seed or generator of the bootstrap.
    client : dask.distributed.Client, optional
        Run the bootstrap resamples (in chunks of 1,000) on a Dask cluster; the
        intervals equal a local run with the same ``rng``.
    progress : bool, optional
        Progress bar during the bootstrap (None: only when stderr is a terminal).

    Returns
    -------
    ApimResult
        ``estimates`` with columns ``effect`` (intercept, actor, partner, actor:M,
        partner:M), ``predictor``, ``role`` (the role of the person whose outcome is
        modelled, as in the data; None for indistinguishable dyads), ``estimate, se,
        statistic`` (z for SEM, t for MLM), ``df`` (None for z; N - p for MLM), ``p,
        ci_low, ci_high``. ``variance_components``: residual variance per role, residual
        covariance and correlation. ``fit``: loglik, aic, bic, n_params, converged (and
        chisq, df, rmsea, cfi for the indistinguishable SEM). ``tests``: equal actor
        effects, equal partner effects and equal roles (likelihood ratio and Wald) for
        distinguishable SEM. ``extra["k"]``: k per role and predictor with its delta-method
        ``se`` and an interval (``ci_method`` "delta", or "bootstrap_percentile" with
        ``bootstrap``, then also BCa), and the ``pattern`` that interval supports;
        ``extra["simple_slopes"]`` with a moderator.

    Raises
    ------
    DyadicDataError
        Columns absent, non-numeric or constant; a dyad with more than two persons; a role
        that does not split every dyad in two (naming the dyads); a predictor constant
        within every dyad.
    OptionError
        An unknown method or missing option, or a level outside (0, 1).

    Notes
    -----
    The APIM for person i of dyad j with role r, partner role r':

    .. math:: Y_{ij} = b_{0r} + a_r X_{ij} + p_r X_{i'j} + e_{ij},\\quad
              \\operatorname{cor}(e_{ij}, e_{i'j}) = \\rho

    The SEM estimates are ML; without missing values and moderators the model is
    saturated, so they equal least squares per outcome with residual variances divided
    by N. Standard errors use the expected information (the observed information with
    missing values), as lavaan 0.6 does. k = p / a per role (Kenny & Ledermann 2010), with
    the delta-method standard error of lavaan's ``k := p / a``; the pattern (actor-only,
    couple, contrast) is stated only when k's interval contains exactly one of 0, 1, -1.

    References
    ----------
    Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). *Dyadic data analysis*. Guilford.
    Olsen, J. A., & Kenny, D. A. (2006). Structural equation modeling with interchangeable
    dyads. *Psychological Methods, 11*, 127–141.
    Kenny, D. A., & Ledermann, T. (2010). Detecting, measuring, and testing dyadic
    patterns in the actor–partner interdependence model. *Journal of Family Psychology,
    24*, 359–366.

    Examples
    --------
    >>> import numpy as np, pandas as pd, dyadlab as dl
    >>> rng = np.random.default_rng(3); n = 60
    >>> x = rng.normal(size=2 * n); xp = x.reshape(n, 2)[:, ::-1].ravel()
    >>> df = pd.DataFrame({"couple": np.repeat(np.arange(n), 2), "role": ["w", "h"] * n,
    ...                    "x": x, "y": 0.5 * x + 0.2 * xp + rng.normal(size=2 * n)})
    >>> res = dl.apim(df, y="y", x="x", dyad="couple", role="role")
    >>> list(res.estimates["effect"][:3])
    ['intercept', 'actor', 'partner']
    """
    data, dyad, person, role, _ = keys_of(data, dyad=dyad, person=person, role=role, func=_FUNC)
    xs = [x] if isinstance(x, str) else list(x)
    if not xs:
        raise OptionError(f"{_FUNC}(): x must name at least one predictor column.")
    covs = [covariates] if isinstance(covariates, str) else list(covariates or [])
    method = check_option(
        "method",
        method if method is not None else ("sem" if role else "mlm"),
        ["sem", "mlm"],
        func=_FUNC,
    )
    check_option("missing", missing, ["ml", "listwise"], func=_FUNC)
    check_range("level", level, func=_FUNC, low=0.0, high=1.0, inclusive=False)
    if bootstrap is True:
        bootstrap = 5000
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise OptionError(
            f"{_FUNC}(): bootstrap must be a whole number of resamples >= 0, got "
            f"{bootstrap!r}. Use 0 for no bootstrap or e.g. 5000."
        )
    check_client(client, func=_FUNC)
    with codes_once():  # the checks in prepare() factorize the dyad and role once
        des = prepare(
            data,
            y=y,
            x=xs,
            dyad=dyad,
            role=role,
            person=person,
            covariates=covs,
            moderator=moderator,
            func=_FUNC,
        )
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if missing == "listwise":
        _listwise(des)
    call = {
        "y": y,
        "x": xs,
        "dyad": dyad,
        "role": role,
        "person": person,
        "covariates": covs,
        "moderator": moderator,
        "method": method,
        "missing": missing,
        "bootstrap": int(bootstrap),
        "level": level,
    }
    from dyadlab.models import _apim_fit as fitters

    try:
        with np.errstate(all="ignore"):
            if method == "sem" and des.distinguishable:
                out = fitters.sem_distinguishable(des, level=level)
            elif method == "sem":
                out = fitters.sem_indistinguishable(des, level=level)
            else:
                out = fitters.mlm(des, level=level)
            k_rows = fitters.k_table(
                des, out, int(bootstrap), level, gen, client=client, progress=progress
            )
            slopes = fitters.simple_slopes(des, out, level) if moderator is not None else None
    except DyadlabError:
        raise
    except (np.linalg.LinAlgError, ArithmeticError, ValueError, IndexError) as exc:
        # the last line of defence: a numerical failure the checks above did not foresee
        raise DyadicDataError(
            f"{_FUNC}(): the model could not be estimated from these data ({des.n_dyads} "
            f"dyads; numerical problem: {exc}). This happens with very few dyads for the "
            "number of predictors or with nearly collinear predictors. Add dyads or use "
            "fewer predictors, covariates or moderator terms."
        ) from exc
    warns = list(des.warnings) + out.warnings
    if out.n_dyads < 10:
        warns.append(
            f"Only {out.n_dyads} dyads: estimates and tests are unreliable below 10 dyads."
        )
    estimation = "ML" if method == "sem" else "REML"
    convergence = convergence_warnings(
        func=_FUNC, converged=bool(out.fit.get("converged", True)), estimation=estimation
    )
    extra: dict[str, Any] = {}
    extra["k"] = k_rows
    if slopes is not None:
        extra["simple_slopes"] = slopes
    extra["n_rows_used"] = out.n_obs
    extra["n_rows_dropped"] = des.n_rows - out.n_obs
    warns = emit(warns) + emit(convergence, ConvergenceWarning)
    est = estimates_frame(out.rows, level=level)
    return ApimResult(
        model="apim",
        estimates=est,
        n_dyads=out.n_dyads,
        n_obs=out.n_obs,
        distinguishable=des.distinguishable,
        roles=des.roles,
        estimation=estimation,
        variance_components=pd.DataFrame(out.variance, columns=VARIANCE_COLUMNS),
        fit=out.fit,
        tests=out.tests,
        warnings=warns,
        level=level,
        call=call,
        extra=extra,
    )


def _listwise(des: ApimData) -> None:
    """Leave out every dyad with any missing value (counted in the warnings)."""
    bad = np.zeros(des.n_dyads, dtype=bool)
    for a in des.wide.values():
        bad |= np.isnan(a).any(axis=1)
    if bad.any():
        for name in des.wide:
            des.wide[name] = des.wide[name][~bad]
        des.dyad_ids = [d for d, b in zip(des.dyad_ids, bad, strict=True) if not b]
        if des.present is not None:
            des.present = des.present[~bad]
        des.warnings.append(
            f"missing='listwise': {int(bad.sum())} dyads with a missing value were left out."
        )
