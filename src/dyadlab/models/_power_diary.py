"""Monte Carlo power for couples' diary studies: how many couples, how many days?

``dl.power.diary(...)`` simulates the two-intercept diary APIM (the model of
:func:`dyadlab.diary` with ``residual="cs"``, PowerLAPIM's Model 1) over a grid of
couples × days, refits every replication by REML and counts the significant actor and
partner effects. Replications are refitted many at once from sufficient statistics
(:mod:`dyadlab.models._diary_fastfit`), and run in seeded chunks locally or on a Dask
cluster (:mod:`dyadlab.models._chunked`) with identical results.

With ``family="binomial"`` a yes/no daily outcome is simulated from the two-intercept
dyadic GLMM and every replication is refitted by the Laplace approximation of
``dl.diary(..., family="binomial")`` (as ``lme4::glmer``), one at a time: about 0.1–0.5 s
per fit, so a grid point of 1,000 replications takes minutes — run it on a Dask cluster
(``client=``) for whole grids.

Examples
--------
>>> import dyadlab as dl
>>> res = dl.power.diary(actor=0.3, partner=0.15, couples=[20], days=[7],
...                      replications=100, seed=1)
>>> res.grid[0]["couples"], res.grid[0]["days"]
(20, 7)
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import special

from dyadlab._validation import check_option, check_range
from dyadlab.exceptions import ConvergenceWarning, OptionError
from dyadlab.models._chunked import check_client, run_chunks, seed_sequence, split
from dyadlab.models._diary_fastfit import fit_batch, sufficient_stats, true_theta
from dyadlab.models._diary_sim import DiaryParams, Simulated, simulate, unexplained

__all__ = ["DiaryPowerResult", "diary"]

_FUNC = "power.diary"
_EFFECTS = ("actor", "partner")
#: replications per chunk: fixed per family, so that the seed streams do not depend on
#: the client (binomial refits are one at a time: smaller chunks spread over workers)
CHUNK = {"gaussian": 100, "binomial": 10}
FAMILIES = tuple(CHUNK)


@dataclass
class DiaryPowerResult:
    """What :func:`diary` returns: power over a grid of couples × days.

    Attributes
    ----------
    grid : list of dict
        One row per (couples, days): ``power`` and ``mc_se`` (``{"actor", "partner"}``),
        ``power_by_role`` (distinguishable), ``replications`` (fits that converged).
    params : dict
        The population values simulated (raw scale), and ``standardised``.
    """

    grid: list[dict[str, Any]]
    alpha: float
    replications: int
    seed: int | None
    distinguishable: bool
    params: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    family: str = "gaussian"

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict that ``dyadlab power diary --json`` prints."""
        from dyadlab import __version__

        return {
            "model": "power_diary",
            "dyadlab_version": __version__,
            "grid": [dict(row) for row in self.grid],
            "alpha": self.alpha,
            "replications": self.replications,
            "seed": self.seed,
            "distinguishable": self.distinguishable,
            "params": dict(self.params),
            "family": self.family,
            "method": (
                "montecarlo (Laplace refit of each replication, as lme4::glmer; Wald z tests)"
                if self.family == "binomial"
                else "montecarlo (REML refit of each replication, as nlme::lme)"
            ),
            "warnings": list(self.warnings),
        }

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """A readable table of power by couples and days."""
        kind = "distinguishable" if self.distinguishable else "indistinguishable"
        p = self.params
        outcome = ", yes/no outcome (log-odds effects)" if self.family == "binomial" else ""
        lines = [
            f"dyadlab power_diary — Monte Carlo, {self.replications} replications, {kind} "
            f"dyads{outcome}",
            f"actor = {_show(p['actor'])}, partner = {_show(p['partner'])}, "
            f"alpha = {self.alpha:g} (two-sided)",
            "",
            f"{'couples':>8}  {'days':>5}  {'actor':>7}  {'partner':>7}  {'MC se':>7}",
        ]
        lines.append("-" * len(lines[-1]))
        for r in self.grid:
            se = max(r["mc_se"].values())
            lines.append(
                f"{r['couples']:>8}  {r['days']:>5}  {r['power']['actor']:>7.3f}  "
                f"{r['power']['partner']:>7.3f}  {se:>7.4f}"
            )
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, *, target: float | None = 0.8) -> Any:
        """Power curves (see :func:`dyadlab.report.power_diary_plot.plot_power_grid`)."""
        from dyadlab.models._result import present

        return present("power_diary_plot", "plot_power_grid")(
            self.grid, alpha=self.alpha, target=target
        )


