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

from typing import Annotated

import typer

from dyadlab._cli._common import (
    DataFile,
    DyadOption,
    EstimatorOption,
    IndistinguishableOption,
    JsonOption,
    LevelOption,
    MethodAlias,
    RoleOption,
    check_role_choice,
    estimator_flag,
    print_result,
    require_options,
)

HELP = (
    "Dyadic diary model (two-intercept multilevel APIM) equal to nlme::lme: actor and "
    "partner effects of a daily predictor, partners' correlated random intercepts, "
    "residuals correlated within a day (cs), AR(1) over days (ar1) or both (kronecker); "
    "--family binomial/poisson/negative_binomial: the dyadic GLMM equal to lme4::glmer."
)


def register(app: typer.Typer) -> None:
    """Add the ``diary`` command to ``app``."""
    app.command("diary", help=HELP)(diary_command)


def diary_command(
    data: DataFile,
    y: Annotated[str | None, typer.Option("--y", help="Outcome column (required).")] = None,
    x: Annotated[
        list[str] | None,
        typer.Option("--x", help="Daily predictor column (required); repeat for more."),
    ] = None,
    dyad: DyadOption = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Person id column (required).")
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion (day) column (required).")
    ] = None,
    role: RoleOption = None,
    indistinguishable: IndistinguishableOption = False,
    center: Annotated[
        str, typer.Option("--center", help="none, or person (within/between effects).")
    ] = "none",
    residual: Annotated[
        str, typer.Option("--residual", help="cs (default), ar1 or kronecker.")
    ] = "cs",
    estimator: EstimatorOption = "REML",
    random_slopes: Annotated[
        bool, typer.Option("--random-slopes", help="Random actor and partner slopes.")
    ] = False,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Further fixed predictor; repeat for more."),
    ] = None,
    family: Annotated[
        str,
        typer.Option(
            "--family", help="gaussian (default), binomial (0/1), poisson or negative_binomial."
        ),
    ] = "gaussian",
    nagq: Annotated[
        int,
        typer.Option("--nagq", help="GLMM: Gauss-Hermite nodes per random effect (1 = Laplace)."),
    ] = 1,
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
    method: MethodAlias = None,
) -> None:
    """Run :func:`dyadlab.diary` on a data file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.models.diary import diary

    require_options(
        "diary",
        [
            (y, "--y", "name the outcome column"),
            (x, "--x", "name the daily predictor column"),
            (dyad, "--dyad", "name the dyad id column"),
            (person, "--person", "name the person id column"),
            (time, "--time", "name the occasion (day) column"),
        ],
    )
    check_role_choice("diary", role=role, indistinguishable=indistinguishable)
    chosen = estimator_flag("diary", estimator, method)
    frame = read_table(data)
    print_result(
        diary,
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
        estimator=chosen,
        covariates=covariate or None,
        level=level,
        family=family.lower(),
        nagq=nagq,
        as_json=as_json,
    )
