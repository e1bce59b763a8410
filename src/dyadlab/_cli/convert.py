"""``dyadlab convert``: reshape a data file between individual, pairwise and dyad format.

A thin command over :mod:`dyadlab.data.convert`: it reads the file (format by
extension), converts and writes the result (format by the output's extension).

Examples
--------
$ dyadlab convert couples.csv couples_wide.parquet --to dyad --dyad cuplid --role gender
dyadlab: wrote 148 rows × 15 columns (dyad format) to couples_wide.parquet
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # pandas loads when the command runs, not at start-up
    import pandas as pd

HELP = (
    "Reshape couples' data: individual (one row per person) ⇄ pairwise (plus partner "
    "columns) ⇄ dyad (one row per couple). Formats follow the file extensions."
)

LAYOUTS = ("individual", "pairwise", "dyad")


def register(app: typer.Typer) -> None:
    """Add the ``convert`` command to ``app``."""
    app.command("convert", help=HELP)(convert_command)


def convert_command(
    source: Annotated[Path, typer.Argument(help="Data file to read (.csv, .parquet, .sav, …).")],
    target: Annotated[Path, typer.Argument(help="File to write; its extension sets the format.")],
    to: Annotated[
        str | None, typer.Option("--to", help="Layout to write: individual, pairwise or dyad.")
    ] = None,
    from_: Annotated[
        str,
        typer.Option("--from", help="Layout of the input: individual (default), pairwise, dyad."),
    ] = "individual",
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id column.")] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Column whose two values distinguish the partners."),
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion column (diary data).")
    ] = None,
    suffix: Annotated[
        str, typer.Option("--suffix", help="Suffix of the partner columns (pairwise).")
    ] = "_partner",
) -> None:
    """Convert ``source`` to the layout ``--to`` and write it to ``target``."""
    from dyadlab._validation import check_option
    from dyadlab.data import from_dyad, from_pairwise, to_dyad, to_pairwise
    from dyadlab.exceptions import OptionError
    from dyadlab.io import read_table, write_table

    if to is None:
        raise OptionError("convert: --to is required; choose individual, pairwise or dyad.")
    check_option("--to", to, LAYOUTS, func="convert")
    check_option("--from", from_, LAYOUTS, func="convert")
    if not dyad:
        raise OptionError("convert: --dyad is required; name the dyad id column.")
    frame = read_table(source)
    if from_ == "pairwise":
        individual = from_pairwise(
            frame, dyad=dyad, person=person, role=role, time=time, suffix=suffix
        )
    elif from_ == "dyad":
        individual = from_dyad(frame, dyad=dyad, person=person, role=role, time=time)
    else:
        individual = frame
    result: pd.DataFrame
    if to == "pairwise":
        result = to_pairwise(
            individual, dyad=dyad, person=person, role=role, time=time, suffix=suffix
        )
    elif to == "dyad":
        result = to_dyad(individual, dyad=dyad, person=person, role=role, time=time)
    else:
        from dyadlab.data.checks import check_dyads, check_keys, check_not_empty

        check_not_empty(individual, func="convert")
        check_keys(individual, dyad=dyad, person=person, role=role, time=time, func="convert")
        check_dyads(
            individual, dyad=dyad, person=person, time=time, allow_incomplete=True, func="convert"
        )
        result = individual
    result.attrs.clear()  # labels of the input no longer match the reshaped columns
    write_table(result, target)
    rows, columns = result.shape
    typer.echo(f"dyadlab: wrote {rows} rows × {columns} columns ({to} format) to {target}")
