"""``dyadlab nonindependence``: partner correlations, ICCs and the distinguishability test.

A thin command over :func:`dyadlab.nonindependence`: it reads the data file, calls the
function and prints the result's summary, or with ``--json`` exactly one JSON object
(``result.to_json()``).

Examples
--------
$ dyadlab nonindependence couples.csv --var satisfaction --dyad cuplid --role gender --json
"""

from __future__ import annotations

from typing import Annotated

import typer

from dyadlab._cli._common import (
    DataFile,
    DyadOption,
    JsonOption,
    LevelOption,
    PersonOption,
    RoleOption,
    print_result,
    require_options,
)

HELP = (
    "How alike are partners? Pearson r per variable (with --role) or the ANOVA ICC and "
    "pairwise r (without), plus the omnibus test of distinguishability when --role is given."
)


def register(app: typer.Typer) -> None:
    """Add the ``nonindependence`` command to ``app``."""
    app.command("nonindependence", help=HELP)(nonindependence_command)


def nonindependence_command(
    data: DataFile,
    var: Annotated[
        list[str] | None,
        typer.Option("--var", help="Variable to analyse (required); repeat for more."),
    ] = None,
    dyad: DyadOption = None,
    role: RoleOption = None,
    person: PersonOption = None,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Covariate to control for; repeat for more."),
    ] = None,
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.nonindependence` on a data file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.models.nonindependence import nonindependence

    require_options(
        "nonindependence",
        [
            (var, "--var", "e.g. --var satisfaction"),
            (dyad, "--dyad", "name the dyad id column"),
        ],
    )
    frame = read_table(data)
    print_result(
        nonindependence,
        frame,
        variables=var,
        dyad=dyad,
        person=person,
        role=role,
        covariates=covariate or None,
        level=level,
        as_json=as_json,
    )
