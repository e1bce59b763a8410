"""``dyadlab apim``: the actor–partner interdependence model from a data file.

A thin command over :func:`dyadlab.apim`: it reads the data file (individual format,
one row per person), calls the function and prints the result's summary, or with
``--json`` exactly one JSON object (``result.to_json()``).

Examples
--------
$ dyadlab apim couples.csv --y satisfaction --x other_pos --dyad cuplid --role gender --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Actor and partner effects (APIM): SEM equal to lavaan (distinguishable dyads, default "
    "with --role) or multilevel model equal to nlme::gls (default with --indistinguishable)."
)


def register(app: typer.Typer) -> None:
    """Add the ``apim`` command to ``app``."""
    app.command("apim", help=HELP)(apim_command)


def apim_command(
    data: Annotated[
        Path, typer.Argument(help="Data file in individual format (one row per person).")
    ],
    y: Annotated[str | None, typer.Option("--y", help="Outcome column (required).")] = None,
    x: Annotated[
        list[str] | None,
        typer.Option("--x", help="Predictor column (required); repeat for more."),
    ] = None,
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id column.")] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Column whose two values distinguish the members."),
    ] = None,
    indistinguishable: Annotated[
        bool,
        typer.Option("--indistinguishable", help="Treat the members as interchangeable."),
    ] = False,
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
        int, typer.Option("--bootstrap", help="Bootstrap resamples of dyads for k's CIs.")
    ] = 0,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Random seed of the bootstrap.")
    ] = None,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Run :func:`dyadlab.apim` on a data file and print the result."""
    import warnings

    from dyadlab.exceptions import DyadlabWarning, OptionError
    from dyadlab.io import read_table
    from dyadlab.models.apim import apim

    # checked here rather than by the parser, so that a forgotten option gets the
    # one-line error (exit 2) of every other usage error
    if not y:
        raise OptionError("apim: --y is required; name the outcome column.")
    if not x:
        raise OptionError("apim: --x is required; e.g. --x tension (repeat for more).")
    if not dyad:
        raise OptionError("apim: --dyad is required; name the dyad id column.")
    if role and indistinguishable:
        raise OptionError(
            "apim: --role and --indistinguishable exclude each other; give one of them."
        )
    if not role and not indistinguishable:
        raise OptionError(
            "apim: give --role COLUMN for distinguishable dyads or --indistinguishable."
        )
    if method is not None and method not in ("sem", "mlm"):
        raise OptionError(f"apim: --method must be 'sem' or 'mlm', got {method!r}.")
    frame = read_table(data)
    with warnings.catch_warnings():
        # the warnings are part of the result (its summary and JSON)
        warnings.simplefilter("ignore", DyadlabWarning)
        result = apim(
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
        )
    typer.echo(result.to_json() if as_json else result.summary())
