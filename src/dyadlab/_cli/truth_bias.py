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

from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Truth and bias model (West & Kenny 2011): how strongly judgments of the partner "
    "follow the partner's own report (truth force), the judge's own report (assumed "
    "similarity), and how far they are off on average (directional bias)."
)


def register(app: typer.Typer) -> None:
    """Add the ``truth-bias`` command to ``app``."""
    app.command("truth-bias", help=HELP)(truth_bias_command)


def truth_bias_command(
    data: Annotated[
        Path, typer.Argument(help="Data file in individual format (one row per person-occasion).")
    ],
    judgment: Annotated[
        str | None, typer.Option("--judgment", help="The judgment of the partner (required).")
    ] = None,
    truth: Annotated[
        str | None,
        typer.Option("--truth", help="The same attribute reported about oneself (required)."),
    ] = None,
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id column.")] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion (day) or item column.")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Column whose two values distinguish the partners."),
    ] = None,
    indistinguishable: Annotated[
        bool,
        typer.Option("--indistinguishable", help="Treat the members as interchangeable."),
    ] = False,
    moderator: Annotated[
        list[str] | None,
        typer.Option("--moderator", help="Moderator of bias, truth and similarity; repeatable."),
    ] = None,
    method: Annotated[str, typer.Option("--method", help="REML (default) or ML.")] = "REML",
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of a table.")
    ] = False,
) -> None:
    """Run :func:`dyadlab.truth_bias` on a data file and print the result."""
    import warnings

    from dyadlab.exceptions import DyadlabWarning, OptionError
    from dyadlab.io import read_table
    from dyadlab.models.truth_bias import truth_bias

    # checked here rather than by the parser, so that a forgotten option gets the
    # one-line error (exit 2) of every other usage error
    if not judgment:
        raise OptionError("truth-bias: --judgment is required; name the judgment column.")
    if not truth:
        raise OptionError("truth-bias: --truth is required; name the self-report column.")
    if not dyad:
        raise OptionError("truth-bias: --dyad is required; name the dyad id column.")
    if role and indistinguishable:
        raise OptionError(
            "truth-bias: --role and --indistinguishable exclude each other; give one of them."
        )
    if not role and not indistinguishable:
        raise OptionError(
            "truth-bias: give --role COLUMN for distinguishable dyads or --indistinguishable."
        )
    if method not in ("REML", "ML"):
        raise OptionError(f"truth-bias: --method must be 'REML' or 'ML', got {method!r}.")
    frame = read_table(data)
    with warnings.catch_warnings():
        # the warnings are part of the result (its summary and JSON)
        warnings.simplefilter("ignore", DyadlabWarning)
        result = truth_bias(
            frame,
            judgment=judgment,
            truth=truth,
            dyad=dyad,
            person=person,
            time=time,
            role=role,
            moderators=moderator or None,
            method=method,
            level=level,
        )
    typer.echo(result.to_json() if as_json else result.summary())
