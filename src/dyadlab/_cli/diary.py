"""``dyadlab diary``: the two-intercept multilevel APIM for couples' diary data.

A thin command over :func:`dyadlab.diary`: it reads the data file (individual format,
one row per person-occasion), calls the function and prints the result's summary, or
with ``--json`` exactly one JSON object (``result.to_json()``).

Examples
--------
$ dyadlab diary kashy.csv --y satisf --x conflict --dyad dyadid --person person --time day \
      --role gender --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Dyadic diary model (two-intercept multilevel APIM) equal to nlme::lme: actor and "
    "partner effects of a daily predictor, partners' correlated random intercepts, "
    "residuals correlated within a day (cs), AR(1) over days (ar1) or both (kronecker)."
)


def register(app: typer.Typer) -> None:
    """Add the ``diary`` command to ``app``."""
    app.command("diary", help=HELP)(diary_command)


def diary_command(
    data: Annotated[
        Path, typer.Argument(help="Data file in individual format (one row per person-day).")
    ],
    y: Annotated[str | None, typer.Option("--y", help="Outcome column (required).")] = None,
    x: Annotated[
        list[str] | None,
        typer.Option("--x", help="Daily predictor column (required); repeat for more."),
    ] = None,
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Person id column (required).")
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion (day) column (required).")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Column whose two values distinguish the members."),
    ] = None,
    indistinguishable: Annotated[
        bool,
        typer.Option("--indistinguishable", help="Treat the members as interchangeable."),
    ] = False,
    center: Annotated[
        str, typer.Option("--center", help="none, or person (within/between effects).")
    ] = "none",
    residual: Annotated[
        str, typer.Option("--residual", help="cs (default), ar1 or kronecker.")
    ] = "cs",
    method: Annotated[str, typer.Option("--method", help="REML (default) or ML.")] = "REML",
    random_slopes: Annotated[
        bool, typer.Option("--random-slopes", help="Random actor and partner slopes.")
    ] = False,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Further fixed predictor; repeat for more."),
    ] = None,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Run :func:`dyadlab.diary` on a data file and print the result."""
    from dyadlab.exceptions import OptionError
    from dyadlab.io import read_table
    from dyadlab.models.diary import diary

    for value, flag, what in (
        (y, "--y", "the outcome column"),
        (x, "--x", "the daily predictor column"),
        (dyad, "--dyad", "the dyad id column"),
        (person, "--person", "the person id column"),
        (time, "--time", "the occasion (day) column"),
    ):
        if not value:
            raise OptionError(f"diary: {flag} is required; name {what}.")
    if role and indistinguishable:
        raise OptionError(
            "diary: --role and --indistinguishable exclude each other; give one of them."
        )
    if not role and not indistinguishable:
        raise OptionError(
            "diary: give --role COLUMN for distinguishable dyads or --indistinguishable."
        )
    assert y is not None and x is not None and dyad is not None  # checked above
    assert person is not None and time is not None
    frame = read_table(data)
    result = diary(
        frame,
        y=y,
        x=x,
        dyad=dyad,
        person=person,
        time=time,
        role=role,
        center=center,
        residual=residual,
        random_slopes=random_slopes,
        method=method.upper(),
        covariates=covariate or None,
        level=level,
    )
    typer.echo(result.to_json() if as_json else result.summary())
