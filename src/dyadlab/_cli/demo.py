"""``dyadlab demo``: a simulated couples' diary study, run on the platform and analysed.

What ``make demo`` runs. See :mod:`dyadlab.demo.run` for what happens.

Examples
--------
$ dyadlab demo --no-serve --out demo-output
$ dyadlab demo --no-serve --database-url postgresql+psycopg://postgres@127.0.0.1/dyadlab_demo
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = (
    "Run a simulated 28-day couples' diary study through the platform's HTTP API, export "
    "it, analyse it (nonindependence, APIM, diary APIM, truth and bias), write an HTML "
    "report, then serve the platform so you can look around."
)


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to ``app``."""
    app.command("demo", help=HELP)(demo_command)


def demo_command(
    out: Annotated[
        Path, typer.Option("--out", help="Output folder (database, export, report, figures).")
    ] = Path("demo-output"),
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the platform afterwards.")
    ] = True,
    couples: Annotated[int, typer.Option("--couples", help="Simulated couples.")] = 100,
    days: Annotated[int, typer.Option("--days", help="Diary days.")] = 28,
    port: Annotated[int, typer.Option("--port", help="Port for serving afterwards.")] = 8000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation.")] = 20261124,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="An empty database for the demo, e.g. PostgreSQL "
            "(postgresql+psycopg://user@host/dyadlab_demo); default a new SQLite file "
            "in --out. DYADLAB_DATABASE_URL is not read here: the demo fills the "
            "database with simulated couples and must never land in a real study's.",
        ),
    ] = None,
) -> None:
    """Run :func:`dyadlab.demo.run.run_demo`."""
    from dyadlab._validation import check_range
    from dyadlab.demo.run import run_demo

    check_range("--couples", couples, func="demo", low=2, high=1000)
    check_range("--days", days, func="demo", low=2, high=365)
    call = f"dyadlab demo --out {out} --couples {couples} --days {days} --seed {seed}"
    run_demo(
        out,
        couples=couples,
        days=days,
        serve=serve,
        port=port,
        rng=seed,
        call=call,
        database_url=database_url or None,
    )