def _show(pair: Any) -> str:
    """An effect pair for the summary: one number when both roles share it."""
    vals = [f"{float(v):.4g}" for v in (pair if isinstance(pair, list | tuple) else [pair])]
    if len(vals) == 1:
        return vals[0]
    return vals[0] if len(set(vals)) == 1 else f"({vals[0]}, {vals[1]})"


def run_chunk(
    p: DiaryParams, couples: int, days: int, reps: int, alpha: float, seed: Any
) -> dict[str, Any]:
    """Simulate and refit one chunk; counts of significant effects per role."""
    sim = simulate(p, couples=couples, days=days, reps=reps, rng=np.random.default_rng(seed))
    if p.family == "binomial":
        ok, sig = _glmm_tests(sim, p.distinguishable, alpha)
    else:
        fit = fit_batch(sufficient_stats(sim, p.distinguishable), start=true_theta(p))
        ok = fit.converged & np.isfinite(fit.se).all(axis=1)
        t = fit.beta[ok] / fit.se[ok]
        crit = special.stdtrit(fit.df[ok], 1.0 - alpha / 2.0)
        sig = np.abs(t) > crit
    # columns: (int1, int2, actor1, actor2, partner1, partner2) or (int, actor, partner)
    cols = (
        {"actor": [2, 3], "partner": [4, 5]}
        if p.distinguishable
        else {"actor": [1], "partner": [2]}
    )
    return {
        "n": int(ok.sum()),
        "failed": int((~ok).sum()),
        "hits": {e: [int(sig[:, c].sum()) for c in cs] for e, cs in cols.items()},
    }


