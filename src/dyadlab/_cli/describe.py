"""``dyadlab describe``: dyads, persons, roles, occasions and missing values of a data file.

Prints Rich tables for people, or with ``--json`` exactly one JSON object (the
:meth:`~dyadlab.data.describe.Description.to_dict` of :meth:`DyadicData.describe`).

Examples
--------
$ dyadlab describe couples.csv --dyad cuplid --role gender --json
{"n_dyads": 148, "n_persons": 296, "n_obs": 296, ...}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from dyadlab.data.describe import Description

HELP = (
    "Describe couples' data in individual format: dyads, persons, roles, composition, "
    "occasions per person, and missing values per variable and per dyad."
)


def register(app: typer.Typer) -> None:
    """Add the ``describe`` command to ``app``."""
    app.command("describe", help=HELP)(describe_command)


def describe_command(
    data: Annotated[
        Path, typer.Argument(help="Data file in individual format (one row per person).")
    ],
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id column.")] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Column whose two values distinguish the partners."),
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion column (diary data).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of tables.")
    ] = False,
) -> None:
    """Describe the dyadic structure of a data file."""
    from dyadlab import __version__
    from dyadlab.data import DyadicData
    from dyadlab.exceptions import OptionError
    from dyadlab.io import read_table

    if not dyad:
        raise OptionError("describe: --dyad is required; name the dyad id column.")
    frame = read_table(data)
    info = DyadicData(
        frame, dyad=dyad, person=person, role=role, time=time, allow_incomplete=True
    ).describe()
    if as_json:
        payload = {"dyadlab_version": __version__, **info.to_dict()}
        typer.echo(json.dumps(payload, default=str))
    else:
        _print_tables(info, title=str(data))


def _print_tables(info: Description, *, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    overview = Table(title=f"Dyadic data: {title}", show_header=False)
    overview.add_column("what", style="bold")
    overview.add_column("value")
    keys = ", ".join(
        f"{name}={col}"
        for name, col in (
            ("dyad", info.dyad),
            ("person", info.person),
            ("role", info.role),
            ("time", info.time),
        )
        if col is not None
    )
    overview.add_row("columns", keys)
    overview.add_row("dyads", str(info.n_dyads))
    overview.add_row("persons", str(info.n_persons))
    overview.add_row("rows", str(info.n_obs))
    overview.add_row("distinguishable", info.distinguishability)
    if info.persons_per_role:
        overview.add_row(
            "persons per role", ", ".join(f"{r}: {n}" for r, n in info.persons_per_role.items())
        )
    overview.add_row("composition", ", ".join(f"{c}: {n}" for c, n in info.composition.items()))
    if info.occasions is not None:
        occ = info.occasions
        overview.add_row(
            "occasions per person",
            f"min {occ['min']:g}, median {occ['median']:g}, max {occ['max']:g}",
        )
    worst = ", ".join(f"{d['dyad']} ({d['n_missing']})" for d in info.missing_worst_dyads)
    overview.add_row(
        "dyads with missing values",
        f"{info.n_dyads_with_missing}" + (f"; most: {worst}" if worst else ""),
    )
    console.print(overview)
    if info.variables:
        missing = Table(title="Missing values per variable")
        missing.add_column("variable")
        missing.add_column("missing", justify="right")
        missing.add_column("%", justify="right")
        for variable in info.variables:
            n = info.missing_by_variable.get(variable, 0)
            missing.add_row(variable, str(n), f"{100 * n / max(info.n_obs, 1):.1f}")
        console.print(missing)
