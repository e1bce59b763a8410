"""``dyadlab power apim``: power for actor and partner effects before a study is run.

A thin command over :func:`dyadlab.power.apim`: it parses the options, calls the
function and prints the summary, or with ``--json`` exactly one JSON object
(``result.to_json()``).

Examples
--------
$ dyadlab power apim --actor 0.3 --partner 0.15 --r-x 0.3 --r-e 0.3 --dyads 100 --json
"""

from __future__ import annotations

from typing import Annotated

import typer

from dyadlab._cli._common import notes_in_result
from dyadlab._cli._dask import HELP as SCHEDULER_HELP

HELP = "Power analysis before a study: how likely N dyads are to detect an effect."
APIM_HELP = (
    "Power to detect standardised actor and partner effects in the APIM, analytic "
    "(as the APIMPower app) or by Monte Carlo simulation. Repeat --dyads for a power curve."
)


def _required(flag: str, value: float | None) -> float:
    from dyadlab.exceptions import OptionError

    # checked here rather than by the parser, so that a forgotten option gets the
    # one-line error (exit 2) of every other usage error
    if value is None:
        raise OptionError(f"power apim: {flag} is required; e.g. {flag} 0.3.")
    return value


def register(app: typer.Typer) -> None:
    """Add the ``power`` command group (``power apim``, ``power diary``) to ``app``."""
    power_app = typer.Typer(name="power", help=HELP, no_args_is_help=True)
    power_app.command("apim", help=APIM_HELP)(power_apim_command)
    from dyadlab._cli._power_diary import HELP as DIARY_HELP
    from dyadlab._cli._power_diary import power_diary_command

    power_app.command("diary", help=DIARY_HELP)(power_diary_command)
    app.add_typer(power_app, name="power")


def power_apim_command(
    actor: Annotated[
        float | None, typer.Option("--actor", help="Standardised actor effect (required).")
    ] = None,
    partner: Annotated[
        float | None, typer.Option("--partner", help="Standardised partner effect (required).")
    ] = None,
    r_x: Annotated[
        float | None,
        typer.Option("--r-x", help="Correlation of the partners' predictors (required)."),
    ] = None,
    r_e: Annotated[
        float | None,
        typer.Option("--r-e", help="Correlation of the partners' residuals (required)."),
    ] = None,
    dyads: Annotated[
        list[int] | None,
        typer.Option("--dyads", help="Number of dyads (required); repeat for a power curve."),
    ] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    method: Annotated[
        str, typer.Option("--method", help="analytic (noncentral t) or montecarlo.")
    ] = "analytic",
    indistinguishable: Annotated[
        bool,
        typer.Option("--indistinguishable", help="Pooled effects for indistinguishable dyads."),
    ] = False,
    replications: Annotated[
        int, typer.Option("--replications", help="Simulated data sets (montecarlo).")
    ] = 10_000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed (montecarlo).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help=f"(montecarlo) {SCHEDULER_HELP}")
    ] = None,
) -> None:
    """Run :func:`dyadlab.power.apim` and print the result."""
    from dyadlab._cli._dask import dask_client
    from dyadlab.exceptions import OptionError
    from dyadlab.models.power import apim

    if not dyads:
        raise OptionError("power apim: --dyads is required; e.g. --dyads 100.")
    if method not in ("analytic", "montecarlo"):
        raise OptionError(
            f"power apim: --method {method!r} is not allowed; choose 'analytic' or 'montecarlo'."
        )
    kwargs = {
        "actor": _required("--actor", actor),
        "partner": _required("--partner", partner),
        "r_x": _required("--r-x", r_x),
        "r_e": _required("--r-e", r_e),
    }
    with (
        dask_client(scheduler if method == "montecarlo" else None, "power apim") as client,
        notes_in_result(),
    ):
        result = apim(
            **kwargs,
            dyads=dyads[0] if len(dyads) == 1 else dyads,
            alpha=alpha,
            method="analytic" if method == "analytic" else "montecarlo",
            distinguishable=not indistinguishable,
            replications=replications,
            rng=seed,
            client=client,
            progress=False if as_json else None,
        )
    typer.echo(result.to_json() if as_json else result.summary())
