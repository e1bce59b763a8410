"""``dyadlab nonindependence``: partner correlations, ICCs and the distinguishability test.

A thin command over :func:`dyadlab.nonindependence`: it reads the data file, calls the
function and prints the result's summary, or with ``--json`` exactly one JSON object
(``result.to_json()``).

Examples
--------
$ dyadlab nonindependence couples.csv --var satisfaction --dyad cuplid --role gender --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "How alike are partners? Pearson r per variable (with --role) or the ANOVA ICC and "
    "pairwise r (without), plus the omnibus test of distinguishability when --role is given."
)


def register(app: typer.Typer) -> None:
    """Add the ``nonindependence`` command to ``app``."""
    app.command("nonindependence", help=HELP)(nonindependence_command)


def nonindependence_command(
    data: Annotated[
        Path, typer.Argument(help="Data file in individual format (one row per person).")
    ],
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help="Variable to analyse (required); repeat for more."),
    ] = None,
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role", help="Column whose two values distinguish the members of every dyad."
        ),
    ] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id column.")] = None,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Covariate to control for; repeat for more."),
    ] = None,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Run :func:`dyadlab.nonindependence` on a data file and print the result."""
    from dyadlab.exceptions import OptionError
    from dyadlab.io import read_table
    from dyadlab.models.nonindependence import nonindependence

    # checked here rather than by the parser, so that a forgotten option gets the
    # one-line error (exit 2) of every other usage error
    if not var:
        raise OptionError("nonindependence: --var is required; e.g. --var satisfaction.")
    if not dyad:
        raise OptionError("nonindependence: --dyad is required; name the dyad id column.")
    frame = read_table(data)
    result = nonindependence(
        frame,
        variables=var,
        dyad=dyad,
        person=person,
        role=role,
        covariates=covariate or None,
        level=level,
    )
    typer.echo(result.to_json() if as_json else result.summary())
