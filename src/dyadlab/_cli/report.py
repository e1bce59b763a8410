"""``dyadlab report``: one self-contained HTML report of the analyses that fit the data.

A thin command over :func:`dyadlab.report.analysis.write_analysis_report`: it reads the
data file (individual format), runs nonindependence, the APIM (or, with ``--time``, the
APIM on person means and the diary APIM) and, with ``--judgment`` and ``--truth``, the
truth-and-bias model, and writes the report with its figures. The report states
dyadlab's version, the data file's SHA-256, this command and the date.

Examples
--------
$ dyadlab report diary.csv --dyad dyad --person person --role role --time diary_day \
      --y relationship_satisfaction --x desire --x conflict \
      --judgment partner_desire --truth desire --out report.html
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Write a report of the dyadic analyses that fit a data file (nonindependence, APIM, "
    "diary APIM, truth and bias): APA tables, figures (PNG, SVG, PDF), methods paragraphs; "
    "as self-contained HTML, Word (.docx), LaTeX or Markdown."
)


def register(app: typer.Typer) -> None:
    """Add the ``report`` command to ``app``."""
    app.command("report", help=HELP)(report_command)


def report_command(
    data: Annotated[Path, typer.Argument(help="Data file in individual format.")],
    dyad: Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")] = None,
    out: Annotated[
        Path, typer.Option("--out", help="The report to write (.html, .docx, .tex or .md).")
    ] = Path("report.html"),
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="html, docx (Word tables), tex (LaTeX, booktabs) or md; default from the "
            "suffix of --out.",
        ),
    ] = None,
    person: Annotated[str | None, typer.Option("--person", help="Person id column.")] = None,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Column whose two values distinguish the members."),
    ] = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Occasion column (diary data).")
    ] = None,
    y: Annotated[str | None, typer.Option("--y", help="Outcome column.")] = None,
    x: Annotated[
        list[str] | None, typer.Option("--x", help="Predictor column; repeat for more.")
    ] = None,
    judgment: Annotated[
        str | None, typer.Option("--judgment", help="Judgment of the partner (truth and bias).")
    ] = None,
    truth: Annotated[
        str | None, typer.Option("--truth", help="The attribute as each person reports it.")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="Report title.")] = "dyadlab report",
    family: Annotated[
        str,
        typer.Option(
            "--family",
            help="Diary outcome: gaussian (default), binomial (0/1), poisson or "
            "negative_binomial (the dyadic GLMM instead of the diary APIM; needs --time).",
        ),
    ] = "gaussian",
    figures: Annotated[
        Path | None,
        typer.Option(
            "--figures", help="Folder for the figures (default: figures/ next to the report)."
        ),
    ] = None,
) -> None:
    """Run :func:`dyadlab.report.analysis.write_analysis_report` on a data file."""
    from dyadlab._cli._common import require_options
    from dyadlab.exceptions import DyadicDataError
    from dyadlab.io import read_table
    from dyadlab.report.analysis import write_analysis_report

    require_options("report", [(dyad, "--dyad", "name the dyad id column")])
    assert dyad is not None
    frame = read_table(data)
    call = "dyadlab " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if len(sys.argv) > 1 else ""
    from dyadlab.report.html import report_format

    kind = report_format(out, format.lower() if format else None)
    if format is not None and out.suffix.lower() in (".html", "") and kind != "html":
        out = out.with_suffix(f".{kind}")  # --format docx with the default --out
    figures_dir = figures or out.parent / "figures"  # the demo's name as well
    path, report = write_analysis_report(
        out,
        frame,
        data_path=data,
        call=call or f"dyadlab report {data}",
        title=title,
        figures_dir=figures_dir,
        dyad=dyad,
        person=person,
        role=role,
        time=time,
        y=y,
        x=x or None,
        judgment=judgment,
        truth=truth,
        family=family.lower(),
        format=kind,
    )
    if not report.results:
        why = next((s for s in report.sections if "Not fitted:" in s.text), None)
        first = (
            f" (first: {why.title}: {why.text.split('Not fitted:', 1)[1].strip()})" if why else ""
        )
        raise DyadicDataError(
            f"report: none of the analyses could be fitted{first}. {path} says why for each; "
            "check the columns named with --y, --x, --judgment and --truth."
        )
    fitted = ", ".join(report.results)
    typer.echo(f"Wrote {path} (analyses: {fitted}; figures in {figures_dir}).")
