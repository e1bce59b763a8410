"""Mediation in the actor–partner interdependence model (APIMeM).

``dl.apim_mediation(df, x=…, m=…, y=…, dyad=…, role=…)`` fits the APIM mediation model of
Ledermann, Macho & Kenny (2011) for distinguishable dyads (or, without ``role``, for
indistinguishable dyads with equal paths for both members): both members' X affect both
members' M (actor and partner a paths), both members' M and X affect both members' Y
(b paths and direct c paths), with correlated residuals within M and within Y. It
reports every actor and partner indirect effect with delta-method SEs (equal to
lavaan's defined parameters) and percentile bootstrap CIs from resampling dyads.

Examples
--------
>>> from dyadlab.models.mediation import apim_mediation
>>> apim_mediation.__name__
'apim_mediation'
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_range, show_ids
from dyadlab.data import DyadicData
from dyadlab.data.checks import (
    check_analysis_variables,
    check_distinguishable,
    check_dyads,
    check_keys,
)
from dyadlab.data.model_frame import keys_of, model_frame
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, OptionError
from dyadlab.models import _mediation_fit as _fit
from dyadlab.models._chunked import check_client
from dyadlab.models._result import (
    VARIANCE_COLUMNS,
    ModelResult,
    convergence_warnings,
    emit,
    estimates_frame,
    present,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["MediationResult", "apim_mediation"]

_FUNC = "apim_mediation"
_N_PARAMS = 18  # 12 paths + 2 × (2 residual variances + 1 covariance)
_N_PARAMS_POOLED = 12  # 6 paths + 2 intercepts + 2 residual variances + 2 covariances


@dataclass(frozen=True)
class MediationResult(ModelResult):
    """A :class:`~dyadlab.models._result.ModelResult` with a path diagram."""

    @property
    def bootstrap(self) -> dict[str, Any]:
        """The resampling: ``resamples``, ``method``, ``unit``, ``failed``, ``applies_to``."""
        return dict(self.extra["bootstrap"])

    @property
    def n_dyads_dropped(self) -> int:
        """Dyads left out of the fit (a missing value)."""
        return int(self.extra["n_dyads_dropped"])

    def plot(self, ax: Axes | None = None) -> Figure:
        """Draw the path diagram with the estimates on the arrows; return the matplotlib
        Figure."""
        names = {k: str(self.call[k]) for k in ("x", "m", "y")}
        drawn = present("mediation_plot", "draw_mediation")(
            self.estimates, names=names, roles=self.roles, ax=ax
        )
        return cast("Figure", drawn.get_figure(root=True))


def _wide(
    data: pd.DataFrame, *, x: str, m: str, y: str, dyad: str, role: str | None
) -> tuple[dict[str, np.ndarray], list[Any], list[str]]:
    """(n, 2) arrays "x", "m", "y" of the complete dyads, the dyads left out, the roles.

    Member 0 is the first role; without a role the members are numbered by row order
    (the pooled model does not depend on that order).
    """
    mf = model_frame(data, dyad=dyad, role=role, func=_FUNC)
    wide = mf.wide([x, m, y])
    incomplete = np.asarray(np.isnan(np.hstack(list(wide.values()))).any(axis=1), dtype=bool)
    dropped = [mf.dyad_ids[i] for i in np.flatnonzero(incomplete)]
    arrays = {short: wide[var][~incomplete] for var, short in ((x, "x"), (m, "m"), (y, "y"))}
    return arrays, dropped, [str(r) for r in mf.roles]


def _check_args(bootstrap: Any, level: Any, x: str, m: str, y: str) -> None:
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, numbers.Integral):
        raise OptionError(
            f"{_FUNC}(): bootstrap={bootstrap!r} is not an integer; give the number of "
            "resamples (e.g. 5000) or 0 for none."
        )
    if 0 < int(bootstrap) < 100:
        raise OptionError(
            f"{_FUNC}(): bootstrap={bootstrap!r} is too few resamples for percentile "
            "intervals; use at least 100 (5,000 recommended) or 0 for none."
        )
    check_range("bootstrap", int(bootstrap), func=_FUNC, low=0)
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise OptionError(f"{_FUNC}(): level={level!r} is not a number; e.g. level=0.95.")
    check_range("level", float(level), func=_FUNC, low=0.0, high=1.0, inclusive=False)
    if len({x, m, y}) < 3:
        raise OptionError(
            f"{_FUNC}(): x={x!r}, m={m!r} and y={y!r} must be three different variables."
        )


def _rng(rng: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        return np.random.default_rng(None if rng is None else int(rng))
    raise OptionError(f"{_FUNC}(): rng={rng!r} is not allowed; give an int or a numpy Generator.")


def apim_mediation(
    data: pd.DataFrame | DyadicData,
    *,
    x: str,
    m: str,
    y: str,
    dyad: str | None = None,
    role: str | None = None,
    bootstrap: int = 5000,
    level: float = 0.95,
    rng: int | np.random.Generator | None = None,
    client: Any = None,
    progress: bool | None = None,
) -> MediationResult:
    """Fit the APIM mediation model (APIMeM) for distinguishable or indistinguishable dyads.

    Parameters
    ----------
    data : DataFrame or DyadicData
        Individual format: one row per person (a DyadicData gives the keys not passed).
    x, m, y : str
        Predictor, mediator and outcome columns (numeric).
    dyad : str, optional
        Dyad id column (needed with a DataFrame).
    role : str, optional
        Column whose two values distinguish the members of every dyad. Leave it out
        for indistinguishable dyads: paths, intercepts and residual variances are then
        equal for both members and the effects are pooled (``role`` None).
    bootstrap : int, default 5000
        Dyad-level bootstrap resamples for the percentile CIs of the indirect and total
        effects; 0 gives Wald (delta-method) CIs instead.
    level : float, default 0.95
        Confidence level.
    rng : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    client : dask.distributed.Client, optional
        Run the bootstrap resamples (in chunks of 1,000) on a Dask cluster; the
        intervals equal a local run with the same ``rng``.
    progress : bool, optional
        Progress bar during the bootstrap (None: only when stderr is a terminal).

    Returns
    -------
    MediationResult
        A ModelResult with ``model = "apim_mediation"``. ``.estimates`` has one row
        per effect and outcome role: ``effect`` is ``a_actor``, ``a_partner`` (X → M), ``b_actor``,
        ``b_partner`` (M → Y), ``direct_actor``, ``direct_partner`` (X → Y),
        ``indirect_actor_actor`` (X_k → M_k → Y_k), ``indirect_partner_partner``
        (X_k → M_l → Y_k), ``indirect_actor_partner`` (X_l → M_l → Y_k),
        ``indirect_partner_actor`` (X_l → M_k → Y_k), ``total_indirect_actor``,
        ``total_indirect_partner``, ``total_actor``, ``total_partner``; ``role`` is the
        role of person k, whose mediator (a paths) or outcome (all others) it is;
        ``predictor`` is ``m`` for b paths and ``x`` otherwise; ``estimate, se,
        statistic`` (z), ``df`` (None), ``p``, ``ci_low, ci_high``. The CIs of the
        indirect and total effects are bootstrap percentile intervals (when
        ``bootstrap > 0``), those of the paths Wald intervals. ``.variance_components``
        holds the residual variances, covariances and correlations of M and Y;
        ``.extra["bootstrap"]`` the resampling details; ``.plot()`` draws the path
        diagram.

    Raises
    ------
    DyadicDataError
        Missing, non-numeric or constant columns; a role that does not split every
        dyad; too few complete dyads; collinear predictors.
    OptionError
        Bad ``bootstrap``/``level``/``rng``, or x, m, y not distinct.

    See Also
    --------
    dyadlab.apim : the APIM without a mediator.

    Notes
    -----
    The model is saturated: with complete data the ML estimates are least squares per
    equation and the residual (co)variances are divided by N. SEs use the expected
    information with X fixed; indirect effects (products of paths) get delta-method
    SEs. Reproduces ``lavaan::sem(model, estimator = "ML", se = "standard")`` with the
    indirect effects as ``:=`` parameters (``tests/reference/mediation.R``).

    Indistinguishable dyads (no ``role``): the model with equality labels on the paths,
    intercepts and residual variances of both members (lavaan, ``meanstructure =
    TRUE``), fitted exactly through the dyad sums and differences; ``fit`` then has
    lavaan's chi-square test of those constraints against the distinguishable model
    (10 df), which depends on which member is listed first, so read it with care. Dyads with
    a missing value are left out (listwise, as lavaan's default) and counted in
    ``.warnings`` and ``.extra["n_dyads_dropped"]``.

    References
    ----------
    Ledermann, T., Macho, S., & Kenny, D. A. (2011). Assessing mediation in dyadic data
    using the actor-partner interdependence model. *Structural Equation Modeling, 18*,
    595–612.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import dyadlab as dl
    >>> g = np.random.default_rng(0)
    >>> df = pd.DataFrame({"couple": np.repeat(np.arange(50), 2),
    ...                    "role": np.tile(["a", "b"], 50),
    ...                    "x": g.normal(size=100), "m": g.normal(size=100),
    ...                    "y": g.normal(size=100)})
    >>> res = dl.apim_mediation(df, x="x", m="m", y="y", dyad="couple", role="role",
    ...                         bootstrap=500, rng=1)
    >>> sorted(set(res.estimates["effect"]))[:3]
    ['a_actor', 'a_partner', 'b_actor']
    """
    data, dyad, _, role, _ = keys_of(data, dyad=dyad, role=role, func=_FUNC)
    _check_args(bootstrap, level, x, m, y)
    generator = _rng(rng)
    check_client(client, func=_FUNC)
    check_columns(data, [dyad, role], func=_FUNC)
    check_analysis_variables(data, [x, m, y], func=_FUNC)
    check_keys(data, dyad=dyad, role=role, func=_FUNC)
    check_dyads(data, dyad=dyad, allow_incomplete=True, func=_FUNC)
    pooled = role is None
    if role is not None:
        check_distinguishable(data, dyad=dyad, role=role, func=_FUNC)
    wide, dropped, labels = _wide(data, x=x, m=m, y=y, dyad=dyad, role=role)
    n = len(wide["x"])
    if n < 6:
        raise DyadicDataError(
            f"{_FUNC}(): only {n} dyads have complete x, m and y for both members; the "
            "model needs at least 6 (each outcome has 4 predictors and an intercept)."
        )
    warnings: list[str] = []
    if dropped:
        shown = show_ids(dropped)
        warnings.append(
            f"{len(dropped)} {'dyad' if len(dropped) == 1 else 'dyads'} left out for "
            f"missing values of {x}, {m} or {y}, or a member without a row (listwise; "
            f"first: {shown})."
        )
    if n < 10:
        warnings.append(f"Only {n} dyads: estimates and SEs are unreliable.")
    xa, ma, ya = wide["x"], wide["m"], wide["y"]
    try:
        res = _fit.fit_pooled(xa, ma, ya) if pooled else _fit.fit(xa, ma, ya)
        saturated = _fit.fit(xa, ma, ya).loglik if pooled else res.loglik
    except np.linalg.LinAlgError:
        raise DyadicDataError(
            f"{_FUNC}(): the predictors are collinear (both members' {x} and {m} are "
            "linearly dependent), so the paths are not identified. Check that the "
            "variables vary within and between dyads."
        ) from None

    estimates = np.concatenate([res.paths, _fit.effects(res.paths, pooled)])
    grad = _fit.effects_gradient(res.paths, pooled)
    var_effects = np.einsum("ij,jk,ik->i", grad, res.vcov, grad)
    ses = np.sqrt(np.concatenate([np.diag(res.vcov), var_effects]))

    boot_ci = None
    failed = 0
    if bootstrap > 0:
        draws, failed = _fit.bootstrap_effects(
            xa, ma, ya, int(bootstrap), generator, pooled=pooled, client=client, progress=progress
        )
        tail = (1.0 - level) / 2.0
        boot_ci = np.nanquantile(draws, [tail, 1.0 - tail], axis=0)
        if failed:
            warnings.append(
                f"{failed} of {bootstrap} bootstrap resamples had collinear predictors "
                "and were left out of the percentile intervals."
            )

    keys: list[tuple[str, int | None]]
    if pooled:
        keys = [(name, None) for name in (*_fit.POOLED_PATHS, *_fit.EFFECTS)]
        n_paths = len(_fit.POOLED_PATHS)
    else:
        keys = [*_fit.PATHS, *((e, k) for e in _fit.EFFECTS for k in (0, 1))]
        n_paths = len(_fit.PATHS)
    rows = []
    for i, (effect, k) in enumerate(keys):
        row: dict[str, Any] = {
            "effect": effect,
            "predictor": m if effect.startswith("b_") else x,
            "role": None if k is None else labels[k],
            "estimate": float(estimates[i]),
            "se": float(ses[i]),
            "df": None,
        }
        if boot_ci is not None and i >= n_paths:
            row["ci_low"] = float(boot_ci[0, i])
            row["ci_high"] = float(boot_ci[1, i])
        rows.append(row)
    table = estimates_frame(rows, level=level)

    vc_rows: list[dict[str, Any]] = []
    boundary: list[str] = []
    for short, name, sigma in (("m", m, res.sigma_m), ("y", y, res.sigma_y)):
        for k in (0,) if pooled else (0, 1):
            scale = max(float(np.var(wide[short][:, k])), 1e-300)
            if not sigma[k, k] > 1e-12 * scale:  # an exact fit: variance at its boundary
                who = "" if pooled else f" of role {labels[k]!r}"
                boundary.append(f"the residual variance of {name!r}{who} is zero")
            vc_rows.append(
                {
                    "name": f"residual_variance_{short}",
                    "role": None if pooled else labels[k],
                    "estimate": sigma[k, k],
                }
            )
        vc_rows.append(
            {"name": f"residual_covariance_{short}", "role": None, "estimate": sigma[0, 1]}
        )
        prod = float(sigma[0, 0] * sigma[1, 1])
        corr = float(sigma[0, 1]) / math.sqrt(prod) if prod > 0 else math.nan
        vc_rows.append({"name": f"residual_correlation_{short}", "role": None, "estimate": corr})
    variance = pd.DataFrame(vc_rows, columns=VARIANCE_COLUMNS)
    variance["role"] = pd.Series([r["role"] for r in vc_rows], dtype=object)  # keep None

    n_params = _N_PARAMS_POOLED if pooled else _N_PARAMS
    chisq = max(2.0 * (saturated - res.loglik), 0.0)
    df_model = _N_PARAMS + 4 - n_params if pooled else 0  # the saturated model has 4 intercepts
    fit_stats = {
        "loglik": res.loglik,
        "aic": -2.0 * res.loglik + 2.0 * n_params,
        "bic": -2.0 * res.loglik + n_params * math.log(n),
        "n_params": n_params,
        "chisq": chisq,
        "df": df_model,
        "chisq_p": float(stats.chi2.sf(chisq, df_model)) if df_model else None,
        "converged": True,
    }
    return MediationResult(
        model="apim_mediation",
        estimates=table,
        n_dyads=n,
        n_obs=2 * n,
        distinguishable=not pooled,
        roles=[] if pooled else labels,
        estimation="ML",
        variance_components=variance,
        fit=fit_stats,
        tests=[],
        warnings=emit(warnings)
        + emit(
            convergence_warnings(
                func=_FUNC,
                converged=True,
                boundary=boundary,
                hint=f"{m!r} or {y!r} is an exact function of its predictors",
            ),
            ConvergenceWarning,
        ),
        level=float(level),
        call={
            "x": x,
            "m": m,
            "y": y,
            "dyad": dyad,
            "role": role,
            "bootstrap": int(bootstrap),
            "level": float(level),
        },
        extra={
            "bootstrap": {
                "resamples": int(bootstrap),
                "method": "percentile" if bootstrap else None,
                "unit": "dyad",
                "failed": int(failed),
                "applies_to": "indirect and total effects" if bootstrap else None,
            },
            "n_dyads_dropped": len(dropped),
        },
    )
