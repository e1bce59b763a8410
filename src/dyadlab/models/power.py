"""Power analysis for the actor–partner interdependence model (APIM).

``dl.power.apim(...)`` answers "how likely is my study of N dyads to detect actor and
partner effects of this size?", analytically as the APIMPower app of Ackerman & Kenny
(2016) does, or by Monte Carlo simulation that refits thousands of data sets at once.
Give a list of sample sizes to get a power curve (and ``.plot()`` it).

Examples
--------
>>> import dyadlab as dl
>>> res = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=100)
>>> round(res.power["actor"], 3)
0.856
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from dyadlab._validation import check_option, check_range
from dyadlab.exceptions import OptionError
from dyadlab.models._power_design import PowerScenario
from dyadlab.models._student import two_sided_power

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dyadlab.models._power_diary import DiaryPowerResult, diary

__all__ = ["DiaryPowerResult", "PowerResult", "apim", "diary"]

_FUNC = "power.apim"
_EFFECTS = ("actor", "partner")


@dataclass
class PowerResult:
    """What :func:`apim` returns: power for actor and partner effects.

    Attributes
    ----------
    power : dict
        ``{"actor": …, "partner": …}``; floats for one sample size, lists (aligned with
        ``dyads``) for a grid.
    method : str
        ``"analytic"`` or ``"montecarlo"``.
    dyads : int or list of int
        The sample size(s), in dyads.
    alpha, actor, partner, r_x, r_e, distinguishable, replications
        The inputs (``replications`` is None for the analytic method).
    curve : list of dict
        One record per sample size: ``dyads, actor, partner, df`` and ``ncp_actor,
        ncp_partner`` (analytic) or ``actor_mc_se, partner_mc_se`` (Monte Carlo).
    """

    power: dict[str, Any]
    method: str
    dyads: int | list[int]
    alpha: float
    actor: float
    partner: float
    r_x: float
    r_e: float
    distinguishable: bool
    replications: int | None
    curve: list[dict[str, float]]
    warnings: list[str] = field(default_factory=list)

    @property
    def is_grid(self) -> bool:
        """True when power was computed over several sample sizes."""
        return isinstance(self.dyads, list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready dict that ``dyadlab power apim --json`` prints."""
        from dyadlab import __version__

        out: dict[str, Any] = {
            "model": "power_apim",
            "dyadlab_version": __version__,
            "power": dict(self.power),
            "method": self.method,
            "dyads": self.dyads,
            "alpha": self.alpha,
            "actor": self.actor,
            "partner": self.partner,
            "r_x": self.r_x,
            "r_e": self.r_e,
            "distinguishable": self.distinguishable,
            "replications": self.replications,
        }
        if self.is_grid:
            out["curve"] = [dict(row) for row in self.curve]
        else:
            row = self.curve[0]
            out["df"] = row["df"]
            if self.method == "analytic":
                out["ncp"] = {e: row[f"ncp_{e}"] for e in _EFFECTS}
            else:
                out["mc_se"] = {e: row[f"{e}_mc_se"] for e in _EFFECTS}
        out["warnings"] = list(self.warnings)
        return out

    def to_json(self, **kwargs: Any) -> str:
        """Return :meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """Return a readable text table of power by sample size."""
        kind = "distinguishable" if self.distinguishable else "indistinguishable"
        how = (
            "analytic (noncentral t)"
            if self.method == "analytic"
            else f"Monte Carlo, {self.replications} replications"
        )
        lines = [
            f"dyadlab power_apim — {how}, {kind} dyads",
            f"actor = {self.actor:g}, partner = {self.partner:g} (standardised), "
            f"r_x = {self.r_x:g}, r_e = {self.r_e:g}, alpha = {self.alpha:g} (two-sided)",
            "",
        ]
        mc = self.method == "montecarlo"
        header = f"{'dyads':>7}  {'df':>6}  {'actor':>7}  {'partner':>7}"
        if mc:
            header += f"  {'MC se':>7}"
        lines += [header, "-" * len(header)]
        for row in self.curve:
            line = (
                f"{int(row['dyads']):>7}  {int(row['df']):>6}  {row['actor']:>7.3f}  "
                f"{row['partner']:>7.3f}"
            )
            if mc:
                line += f"  {max(row['actor_mc_se'], row['partner_mc_se']):>7.4f}"
            lines.append(line)
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Axes | None = None, *, target: float | None = 0.8) -> Figure:
        """Draw power against the number of dyads (a power curve).

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure is made if omitted.
        target : float or None
            Draw a dashed line at this power (0.8 by default); None for no line.

        Returns
        -------
        matplotlib.figure.Figure
            The figure that holds the curve (``fig.axes[0]``).
        """
        from dyadlab.models._result import present

        return cast("Figure", present("power_plot", "power_curve")(self, ax=ax, target=target))


def __getattr__(name: str) -> Any:
    # the diary power (NumPy, SciPy) is loaded when it is used, so that the analytic
    # APIM power, and with it ``dyadlab power apim``, starts without them (issue 21)
    if name in ("DiaryPowerResult", "diary"):
        from dyadlab.models import _power_diary

        value = getattr(_power_diary, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _nct_power(ncp: float, df: float, alpha: float) -> float:
    # P(|T| > t(1 - alpha/2, df)) for a noncentral t, in pure Python (dyadlab.models.
    # _student, which agrees with scipy.special.stdtrit/nctdtr to ~1e-13): SciPy's
    # special functions cost the CLI ~0.2 s of start-up (issue 21)
    return two_sided_power(ncp, df, alpha)


def _analytic_point(design: PowerScenario, n: int) -> dict[str, float]:
    """Analytic power at ``n`` dyads; see :func:`apim`, Notes."""
    s2 = design.error_variance
    rx, re = design.r_x, design.r_e
    if design.distinguishable:
        df = n - 3.0
        # E[residual SS of X1 given 1, X2] = (n - 2)(1 - r_x²) for unit-variance X
        se = {e: math.sqrt(s2 / ((n - 2.0) * (1.0 - rx * rx))) for e in _EFFECTS}
    else:
        df = 2.0 * n - 3.0
        var_sum = s2 * (1.0 + re) / ((n - 1.0) * (1.0 + rx))  # slope a + p
        var_diff = s2 * (1.0 - re) / (n * (1.0 - rx))  # slope a - p
        se = {e: 0.5 * math.sqrt(var_sum + var_diff) for e in _EFFECTS}
    effects = {"actor": design.actor, "partner": design.partner}
    row: dict[str, float] = {"dyads": n, "df": int(df)}
    for e in _EFFECTS:
        ncp = effects[e] / se[e]
        row[e] = _nct_power(ncp, df, design.alpha)
        row[f"ncp_{e}"] = ncp
    return row


def _montecarlo(
    design: PowerScenario,
    grid: list[int],
    reps: int,
    rng: int | np.random.Generator | None,
    client: Any,
    progress: bool | None,
) -> list[dict[str, float]]:
    """Monte Carlo power at each sample size: seeded chunks, here or on ``client``.

    Sample size ``i`` gets its own seed; its chunks ``j`` draw from that seed's PCG64
    jumped ``j`` times, so the numbers depend on the seed only (not on the client).
    """
    from dyadlab.models._chunked import run_chunks, streams
    from dyadlab.models._power_mc import chunk_sizes, combine, count_chunk

    args: list[tuple[Any, ...]] = []
    seeds: list[Any] = []
    cells: list[int] = []
    for n, seed in zip(grid, _seeds(rng, len(grid)), strict=True):
        sizes = chunk_sizes(n, reps)
        args.extend((design, n, size) for size in sizes)
        seeds.extend(streams(seed, len(sizes), func=_FUNC))
        cells.append(len(sizes))
    counts = run_chunks(
        count_chunk, args, seeds, client=client, progress=progress, label="power.apim"
    )
    curve = []
    start = 0
    for n, k in zip(grid, cells, strict=True):
        row = combine(design, n, reps, counts[start : start + k])
        row["dyads"] = n
        curve.append(row)
        start += k
    return curve


def _check_dyads(dyads: int | Sequence[int]) -> list[int]:
    values = [dyads] if isinstance(dyads, numbers.Integral) else list(dyads)  # type: ignore[arg-type]
    if not values:
        raise OptionError(f"{_FUNC}(): dyads is empty. Give a number of dyads, e.g. dyads=100.")
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise OptionError(
                f"{_FUNC}(): dyads={v!r} is not a whole number. Give the number of dyads "
                "as an integer (or a list of integers for a power curve)."
            )
        if v < 4:
            raise OptionError(
                f"{_FUNC}(): dyads={v!r} is too small; the APIM needs at least 4 dyads "
                "(the test of an effect has n - 3 degrees of freedom)."
            )
        out.append(int(v))
    return out


def _seeds(rng: int | np.random.Generator | None, k: int) -> list[int]:
    import numpy as np

    if isinstance(rng, np.random.Generator):
        seq = np.random.SeedSequence(int(rng.integers(2**63)))
    elif rng is None or isinstance(rng, numbers.Integral):
        seq = np.random.SeedSequence(None if rng is None else int(rng))
    else:
        raise OptionError(
            f"{_FUNC}(): rng={rng!r} is not allowed; give an int seed or a numpy Generator."
        )
    return [int(s) for s in seq.generate_state(k, dtype=np.uint64)]


def apim(
    *,
    actor: float,
    partner: float,
    r_x: float,
    r_e: float,
    dyads: int | Sequence[int],
    alpha: float = 0.05,
    method: Literal["analytic", "montecarlo"] = "analytic",
    distinguishable: bool = True,
    replications: int = 10_000,
    rng: int | np.random.Generator | None = None,
    client: Any = None,
    progress: bool | None = None,
) -> PowerResult:
    """Power to detect actor and partner effects in the APIM.

    Parameters
    ----------
    actor, partner : float
        Standardised actor and partner effects (betas: X and Y have unit variance), the
        same for both members of a dyad.
    r_x : float
        Correlation between the two members' predictors, in (-1, 1).
    r_e : float
        Correlation between the two members' residuals (errors), in (-1, 1).
    dyads : int or sequence of int
        Number of dyads (at least 4); a sequence gives a power curve.
    alpha : float
        Two-sided significance level, in (0, 1).
    method : {"analytic", "montecarlo"}
        Noncentral-t power (as APIMPower) or simulation with refitting.
    distinguishable : bool
        Distinguishable dyads (an actor and a partner effect per role, as APIMPower
        reports them) or indistinguishable dyads (pooled effects).
    replications : int
        Simulated data sets per sample size (``method="montecarlo"``).
    rng : int or numpy.random.Generator, optional
        Seed for the simulation; each sample size of a grid gets its own stream, so the
        results do not depend on whether a Dask client is used.
    client : dask.distributed.Client, optional
        Run the Monte Carlo chunks (at most 2 million simulated dyads each) of every
        sample size on a Dask cluster; the numbers equal a local run with the same
        ``rng``. Ignored by the analytic method.
    progress : bool, optional
        Show a progress bar on stderr during the Monte Carlo run (Rich locally, Dask's
        on a cluster). Default: only when stderr is a terminal.

    Returns
    -------
    PowerResult
        ``.power`` (``{"actor": …, "partner": …}``), ``.curve``, ``.summary()``,
        ``.to_dict()`` (the object ``dyadlab power apim --json`` prints) and ``.plot()``.

    Raises
    ------
    OptionError
        A correlation outside (-1, 1), fewer than 4 dyads, alpha outside (0, 1), effects
        that explain all of Y's variance, or an unknown method.

    See Also
    --------
    dyadlab.apim : fit the APIM to data.

    Notes
    -----
    With standardised X and Y the residual variance is
    ``s² = 1 - a² - p² - 2 a p r_x``. For distinguishable dyads each member's outcome
    is a regression on both members' X, tested with ``n - 3`` df; the expected residual
    sum of squares of X1 given X2 (and the intercept) is ``(n - 2)(1 - r_x²)``, so

    ``ncp = a √((n - 2)(1 - r_x²)) / s``  (and the same with p),

    and power is ``P(|T| > t(1 - alpha/2, n - 3))`` for ``T`` noncentral t with that
    ncp. This reproduces the APIMPower app's published output (for example power .346
    and .538 for d = .186 and .260 with 200 dyads, r_x = r_e = .3, alpha = .10). The
    residual correlation does not affect these tests (both equations share their
    regressors); it does for indistinguishable dyads, where the pooled effects come
    from the regressions of the dyad sums (slope a + p, ``n - 1`` residual df for X)
    and differences (slope a - p, ``n`` df):

    ``se² = s²/4 · [(1 + r_e) / ((n - 1)(1 + r_x)) + (1 - r_e) / (n (1 - r_x))]``,

    tested with ``2n - 3`` df as ``nlme::gls`` does (dyadlab's derivation, on the same
    principle; the published APIMPower output checked here is for distinguishable
    dyads). Both formulas fix X at its expected design; with random X the power of a
    study is slightly lower (by up to about 1.5 points at 80–90% power). The Monte
    Carlo method simulates from exactly this model with random X and refits every data
    set (see ``_power_mc``), so it checks the approximations.

    References
    ----------
    Ackerman, R. A., & Kenny, D. A. (2016). APIMPower: An interactive tool for
    Actor-Partner Interdependence Model power analysis [Computer software].
    Kenny, D. A., Kashy, D. A., & Cook, W. L. (2006). *Dyadic data analysis*. Guilford.

    Examples
    --------
    >>> import dyadlab as dl
    >>> res = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=[50, 100])
    >>> [round(p, 2) for p in res.power["partner"]]
    [0.18, 0.33]
    """
    check_option("method", method, ("analytic", "montecarlo"), func=_FUNC)
    values = {"actor": actor, "partner": partner, "r_x": r_x, "r_e": r_e, "alpha": alpha}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise OptionError(f"{_FUNC}(): {name}={value!r} is not a number.")
        if not math.isfinite(float(value)):
            raise OptionError(f"{_FUNC}(): {name}={value!r} must be a finite number.")
    check_range("r_x", float(r_x), func=_FUNC, low=-1.0, high=1.0, inclusive=False)
    check_range("r_e", float(r_e), func=_FUNC, low=-1.0, high=1.0, inclusive=False)
    check_range("alpha", float(alpha), func=_FUNC, low=0.0, high=1.0, inclusive=False)
    design = PowerScenario(
        actor=float(actor),
        partner=float(partner),
        r_x=float(r_x),
        r_e=float(r_e),
        alpha=float(alpha),
        distinguishable=bool(distinguishable),
    )
    if design.error_variance <= 0:
        raise OptionError(
            f"{_FUNC}(): actor={actor!r} and partner={partner!r} with r_x={r_x!r} would "
            f"explain {1 - design.error_variance:.0%} of the outcome's variance; "
            "standardised effects must leave residual variance (1 - a² - p² - 2 a p r_x "
            "> 0). Give smaller effects."
        )
    grid = _check_dyads(dyads)
    warnings: list[str] = []
    if method == "analytic":
        curve = [_analytic_point(design, n) for n in grid]
        reps: int | None = None
    else:
        if isinstance(replications, bool) or not isinstance(replications, numbers.Integral):
            raise OptionError(f"{_FUNC}(): replications={replications!r} is not an integer.")
        if replications < 10:
            raise OptionError(
                f"{_FUNC}(): replications={replications!r} is too small; use at least 10 "
                "(1,000 or more for a stable answer)."
            )
        reps = int(replications)
        from dyadlab.models._chunked import check_client

        check_client(client, func=_FUNC)
        curve = _montecarlo(design, grid, reps, rng, client, progress)
        if reps < 1000:
            warnings.append(
                f"Only {reps} replications: the Monte Carlo standard error of power is up "
                f"to {0.5 / math.sqrt(reps):.3f}."
            )
    single = isinstance(dyads, numbers.Integral)
    power: dict[str, Any] = {
        e: (curve[0][e] if single else [row[e] for row in curve]) for e in _EFFECTS
    }
    from dyadlab.models._emit import emit  # no pandas: the analytic path stays light

    return PowerResult(
        power=power,
        method=method,
        dyads=grid[0] if single else grid,
        alpha=design.alpha,
        actor=design.actor,
        partner=design.partner,
        r_x=design.r_x,
        r_e=design.r_e,
        distinguishable=design.distinguishable,
        replications=reps,
        curve=curve,
        warnings=emit(warnings),
    )
