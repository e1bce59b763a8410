"""Benchmark: ``dyadlab export`` of a realistic study, per layout and file format.

Target (issue 5, item 5): a 500-couple, 28-day study exports in well under one second of
Python work per format.

What runs
---------
1. A study built through the platform's services, as the demo's participants would make
   it (:func:`dyadlab.demo.simulate_answers.simulate_answers`: man-woman couples with
   roles and same-sex couples without, missed prompts, late answers after midnight,
   ``after_sex`` event reports), each answer stored with
   :func:`~dyadlab.platform.services.responses.submit_response` at its simulated time;
   a reminder (``deliveries``) for about a third of the prompts; one person withdraws
   with deletion and one without. The SQLite database is kept in a cache folder
   (``--cache``, default the system's temporary folder) and reused by later runs; with
   ``--database-url`` the study is built once in that (empty) database instead.
2. :func:`~dyadlab.platform.services.export.export_study` for every layout
   (individual, pairwise, dyad) and file type (CSV, Parquet, SPSS ``.sav``),
   ``--repeat`` times each; the best and median wall times are printed, and the CPU
   time of the best run (``process_time``: the Python work, without waiting for the
   database server), with the parts of the individual export: loading, compliance,
   building the rows, writing.

Before and after (500 couples x 28 days, 27,972 rows, best of 3, this 2-core machine
shared with other work): the row-by-row export took 1.86-2.53 s per layout and file type
on SQLite (2.0-2.3 s on PostgreSQL); the vectorised one 0.59-0.89 s on SQLite
(0.59-0.92 s on PostgreSQL, of which 0.52-0.84 s CPU in this process)
(parts of the individual export: loading 0.30 s, compliance 0.08 s, rows 0.14 s, the
rest writing the files). With 100 couples: 0.44-0.53 s before, 0.18-0.27 s after.

Run: ``python benchmarks/platform_export.py`` (100 and 500 couples, 28 days) or
``python benchmarks/platform_export.py --couples 500 --repeat 5``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

LAYOUTS = ("individual", "pairwise", "dyad")
FILE_TYPES = (".csv", ".parquet", ".sav")
START = _dt.date(2026, 3, 1)
TZ = "Europe/Amsterdam"


def build_study(database_url: str, couples: int, days: int, *, seed: int = 7) -> tuple[int, Any]:
    """Create the demo's study with ``couples`` simulated couples in ``database_url``.

    Returns (study id, the moment of the export: after the last window closed).
    """
    import numpy as np

    from dyadlab.demo.simulate_answers import PROMPT_HOUR, simulate_answers, tick_times
    from dyadlab.demo.study import _invitation_roles, demo_protocol
    from dyadlab.platform.db import make_engine, make_sessionmaker, upgrade_database
    from dyadlab.platform.protocol import parse_protocol
    from dyadlab.platform.schedule import to_utc
    from dyadlab.platform.services.invitations import invite_couples
    from dyadlab.platform.services.responses import submit_response
    from dyadlab.platform.services.studies import create_study
    from dyadlab.platform.services.withdrawal import withdraw
    from dyadlab.platform.tables import Delivery, Person

    plan = simulate_answers(couples, days, rng=seed)
    engine = make_engine(database_url)
    upgrade_database(engine)
    rng = np.random.default_rng(seed)
    with make_sessionmaker(engine)() as session:
        study = create_study(session, parse_protocol(demo_protocol(days)))
        made = invite_couples(
            session,
            study.id,
            couples,
            base_url="http://127.0.0.1",
            start_date=START,
            tz=TZ,
            roles=_invitation_roles(plan),
        )
        ids = [(c.partners[0].person_id, c.partners[1].person_id) for c in made]
        persons = {p.id: p for p in session.query(Person).all()}
        for person in persons.values():
            person.status, person.consent_version = "active", 1
        session.commit()
        for n, s in enumerate(plan.submissions):
            person = persons[ids[s.couple][s.partner]]
            local = _dt.datetime.combine(START + _dt.timedelta(days=s.day - 1), _dt.time())
            finished = to_utc(
                local + _dt.timedelta(hours=PROMPT_HOUR, minutes=s.finished_minutes), TZ
            )
            submit_response(
                session,
                person,
                submission_id=uuid.uuid4(),
                questionnaire=s.questionnaire,
                answers=s.answers,
                finished_at=finished,
                now=tick_times(START, s.day, TZ)[s.tick],
            )
            if n % 500 == 499:
                session.commit()
        session.commit()
        for day in range(1, days + 1):
            for pair in ids:
                for person_id in pair:
                    if rng.random() < 1 / 3:
                        due = tick_times(START, day, TZ)[0] - _dt.timedelta(hours=1)
                        session.add(
                            Delivery(
                                person_id=person_id,
                                prompt_key=f"evening:d{day}:p1",
                                offset_minutes=60,
                                due_utc=due,
                                sent_utc=due + _dt.timedelta(seconds=20),
                                status="sent",
                            )
                        )
        session.commit()
        end = tick_times(START, days, TZ)[2] + _dt.timedelta(hours=12)
        last_week = tick_times(START, max(1, days - 7), TZ)[0]
        withdraw(session, persons[ids[0][1]], delete_data=True, now=last_week)
        withdraw(session, persons[ids[-1][0]], delete_data=False, now=last_week)
        session.commit()
        study_id = int(study.id)
    engine.dispose()
    return study_id, end


def _cached_study(cache: Path, couples: int, days: int, rebuild: bool) -> tuple[str, int, Any]:
    from dyadlab.demo.simulate_answers import tick_times

    path = cache / f"dyadlab-export-bench-{couples}x{days}.db"
    url = f"sqlite:///{path}"
    if rebuild or not path.is_file():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        t = time.perf_counter()
        partial = path.with_suffix(".partial.db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        build_study(f"sqlite:///{partial}", couples, days)
        partial.rename(path)
        print(f"built {couples} couples x {days} days in {time.perf_counter() - t:.0f} s: {path}")
    end = tick_times(START, days, TZ)[2] + _dt.timedelta(hours=12)
    return url, 1, end


def time_exports(
    database_url: str, study_id: int, now: Any, *, repeat: int, out: Path
) -> list[dict[str, Any]]:
    """Export every layout and file type ``repeat`` times; one row of figures each."""
    from dyadlab.platform.db import make_engine, make_sessionmaker
    from dyadlab.platform.services.export import export_study

    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    rows = []
    for layout in LAYOUTS:
        for ext in FILE_TYPES:
            walls, cpus, n_rows = [], [], 0
            for _ in range(repeat):
                with factory() as session:
                    t, c = time.perf_counter(), time.process_time()
                    result = export_study(
                        session, study_id, layout=layout, out=out / f"x{ext}", now=now
                    )
                    walls.append(time.perf_counter() - t)
                    cpus.append(time.process_time() - c)
                    n_rows = result.n_rows
            best = min(range(repeat), key=walls.__getitem__)
            rows.append(
                {
                    "layout": layout,
                    "file": ext,
                    "rows": n_rows,
                    "best_s": walls[best],
                    "median_s": statistics.median(walls),
                    "cpu_s": cpus[best],
                }
            )
    engine.dispose()
    return rows


def time_parts(database_url: str, study_id: int, now: Any, *, repeat: int) -> dict[str, float]:
    """Best seconds of each part of an individual export (without writing files)."""
    from dyadlab.platform.db import make_engine, make_sessionmaker
    from dyadlab.platform.services._export_rows import build_individual, load_tables
    from dyadlab.platform.services.compliance import _reminder_counts, compute_compliance
    from dyadlab.platform.services.studies import get_study, study_protocol

    engine = make_engine(database_url)
    best: dict[str, float] = {}

    def keep(name: str, t: float) -> None:
        best[name] = min(best.get(name, float("inf")), time.perf_counter() - t)

    for _ in range(repeat):
        with make_sessionmaker(engine)() as session:
            t = time.perf_counter()
            protocol = study_protocol(get_study(session, study_id))
            tables = load_tables(session, study_id)
            reminders = _reminder_counts(session, study_id)
            keep("load", t)
            t = time.perf_counter()
            _, merged = compute_compliance(
                protocol, tables.persons, tables.responses, reminders, now=now
            )
            keep("compliance", t)
            t = time.perf_counter()
            build_individual(protocol, tables, merged)
            keep("rows", t)
    engine.dispose()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--couples", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--rebuild", action="store_true", help="build the cached study again")
    parser.add_argument(
        "--database-url", help="build the study in this empty database instead (one size)"
    )
    args = parser.parse_args(argv)
    for couples in args.couples:
        if args.database_url:
            study_id, now = build_study(args.database_url, couples, args.days)
            url = args.database_url
        else:
            url, study_id, now = _cached_study(args.cache, couples, args.days, args.rebuild)
        with tempfile.TemporaryDirectory() as tmp:
            rows = time_exports(url, study_id, now, repeat=args.repeat, out=Path(tmp))
        parts = time_parts(url, study_id, now, repeat=args.repeat)
        backend = url.split(":", 1)[0]
        print(f"\n{couples} couples x {args.days} days ({backend}), best of {args.repeat}:")
        print(f"  {'layout':<11}{'file':<9}{'rows':>7}{'best s':>9}{'median s':>10}{'CPU s':>8}")
        for r in rows:
            print(
                f"  {r['layout']:<11}{r['file']:<9}{r['rows']:>7}{r['best_s']:>9.3f}"
                f"{r['median_s']:>10.3f}{r['cpu_s']:>8.3f}"
            )
        print("  individual, parts: " + ", ".join(f"{k} {v:.3f} s" for k, v in parts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
