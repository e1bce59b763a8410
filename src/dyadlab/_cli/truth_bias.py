"""``dyadlab truth-bias``: West & Kenny's truth and bias model from a data file.

A thin command over :func:`dyadlab.truth_bias`: it reads the data file (individual
format: one row per person, per person-occasion or per person-item), calls the function
and prints the result's summary, or with ``--json`` exactly one JSON object
(``result.to_json()``). Rows whose partner truth is missing are left out and counted in
the output (``n_excluded`` and ``warnings``).

Examples
--------
$ dyadlab truth-bias diary.csv --judgment partner_desire --truth desire --dyad couple \\
      --person person --time day --role gender --json
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
    PersonOption,
    RoleOption,
    check_role_choice,
    estimator_flag,
    print_result,
    require_options,
)

HELP = (
    "Truth and bias model (West & Kenny 2011): how strongly judgments of the partner "
    "follow the partner's own report (truth force), the judge's own report (assumed "
    "similarity), and how far they are off on average (directional bias)."
)


def register(app: typer.Typer) -> None:
    """Add the ``truth-bias`` command to ``app``."""
    app.command("truth-bias", help=HELP)(truth_bias_command)


def truth_bias_command(
    data: DataFile,
    judgment: Annotated[
        str | None, typer.Option("--judgment", help="The judgment of the partner (required).")
    ] = None,
    truth: Annotated[
        str | None,
        typer.Option("--truth", help="The same attribute reported about oneself (required)."),
    ] = None,
    dyad: DyadOption = None,
    person: PersonOption = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion (day) or item column.")
    ] = None,
    role: RoleOption = None,
    indistinguishable: IndistinguishableOption = False,
    moderator: Annotated[
        list[str] | None,
        typer.Option("--moderator", help="Moderator of bias, truth and similarity; repeatable."),
    ] = None,
    estimator: EstimatorOption = "REML",
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
    method: MethodAlias = None,
) -> None:
    """Run :func:`dyadlab.truth_bias` on a data file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.models.truth_bias import truth_bias

    require_options(
        "truth-bias",
        [
            (judgment, "--judgment", "name the judgment column"),
            (truth, "--truth", "name the self-report column"),
            (dyad, "--dyad", "name the dyad id column"),
        ],
    )
    check_role_choice("truth-bias", role=role, indistinguishable=indistinguishable)
    chosen = estimator_flag("truth-bias", estimator, method)
    frame = read_table(data)
    print_result(
        truth_bias,
        frame,
        judgment=judgment,
        truth=truth,
        dyad=dyad,
        person=person,
        time=time,
        role=role,
        moderators=moderator or None,
        estimator=chosen,
        level=level,
        as_json=as_json,
    )
