"""``dyadlab apim``: the actor–partner interdependence model from a data file.

A thin command over :func:`dyadlab.apim`: it reads the data file (individual format,
one row per person), calls the function and prints the result's summary, or with
``--json`` exactly one JSON object (``result.to_json()``).

Examples
--------
$ dyadlab apim couples.csv --y satisfaction --x other_pos --dyad cuplid --role gender --json
"""

from __future__ import annotations

from typing import Annotated

import typer

from dyadlab._cli._common import (
    DataFile,
    DyadOption,
    IndistinguishableOption,
    JsonOption,
    LevelOption,
    PersonOption,
    RoleOption,
    check_role_choice,
    print_result,
    require_options,
)

HELP = (
    "Actor and partner effects (APIM): SEM equal to lavaan (distinguishable dyads, default "
    "with --role) or multilevel model equal to nlme::gls (default with --indistinguishable)."
)


def register(app: typer.Typer) -> None:
    """Add the ``apim`` command to ``app``."""
    app.command("apim", help=HELP)(apim_command)


def apim_command(
    data: DataFile,
    y: Annotated[str | None, typer.Option("--y", help="Outcome column (required).")] = None,
    x: Annotated[
        list[str] | None,
        typer.Option("--x", help="Predictor column (required); repeat for more."),
    ] = None,
    dyad: DyadOption = None,
    person: PersonOption = None,
    role: RoleOption = None,
    indistinguishable: IndistinguishableOption = False,
    method: Annotated[
        str | None, typer.Option("--method", help="sem or mlm (default: sem with --role).")
    ] = None,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Covariate (person or dyad level); repeat for more."),
    ] = None,
    moderator: Annotated[
        str | None, typer.Option("--moderator", help="Between- or within-dyad moderator.")
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            "--bootstrap", help="Bootstrap resamples of dyads for k's interval (0: delta method)."
        ),
    ] = 0,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed of the bootstrap.")
    ] = None,
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.apim` on a data file and print the result."""
    from dyadlab.exceptions import OptionError
    from dyadlab.io import read_table
    from dyadlab.models.apim import apim

    require_options(
        "apim",
        [
            (y, "--y", "name the outcome column"),
            (x, "--x", "e.g. --x tension (repeat for more)"),
            (dyad, "--dyad", "name the dyad id column"),
        ],
    )
    check_role_choice("apim", role=role, indistinguishable=indistinguishable)
    if method is not None and method not in ("sem", "mlm"):
        raise OptionError(f"apim: --method must be 'sem' or 'mlm', got {method!r}.")
    frame = read_table(data)
    print_result(
        apim,
        frame,
        y=y,
        x=x,
        dyad=dyad,
        person=person,
        role=role,
        covariates=covariate or None,
        moderator=moderator,
        method=method,
        bootstrap=bootstrap,
        level=level,
        rng=seed,
        as_json=as_json,
    )
