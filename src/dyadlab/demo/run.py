"""``dyadlab demo``: a couples' diary study run on the platform and analysed, end to end.

1. Simulate what 100 couples (man–woman couples with roles, and same-sex couples)
   will answer over 28 days (:mod:`dyadlab.demo.simulate_answers`).
2. Create a SQLite database in the output folder (or use an empty database named by
   ``database_url``, e.g. PostgreSQL), serve the platform on 127.0.0.1,
   log in as a researcher, create the study from the example protocol, invite the
   couples, and let every partner consent and answer through the HTTP API while the
   platform's clock moves from evening to evening (:mod:`dyadlab.demo.study`).
3. Export the data in individual format (the export service behind ``dyadlab export``).
4. Run the protocol's preregistered analysis plan on the export and write one HTML
   report with its figures as PNG and SVG (:mod:`dyadlab.demo.analyses`).
5. Unless ``serve=False``: serve the platform on the real clock and print the address
   and a researcher login, so the user can look around.

Examples
--------
>>> from dyadlab.demo.run import run_demo
>>> result = run_demo("demo-output", couples=8, days=5, serve=False)  # doctest: +SKIP
>>> result.report  # doctest: +SKIP
PosixPath('demo-output/report.html')
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dyadlab.demo.study import DEMO_EMAIL

__all__ = ["DemoResult", "run_demo"]

DB_NAME = "dyadlab.db"


@dataclass
class DemoResult:
    """What the demo made.

    Attributes
    ----------
    out : Path
        The output folder.
    database_url : str
    report : Path
        The HTML report.
    data : Path
        The exported individual-format data file.
    figures : Path
        Folder of the report's figures (PNG and SVG).
    study_id : int
    email, password : str
        The researcher login (the password is random, made for this run).
    timings : dict
        Seconds per stage.
    results : dict
        The fitted results by name.
    """

    out: Path
    database_url: str
    report: Path
    data: Path
    figures: Path
    study_id: int
    email: str
    password: str = field(repr=False)
    timings: dict[str, float] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    requests: int = 0


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the server); 0 where unknown."""
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def _fresh_database(out: Path) -> str:
    """The demo database in ``out``; a database left by an earlier demo run is replaced."""
    for suffix in ("", "-wal", "-shm"):
        (out / f"{DB_NAME}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{(out / DB_NAME).resolve()}"


def _check_empty(database_url: str) -> str:
    """``database_url`` if that database holds no study and no researcher account yet
    (it may be new, or migrated and empty); a readable error otherwise. The demo never
    empties a database it was given."""
    from sqlalchemy import func, inspect, select
    from sqlalchemy.engine import make_url

    from dyadlab.exceptions import DyadlabError
    from dyadlab.platform.db import make_engine
    from dyadlab.platform.tables import Researcher, Study

    shown = make_url(database_url).render_as_string(hide_password=True)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            names = set(inspect(conn).get_table_names())
            used = [
                f"{conn.execute(select(func.count()).select_from(table)).scalar_one()} "
                f"{table.__tablename__}"
                for table in (Study, Researcher)
                if table.__tablename__ in names
            ]
    except Exception as exc:
        raise DyadlabError(
            f"demo: cannot use the database {shown}: {str(exc).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    used = [u for u in used if not u.startswith("0 ")]
    if used:
        raise DyadlabError(
            f"demo: the database {shown} is not empty ({', '.join(used)}); give the demo "
            "a new database (e.g. `createdb dyadlab_demo`), or leave out --database-url "
            "to use SQLite in the output folder."
        )
    return database_url


def _progress(console: Any, quiet: bool) -> Any:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=quiet,
    )


def run_demo(
    out: str | Path = "demo-output",
    *,
    couples: int = 100,
    days: int = 28,
    serve: bool = True,
    port: int = 8000,
    rng: int = 20261124,
    workers: int | None = None,
    database_url: str | None = None,
    console: Any = None,
    quiet: bool = False,
    call: str | None = None,
) -> DemoResult:
    """Run the whole demo; see the module docstring.

    Parameters
    ----------
    out : path
        Output folder (made if needed): ``dyadlab.db``, ``data/`` (the export),
        ``report.html`` and ``figures/``.
    couples, days : int
        Simulated couples (at least 2) and diary days (at least 2).
    serve : bool
        Serve the platform afterwards until Ctrl+C.
    port : int
        Port for serving afterwards (a free one if it is taken).
    rng : int
        Seed of the simulation.
    workers : int, optional
        Server processes while the couples answer; default 2, or 1 for a small study
        (fewer than 1,000 answers), where starting a second process costs more than it
        saves.
    database_url : str, optional
        An empty database for the demo (SQLAlchemy URL, e.g.
        ``postgresql+psycopg://user@host/dyadlab_demo``); it must hold no study and no
        researcher yet. Default: a new SQLite file ``dyadlab.db`` in ``out`` (one left
        by an earlier run is replaced).
    console : rich.console.Console, optional
    quiet : bool
        No progress bars and no messages.
    call : str, optional
        The command line, for the report's footer.

    Returns
    -------
    DemoResult
    """
    from rich.console import Console

    from dyadlab.demo.analyses import demo_report
    from dyadlab.demo.simulate_answers import simulate_answers
    from dyadlab.demo.study import run_study

    console = console or Console()

    def say(text: str) -> None:
        if not quiet:
            console.print(text, soft_wrap=True)

    folder = Path(out).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    cpu_children0 = _children_cpu()
    database_url = _check_empty(database_url) if database_url else _fresh_database(folder)
    call = call or f"dyadlab demo --out {out} --couples {couples} --days {days}"
    with _progress(console, quiet) as bars:
        t = time.perf_counter()
        plan = simulate_answers(couples, days, rng=rng)
        timings["simulate"] = time.perf_counter() - t
        tasks = {
            "setup": bars.add_task("Starting the platform", total=1),
            "consent": bars.add_task("Partners consenting", total=2 * couples),
            "answers": bars.add_task(
                f"Answering {days} days over HTTP", total=len(plan.submissions)
            ),
        }

        def progress(stage: str, done: int, total: int) -> None:
            bars.update(tasks[stage], completed=done, total=total)

        if workers is None:
            workers = 2 if len(plan.submissions) >= 1000 else 1
        t = time.perf_counter()
        run, app = run_study(
            plan, database_url=database_url, workdir=folder, progress=progress, workers=workers
        )
        timings["platform"] = time.perf_counter() - t

        export_task = bars.add_task("Exporting (individual format)", total=1)
        t = time.perf_counter()
        files, n_rows = _export(app, run.study_id, folder / "data" / "diary.csv", run.end)
        bars.update(export_task, completed=1)
        timings["export"] = time.perf_counter() - t

        report_task = bars.add_task("Analyses and report", total=1)
        t = time.perf_counter()
        steps, text, listing = _study_plan(app, run.study_id, run.end, n_rows)
        report, analyses = demo_report(
            files["data"],
            files,
            out=folder / "report.html",
            plan=plan,
            requests=run.requests,
            call=call,
            steps=steps,
            plan_text=text,
            plan_listing=listing,
            figures_dir=folder / "figures",
        )
        bars.update(report_task, completed=1)
        timings["report"] = time.perf_counter() - t
    app.state.engine.dispose()
    timings["total"] = time.perf_counter() - t0
    timings["cpu_demo"] = time.process_time() - cpu0
    timings["cpu_server"] = _children_cpu() - cpu_children0
    result = DemoResult(
        out=folder,
        database_url=database_url,
        report=report,
        data=files["data"],
        figures=folder / "figures",
        study_id=run.study_id,
        email=DEMO_EMAIL,
        password=run.password,
        timings=timings,
        results=analyses.results,
        requests=run.requests,
    )
    say(
        f"\n[bold]Done in {timings['total']:.1f} s[/bold] ({run.requests} HTTP requests; "
        f"platform {timings['platform']:.1f} s, report {timings['report']:.1f} s; CPU "
        f"{timings['cpu_demo']:.1f} s here and {timings['cpu_server']:.1f} s in the server)."
    )
    say(f"  Report:  {report.resolve()}")
    say(f"  Data:    {files['data'].resolve()} (+ codebook and compliance files)")
    say(f"  Figures: {result.figures.resolve()}")
    if serve:  # the login is only of use while the platform runs
        say(f"  Researcher login: {DEMO_EMAIL}  password: {run.password}  (shown once)")
        _serve(result, port, console, quiet)
    return result


def _export(app: Any, study_id: int, out: Path, now: Any) -> tuple[dict[str, Path], int]:
    from dyadlab.platform.services.export import export_study

    out.parent.mkdir(parents=True, exist_ok=True)
    with app.state.sessionmaker() as session:
        result = export_study(session, study_id, layout="individual", out=out, now=now)
        session.commit()
    files = {"data": out}
    for path in result.files[1:]:
        files[path.stem.removeprefix(f"{out.stem}_")] = path
    return files, result.n_rows


def _study_plan(app: Any, study_id: int, now: Any, n_rows: int) -> tuple[list[Any], str, str]:
    """The study's analysis plan as report steps, the text naming its protocol hash, and
    the plan as written."""
    from dyadlab.platform.services.analyses import plan_listing, plan_steps, plan_text
    from dyadlab.platform.services.studies import get_study, study_protocol

    with app.state.sessionmaker() as session:
        study = get_study(session, study_id)
        protocol = study_protocol(study)
        return plan_steps(protocol), plan_text(study, now, n_rows), plan_listing(protocol)


def _serve(result: DemoResult, port: int, console: Any, quiet: bool) -> None:
    import secrets

    from dyadlab.demo.server import ServerProcess, free_port

    try:
        server = ServerProcess(
            database_url=result.database_url,
            secret_key=secrets.token_urlsafe(32),
            port=port,
            workers=1,
        )
        server.start()
    except RuntimeError:
        server = ServerProcess(
            database_url=result.database_url,
            secret_key=secrets.token_urlsafe(32),
            port=free_port(),
            workers=1,
        )
        server.start()
    if not quiet:
        console.print(
            f"\n[bold]The platform is running at {server.url}/[/bold] — log in at "
            f"{server.url}/r/login with {result.email} and the password above. "
            "Press Ctrl+C to stop.",
            soft_wrap=True,
        )
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