def _glmm_tests(
    sim: Simulated, distinguishable: bool, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Refit each binary replication by Laplace; (converged, |z| > crit per coefficient).

    The design is the one :func:`dyadlab.diary` builds with ``center="none"``
    (:func:`~dyadlab.models._glmm.two_intercept_design`): columns ``(int_1, int_2,
    actor_1, actor_2, partner_1, partner_2)`` with correlated random intercepts per role,
    or ``(int, actor, partner)`` with exchangeable ones.
    """
    from dyadlab.models._glmm import two_intercept_design
    from dyadlab.models._glmm_laplace import Blocks, fit_glmm

    reps, n, t, _ = sim.y.shape
    dyad = np.broadcast_to(np.arange(n)[:, None, None], (n, t, 2))
    member = np.broadcast_to(np.arange(2), (n, t, 2))
    predictors = [("actor", "actor", "x"), ("partner", "partner", "x")]
    roles = [0, 1] if distinguishable else []
    crit = special.ndtri(1.0 - alpha / 2.0)
    ok = np.zeros(reps, dtype=bool)
    sig = np.zeros((reps, 6 if distinguishable else 3), dtype=bool)
    for r in range(reps):
        keep = np.broadcast_to(sim.keep[r][..., None], (n, t, 2))
        m = member[keep]
        df = {"_member": m, "actor": sim.x[r][keep], "partner": sim.x[r][..., ::-1][keep]}
        X, _, structure = two_intercept_design(df, predictors, roles)
        _, groups = np.unique(dyad[keep], return_inverse=True)
        fit = fit_glmm(X, sim.y[r][keep], Blocks(groups, m), "binomial", structure)
        with np.errstate(invalid="ignore"):  # a negative variance: not converged
            se = np.sqrt(np.diag(fit.vcov))
        ok[r] = fit.converged and bool(np.isfinite(se).all())
        if ok[r]:
            sig[r] = np.abs(fit.beta / se) > crit
    return ok, sig[ok]


def _check_grid(name: str, values: int | Sequence[int], low: int) -> list[int]:
    vals = [values] if isinstance(values, numbers.Integral) else list(values)  # type: ignore[arg-type]
    if not vals:
        raise OptionError(
            f"{_FUNC}(): {name} is empty, so there is no grid to simulate. Give at least "
            f"one number of {name}, e.g. {name}=[40, 80]."
        )
    out = []
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise OptionError(
                f"{_FUNC}(): {name}={v!r} is not allowed; give whole numbers of at least {low}."
            )
        out.append(int(v))
    return sorted(set(out))


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise OptionError(f"{_FUNC}(): {name}={value!r} must be a finite number.")
    return float(value)


def _pair(name: str, value: Any) -> tuple[float, float]:
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise OptionError(f"{_FUNC}(): {name} must be a number or a pair (one per role).")
        return (_number(name, value[0]), _number(name, value[1]))
    v = _number(name, value)
    return (v, v)


def diary(
    *,
    actor: float | tuple[float, float],
    partner: float | tuple[float, float],
    couples: int | Sequence[int],
    days: int | Sequence[int],
    replications: int = 1000,
    seed: int | None = None,
    client: Any = None,
    alpha: float = 0.05,
    distinguishable: bool = True,
    icc: float = 0.3,
    cor_intercepts: float = 0.3,
    r_e: float = 0.3,
    ar1: float = 0.0,
    x_icc: float = 0.0,
    r_x: float = 0.0,
    missing: float = 0.0,
    dropout: float = 0.0,
    intercept: float | tuple[float, float] = 0.0,
    sd_intercept: float | tuple[float, float] | None = None,
    sd_residual: float | tuple[float, float] | None = None,
    family: str = "gaussian",
    progress: bool | None = None,
) -> DiaryPowerResult:
    """Monte Carlo power of actor and partner effects in a couples' diary study.

    Parameters
    ----------
    actor, partner : float or pair
        Actor and partner effects of the daily predictor, for both roles or per role
        (first role first). Standardised (x and y with unit variance) unless
        ``sd_intercept`` and ``sd_residual`` are given (then on y's raw scale, x with
        unit variance, as PowerLAPIM's inputs). With ``family="binomial"``: log-odds
        per SD of x.
    couples, days : int or sequence of int
        The grid: numbers of couples (at least 4) and of diary days (at least 2).
    replications : int
        Simulated studies per grid point (at least 100; 1,000 or more for ±0.016).
    seed : int, optional
        Seed; chunk ``i`` of grid point ``j`` always gets the same stream, so the
        numbers do not depend on ``client``.
    client : dask.distributed.Client, optional
        Run the chunks of replications on this Dask cluster.
    alpha : float
        Two-sided significance level of each effect's t test (nlme's df).
    distinguishable : bool
        Role-specific intercepts, effects, intercept and residual SDs (the model of
        ``dl.diary(..., role=...)``), or pooled effects with exchangeable partners.
    icc : float
        Standardised effects: share of the variance the predictors leave that lies
        between couples' members (random intercepts), in [0, 1). Binomial: the
        latent-scale ICC, ``sd² / (sd² + π²/3)``, that sets the random-intercept SD
        unless ``sd_intercept`` is given.
    cor_intercepts : float
        Correlation of the partners' random intercepts.
    r_e : float
        Correlation of the partners' residuals on the same day.
    ar1 : float
        AR(1) autocorrelation of each person's daily residuals (simulated; the fitted
        model, like PowerLAPIM's, assumes none).
    x_icc, r_x : float
        Share of the predictor's variance between persons, and the partners'
        correlation of the predictor (at both levels).
    missing : float
        Probability that a person-day is missing (the couple-day then leaves the fit).
    dropout : float
        Probability that a couple drops out, after a uniformly drawn day.
    intercept : float or pair
        Fixed intercepts (no effect on power of a Gaussian outcome; for a binomial one
        the log-odds of a yes at x = 0, which does matter).
    sd_intercept, sd_residual : float or pair, optional
        Raw random-intercept and residual SDs (both or neither); replace the
        standardised split of ``icc``. Binomial: ``sd_intercept`` only (log-odds).
    family : {"gaussian", "binomial"}
        The daily outcome: continuous, or yes/no (the dyadic GLMM of
        ``dl.diary(..., family="binomial")``; ``r_e``, ``ar1`` and ``sd_residual`` do
        not apply; each replication is a Laplace refit with Wald z tests).
    progress : bool, optional
        Progress bar on stderr (Rich; Dask's on a cluster); default when stderr is a
        terminal.

    Returns
    -------
    DiaryPowerResult
        ``.grid`` (power and MC SE per couples × days), ``.summary()``, ``.to_dict()``
        (what ``dyadlab power diary --json`` prints) and ``.plot()``.

    Raises
    ------
    OptionError
        Effects that leave no residual variance, an empty grid, fewer than 100
        replications, a correlation outside (-1, 1), a rate outside [0, 1).

    Notes
    -----
    For member ``r`` of couple ``d`` on day ``t``:
    ``y = c_r + a_r x_dtr + p_r x_dts + u_dr + e_dtr``, fitted as ``dl.diary(...,
    residual="cs")`` / ``nlme::lme(y ~ 0 + role + role:x + role:x_partner, random = ~ 0
    + role | dyad, correlation = corCompSymm(~ 1 | dyad/time), weights = varIdent(~ 1 |
    role), method = "REML")`` (PowerLAPIM's Model 1, Lafit et al. 2022). With
    standardised effects the variance left, ``1 - a² - p² - 2 a p r_x``, is split into
    ``icc`` (intercepts) and ``1 - icc`` (residuals). Power pools the two roles' tests
    (``power_by_role`` has each); the MC standard error is ``sqrt(p (1 - p) / R)``.

    Binomial: ``logit P(y = 1) = c_r + a_r x_dtr + p_r x_dts + u_dr``, fitted as
    ``lme4::glmer(y ~ 0 + role + role:x + role:x_partner + (0 + role | dyad), family =
    binomial)``.

    References
    ----------
    Lafit, G., Sels, L., Adolf, J. K., Loeys, T., & Ceulemans, E. (2022). PowerLAPIM:
    An application to conduct power analysis for linear and quadratic longitudinal
    actor-partner interdependence models in intensive longitudinal dyadic designs.
    *Journal of Social and Personal Relationships, 39*(10), 3085-3115.

    Examples
    --------
    >>> import dyadlab as dl
    >>> res = dl.power.diary(actor=0.3, partner=0.15, couples=[20, 40], days=[7],
    ...                      replications=100, seed=2)
    >>> [row["couples"] for row in res.grid]
    [20, 40]
    """
    if (
        isinstance(replications, bool)
        or not isinstance(replications, numbers.Integral)
        or replications < 100
    ):
        raise OptionError(
            f"{_FUNC}(): replications={replications!r} is too few for a power estimate; "
            "give at least 100 (1,000 for a Monte Carlo error of about ±0.016)."
        )
    grid_c = _check_grid("couples", couples, 4)
    grid_d = _check_grid("days", days, 2)
    a, p = _pair("actor", actor), _pair("partner", partner)
    if not distinguishable and (a[0] != a[1] or p[0] != p[1]):
        raise OptionError(
            f"{_FUNC}(): indistinguishable dyads have one actor and one partner effect; "
            "give single numbers, or distinguishable=True for per-role effects."
        )
    check_range("alpha", _number("alpha", alpha), func=_FUNC, low=0.0, high=1.0, inclusive=False)
    for name, v in (("cor_intercepts", cor_intercepts), ("r_e", r_e), ("ar1", ar1), ("r_x", r_x)):
        check_range(name, _number(name, v), func=_FUNC, low=-1.0, high=1.0, inclusive=False)
    for name, v in (("missing", missing), ("dropout", dropout), ("icc", icc)):
        check_range(name, _number(name, v), func=_FUNC, low=0.0, high=0.99)
    check_range("x_icc", _number("x_icc", x_icc), func=_FUNC, low=0.0, high=1.0)
    check_option("family", family, FAMILIES, func=_FUNC)
    check_client(client, func=_FUNC)
    extra = {
        "cor_intercepts": float(cor_intercepts),
        "r_e": float(r_e),
        "ar1": float(ar1),
        "x_icc": float(x_icc),
        "missing": float(missing),
        "dropout": float(dropout),
        "distinguishable": bool(distinguishable),
    }
    standardised = sd_intercept is None and sd_residual is None and family == "gaussian"
    if family == "binomial":
        if sd_residual is not None or ar1:
            raise OptionError(
                f"{_FUNC}(): a yes/no outcome has no daily residual: leave sd_residual and "
                "ar1 out with family='binomial' (the random intercepts carry the couples' "
                "dependence)."
            )
        sd_i = (
            _pair("sd_intercept", sd_intercept)
            if sd_intercept is not None
            else (math.sqrt(icc / (1.0 - icc) * math.pi**2 / 3.0),) * 2
        )
        if min(sd_i) < 0:
            raise OptionError(f"{_FUNC}(): sd_intercept must be >= 0 (got {sd_i}).")
        params = DiaryParams(
            actor=a,
            partner=p,
            sd_intercept=sd_i,
            sd_residual=(1.0, 1.0),
            r_x=float(r_x),
            family="binomial",
            **extra,
        )
    elif standardised:
        for k in (0, 1):
            left = unexplained(a[k], p[k], float(r_x))
            if left <= 0:
                raise OptionError(
                    f"{_FUNC}(): actor={a[k]:g} and partner={p[k]:g} with r_x={r_x:g} would "
                    f"explain {1 - left:.0%} of the outcome's variance, leaving a residual "
                    "variance below zero (1 - a² - p² - 2 a p r_x must be > 0). Give smaller "
                    "standardised effects, or raw SDs with sd_intercept= and sd_residual=."
                )
        params = DiaryParams.standardised(a, p, icc=float(icc), r_x=float(r_x), **extra)
    else:
        if sd_intercept is None or sd_residual is None:
            raise OptionError(
                f"{_FUNC}(): give both sd_intercept and sd_residual (raw scale), or neither "
                "(standardised effects)."
            )
        sd_i, sd_e = _pair("sd_intercept", sd_intercept), _pair("sd_residual", sd_residual)
        if min(sd_e) <= 0 or min(sd_i) < 0:
            raise OptionError(
                f"{_FUNC}(): sd_residual must be > 0 and sd_intercept >= 0 (got {sd_e}, {sd_i})."
            )
        params = DiaryParams(
            actor=a,
            partner=p,
            sd_intercept=sd_i,
            sd_residual=sd_e,
            r_x=float(r_x),
            **extra,
        )
    params = replace(params, intercept=_pair("intercept", intercept))
    reps = int(replications)
    cells = [(c, d) for c in grid_c for d in grid_d]
    root = seed_sequence(seed, func=_FUNC)
    sizes = split(reps, CHUNK[family])
    args: list[tuple[Any, ...]] = []
    seeds: list[np.random.SeedSequence] = []
    for (c, d), cell_seq in zip(cells, root.spawn(len(cells)), strict=True):
        for size, s in zip(sizes, cell_seq.spawn(len(sizes)), strict=True):
            args.append((params, c, d, size, float(alpha)))
            seeds.append(s)
    results = run_chunks(
        run_chunk, args, seeds, client=client, progress=progress, label="power.diary"
    )
    grid: list[dict[str, Any]] = []
    warnings: list[str] = []
    per_cell = len(sizes)
    for i, (c, d) in enumerate(cells):
        chunk = results[i * per_cell : (i + 1) * per_cell]
        n = sum(r["n"] for r in chunk)
        failed = sum(r["failed"] for r in chunk)
        row: dict[str, Any] = {"couples": c, "days": d, "power": {}, "mc_se": {}}
        by_role: dict[str, list[float]] = {}
        for e in _EFFECTS:
            hits = np.sum([r["hits"][e] for r in chunk], axis=0)
            by_role[e] = [float(h / n) for h in hits] if n else [math.nan] * len(hits)
            pw = float(np.mean(by_role[e]))
            row["power"][e] = pw
            row["mc_se"][e] = float(math.sqrt(max(pw * (1 - pw), 1e-12) / max(n, 1)))
        if distinguishable:
            row["power_by_role"] = by_role
        row["replications"] = n
        if failed:
            warnings.append(
                f"{_FUNC}(): {failed} of {reps} fits did not converge at {c} couples × {d} "
                "days and were left out."
            )
        grid.append(row)
    binomial = family == "binomial"
    info = {
        "actor": list(a) if distinguishable else a[0],
        "partner": list(p) if distinguishable else p[0],
        "standardised": standardised,
        "scale": "log-odds" if binomial else ("standardised" if standardised else "raw"),
        "icc": float(icc) if standardised or (binomial and sd_intercept is None) else None,
        "intercept": list(params.intercept),
        "sd_intercept": list(params.sd_intercept),
        "sd_residual": None if binomial else list(params.sd_residual),
        "r_x": float(r_x),
        **{
            k: v
            for k, v in extra.items()
            if k != "distinguishable" and not (binomial and k in ("r_e", "ar1"))
        },
    }
    from dyadlab.models._emit import emit  # no pandas: the analytic path stays light

    return DiaryPowerResult(
        grid=grid,
        alpha=float(alpha),
        replications=reps,
        seed=seed,
        distinguishable=bool(distinguishable),
        params=info,
        warnings=emit(warnings, ConvergenceWarning),
        family=family,
    )
