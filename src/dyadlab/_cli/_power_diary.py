"""``dyadlab power diary``: Monte Carlo power of a couples' diary study over couples × days.

A thin command over :func:`dyadlab.power.diary`, registered by :mod:`dyadlab._cli.power`.

Examples
--------
$ dyadlab power diary --actor 0.2 --partner 0.1 --couples 40 --couples 80 --days 14 --json
$ dyadlab power diary --actor 0.2 --partner 0.1 --couples 40 --days 14 --scheduler tcp://h:8786
$ dyadlab power diary --actor 0.5 --partner 0.25 --couples 60 --days 21 --family binomial
"""

from __future__ import annotations

from typing import Annotated

import typer

from dyadlab._cli._common import notes_in_result
from dyadlab._cli._dask import HELP as SCHEDULER_HELP

HELP = (
    "Monte Carlo power of actor and partner effects in a couples' diary study (the "
    "two-intercept diary APIM), over a grid of couples x days. Repeat --couples/--days."
)


def power_diary_command(
    actor: Annotated[
        float | None, typer.Option("--actor", help="Standardised actor effect (required).")
    ] = None,
    partner: Annotated[
        float | None, typer.Option("--partner", help="Standardised partner effect (required).")
    ] = None,
    couples: Annotated[
        list[int] | None,
        typer.Option("--couples", help="Number of couples (required); repeat for a grid."),
    ] = None,
    days: Annotated[
        list[int] | None,
        typer.Option("--days", help="Number of diary days (required); repeat for a grid."),
    ] = None,
    replications: Annotated[
        int, typer.Option("--replications", help="Simulated studies per grid point.")
    ] = 1000,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="Two-sided significance level.")] = 0.05,
    indistinguishable: Annotated[
        bool,
        typer.Option("--indistinguishable", help="Pooled effects for indistinguishable dyads."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help=SCHEDULER_HELP)] = None,
    family: Annotated[
        str,
        typer.Option(
            "--family",
            help="gaussian, or binomial for a yes/no outcome (effects in log-odds; slower).",
        ),
    ] = "gaussian",
) -> None:
    """Run :func:`dyadlab.power.diary` and print the result."""
    from dyadlab._cli._dask import dask_client
    from dyadlab.exceptions import OptionError
    from dyadlab.models.power import diary

    for flag, value in (("--actor", actor), ("--partner", partner)):
        if value is None:
            raise OptionError(f"power diary: {flag} is required; e.g. {flag} 0.2.")
    if not couples:
        raise OptionError("power diary: --couples is required; e.g. --couples 40 --couples 80.")
    if not days:
        raise OptionError("power diary: --days is required; e.g. --days 14 --days 21.")
    assert actor is not None and partner is not None
    with dask_client(scheduler, "power diary") as client, notes_in_result():
        result = diary(
            actor=actor,
            partner=partner,
            couples=couples,
            days=days,
            replications=replications,
            seed=seed,
            alpha=alpha,
            distinguishable=not indistinguishable,
            progress=False if as_json else None,
            client=client,
            family=family,
        )
    typer.echo(result.to_json() if as_json else result.summary())
