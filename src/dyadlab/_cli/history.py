"""``dyadlab history``: relationship histories from an episodes file.

Thin commands over :mod:`dyadlab.history`: each reads the episodes file (``person,
partner, type, start, end, start_precision, end_precision, certainty``), calls the
function and prints the summary, or with ``--json`` exactly one JSON object.

Examples
--------
$ dyadlab history sequences episodes.csv --unit month --until 2024-06-30 --json
$ dyadlab history wide episodes.csv --out sequences.csv
$ dyadlab history report episodes.csv --out history.html --clusters 3 --persons persons.csv
$ dyadlab history time-to-event episodes.csv --persons persons.csv --event first_romantic \\
      --by group --covariate group --json
$ dyadlab history qdpx episodes.csv --out notes.qdpx
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dyadlab._cli._common import JsonOption, print_result

HELP = "Relational and sexual histories: episodes → state sequences, exports, reports."

EpisodesFile = Annotated[
    Path,
    typer.Argument(
        help="Episodes file: person, partner, type, start, end, start_precision, "
        "end_precision, certainty (dates YYYY-MM-DD, YYYY-MM or YYYY; empty end = ongoing)."
    ),
]
UnitOption = Annotated[
    str, typer.Option("--unit", help="month (default), day, week, quarter or year.")
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until", help="Ongoing episodes run up to this day (YYYY-MM-DD); default today."
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``history`` command group to ``app``."""
    history_app = typer.Typer(name="history", help=HELP, no_args_is_help=True)
    history_app.command(
        "sequences", help="One state per month (or other unit) per person; overlaps combined."
    )(sequences_command)
    history_app.command("wide", help="The sequences as a TraMineR-compatible wide table.")(
        wide_command
    )
    history_app.command(
        "report", help="An HTML report: episodes by type, timelines, sequence index plot."
    )(report_command)
    history_app.command(
        "time-to-event",
        help="Age at a first episode: Kaplan–Meier, log-rank and Cox (needs --persons).",
    )(time_to_event_command)
    history_app.command("qdpx", help="The episodes' notes as a REFI-QDA project (.qdpx).")(
        qdpx_command
    )
    app.add_typer(history_app, name="history")


def sequences_command(
    episodes: EpisodesFile,
    unit: UnitOption = "month",
    until: UntilOption = None,
    min_certainty: Annotated[
        int | None,
        typer.Option("--min-certainty", help="Leave out episodes of a lower certainty (1–5)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.history.sequences` on an episodes file and print the result."""
    from dyadlab.history._sequences import sequences

    print_result(
        sequences,
        episodes,
        unit=unit,
        until=until,
        min_certainty=min_certainty,
        as_json=as_json,
    )


def wide_command(
    episodes: EpisodesFile,
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.")] = Path(
        "sequences.csv"
    ),
    unit: UnitOption = "month",
    until: UntilOption = None,
    align: Annotated[
        str,
        typer.Option("--align", help="calendar (a column per period) or start (t1, t2, …)."),
    ] = "calendar",
) -> None:
    """Write :func:`dyadlab.history.to_wide` of the sequences to a CSV file."""
    import warnings

    from dyadlab.exceptions import DyadlabWarning
    from dyadlab.history._sequences import sequences
    from dyadlab.history.wide import to_wide

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        result = sequences(episodes, unit=unit, until=until)
    wide = to_wide(result, align=align)
    wide.to_csv(out, index=False)
    for message in result.warnings:
        typer.echo(f"warning: {message}", err=True)
    typer.echo(f"wrote {out} ({len(wide)} persons, {wide.shape[1] - 2} {unit} columns)")


def report_command(
    episodes: EpisodesFile,
    out: Annotated[Path, typer.Option("--out", help="The HTML report to write.")] = Path(
        "history.html"
    ),
    unit: UnitOption = "month",
    until: UntilOption = None,
    clusters: Annotated[
        int | None,
        typer.Option("--clusters", help="Cluster the sequences (optimal matching) into K groups."),
    ] = None,
    persons: Annotated[
        Path | None,
        typer.Option("--persons", help="person, birth [, interview]: adds ages at first episodes."),
    ] = None,
    event: Annotated[
        str, typer.Option("--event", help="The milestone timed with --persons (first_<type>).")
    ] = "first_any",
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    figures: Annotated[
        Path | None, typer.Option("--figures", help="Folder for the figures as PNG and SVG.")
    ] = None,
) -> None:
    """Run :func:`dyadlab.report.history_report.write_history_report` on an episodes file."""
    import shlex
    import sys

    from dyadlab.exceptions import OptionError
    from dyadlab.report.history_report import write_history_report

    if clusters is not None and clusters < 1:
        raise OptionError(f"history report: --clusters must be 1 or more, got {clusters}.")
    call = "dyadlab " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if len(sys.argv) > 1 else ""
    path = write_history_report(
        episodes,
        out,
        unit=unit,
        until=until,
        clusters=clusters,
        persons=persons,
        event=event,
        title=title,
        data_path=episodes if episodes.is_file() else None,
        figures_dir=figures,
        call=call or f"dyadlab history report {episodes}",
    )
    typer.echo(f"Wrote {path}.")


def time_to_event_command(
    episodes: EpisodesFile,
    persons: Annotated[
        Path | None,
        typer.Option("--persons", help="person, birth [, interview, covariates] (required)."),
    ] = None,
    event: Annotated[
        str,
        typer.Option("--event", help="first_any (default) or first_<type>, e.g. first_romantic."),
    ] = "first_any",
    until: UntilOption = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Column of --persons: curves per group, log-rank.")
    ] = None,
    covariate: Annotated[
        list[str] | None,
        typer.Option("--covariate", help="Column of --persons for the Cox regression; repeat."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Time to the first episode (of a type): :func:`dyadlab.history.time_to_event` on the
    ages :func:`dyadlab.history.event_ages` gives."""
    from dyadlab._cli._common import require_options
    from dyadlab.history._describe import event_ages, first_episodes
    from dyadlab.history._survival import time_to_event
    from dyadlab.history.episodes import read_episodes

    require_options(
        "history time-to-event",
        [(persons, "--persons", "give the persons file (person, birth) to compute ages")],
    )
    ep = read_episodes(episodes, until=until)
    data = event_ages(first_episodes(ep), persons, event=event, until=ep.until)
    print_result(
        time_to_event,
        data,
        time="age",
        event="event",
        covariates=covariate or (),
        by=by,
        as_json=as_json,
    )


def qdpx_command(
    episodes: EpisodesFile,
    out: Annotated[Path, typer.Option("--out", help="The .qdpx file to write.")] = Path(
        "history_notes.qdpx"
    ),
    until: UntilOption = None,
) -> None:
    """Write :func:`dyadlab.history.to_qdpx` of the episodes' notes."""
    from dyadlab.history.qdpx import to_qdpx

    path = to_qdpx(episodes, out, until=until)
    typer.echo(f"Wrote {path}.")
