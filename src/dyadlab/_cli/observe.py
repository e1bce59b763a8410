"""``dyadlab observe``: agreement, ICCs and sequential analysis of coded interaction.

Thin commands over :func:`dyadlab.observe.agreement`, :func:`dyadlab.observe.icc` and
:func:`dyadlab.observe.sequential`: each reads the data file, calls the function and
prints the summary, or with ``--json`` exactly one JSON object.

Examples
--------
$ dyadlab observe agreement codes.csv --unit second --coder coder --code code \\
      --method krippendorff --level nominal --json
$ dyadlab observe icc ratings.csv --target couple --rater coder --value warmth
$ dyadlab observe sequential events.csv --session couple --code code --order onset --lag 1
$ dyadlab observe sequential events.csv --session couple --code code --structural-zeros diagonal
"""

from __future__ import annotations

from typing import Annotated

import typer

from dyadlab._cli._common import DataFile, JsonOption, print_result, require_options

HELP = "Observed interaction: coders' agreement, ICCs, lag-sequential analysis."


def register(app: typer.Typer) -> None:
    """Add the ``observe`` command group to ``app``."""
    observe_app = typer.Typer(name="observe", help=HELP, no_args_is_help=True)
    observe_app.command(
        "agreement", help="Cohen's, Fleiss' kappa, Gwet's AC1 or Krippendorff's alpha."
    )(agreement_command)
    observe_app.command("icc", help="Shrout & Fleiss' six intraclass correlations.")(icc_command)
    observe_app.command(
        "sequential", help="Lag-sequential tables per session and pooled (as GSEQ)."
    )(sequential_command)
    app.add_typer(observe_app, name="observe")


def agreement_command(
    data: DataFile,
    unit: Annotated[str | None, typer.Option("--unit", help="Unit column (required).")] = None,
    coder: Annotated[str | None, typer.Option("--coder", help="Coder column (required).")] = None,
    code: Annotated[str | None, typer.Option("--code", help="Code column (required).")] = None,
    method: Annotated[
        str, typer.Option("--method", help="cohen, fleiss, gwet or krippendorff.")
    ] = "cohen",
    level: Annotated[
        str, typer.Option("--level", help="nominal, ordinal, interval or ratio.")
    ] = "nominal",
    weights: Annotated[
        str | None, typer.Option("--weights", help="linear or quadratic (Cohen).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.observe.agreement` on a data file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.observe._agreement import agreement

    require_options(
        "observe agreement",
        [
            (unit, "--unit", "name the unit column"),
            (coder, "--coder", "name the coder column"),
            (code, "--code", "name the code column"),
        ],
    )
    frame = read_table(data)
    print_result(
        agreement,
        frame,
        unit=unit,
        coder=coder,
        code=code,
        method=method,
        level=level,
        weights=weights,
        as_json=as_json,
    )


def icc_command(
    data: DataFile,
    target: Annotated[
        str | None, typer.Option("--target", help="Target column (required).")
    ] = None,
    rater: Annotated[str | None, typer.Option("--rater", help="Rater column (required).")] = None,
    value: Annotated[str | None, typer.Option("--value", help="Rating column (required).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.observe.icc` on a data file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.observe._icc import icc

    require_options(
        "observe icc",
        [
            (target, "--target", "name the column of what is rated"),
            (rater, "--rater", "name the rater column"),
            (value, "--value", "name the rating column"),
        ],
    )
    print_result(icc, read_table(data), target=target, rater=rater, value=value, as_json=as_json)


def sequential_command(
    data: DataFile,
    session: Annotated[
        str | None, typer.Option("--session", help="Session column (required).")
    ] = None,
    code: Annotated[str | None, typer.Option("--code", help="Code column (required).")] = None,
    order: Annotated[
        str | None, typer.Option("--order", help="Column ordering events in a session.")
    ] = None,
    lag: Annotated[int, typer.Option("--lag", help="Lag in events.")] = 1,
    structural_zeros: Annotated[
        str | None,
        typer.Option(
            "--structural-zeros",
            help="Cells that cannot occur: 'diagonal' (codes never repeat) or "
            "'GIVEN->TARGET,GIVEN->TARGET'.",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.observe.sequential` on a data file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.observe._sequential import sequential

    require_options(
        "observe sequential",
        [
            (session, "--session", "name the session column"),
            (code, "--code", "name the code column"),
        ],
    )
    print_result(
        sequential,
        read_table(data),
        session=session,
        code=code,
        order=order,
        lag=lag,
        structural_zeros=parse_structural_zeros(structural_zeros),
        as_json=as_json,
    )


def parse_structural_zeros(text: str | None) -> str | list[tuple[str, str]] | None:
    """``"diagonal"`` or ``"a->b,c->d"`` → the ``structural_zeros`` argument.

    Examples
    --------
    >>> parse_structural_zeros("Ho->Ho, W+->W+")
    [('Ho', 'Ho'), ('W+', 'W+')]
    """
    from dyadlab.exceptions import OptionError

    if text is None or text.strip() == "diagonal":
        return None if text is None else "diagonal"
    pairs = []
    for item in text.split(","):
        given, sep, target = item.strip().partition("->")
        if not sep or not given.strip() or not target.strip():
            raise OptionError(
                f"observe sequential: --structural-zeros item {item.strip()!r} must be "
                "GIVEN->TARGET (e.g. 'a->a,b->b') or the word diagonal."
            )
        pairs.append((given.strip(), target.strip()))
    return pairs
