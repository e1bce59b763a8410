"""``dyadlab demo`` on PostgreSQL: the whole demo (4 couples x 3 days) in a new database.

The database is created for the test and dropped after it. Skipped only when PostgreSQL
(``DYADLAB_TEST_POSTGRES_URL``) is down and ``DYADLAB_REQUIRE_SERVICES`` is unset, as
the platform tests are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("fastapi")

from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from dyadlab.cli import main
from tests.platform.conftest import POSTGRES_URL, _require_postgres


@pytest.fixture
def demo_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database (dropped after the test)."""
    _require_postgres()
    url = make_url(POSTGRES_URL)
    name = f"dyadlab_demo_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_demo_runs_on_postgresql(demo_database: str, tmp_path: Path, capsys) -> None:
    from dyadlab.platform.tables import Couple, Person, Response, Study

    out = tmp_path / "demo"
    args = ["demo", "--no-serve", "--out", str(out), "--couples", "4", "--days", "3"]
    assert main([*args, "--database-url", demo_database]) == 0, capsys.readouterr().err
    assert not (out / "dyadlab.db").exists()  # nothing went to SQLite
    data = pd.read_csv(out / "data" / "diary.csv")
    assert data["dyad"].nunique() == 4 and len(data) == 4 * 2 * 3
    assert {"completed", "missed"} & set(data["status"])
    assert (out / "report.html").is_file()
    engine = create_engine(demo_database)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Study)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(Couple)).scalar_one() == 4
        assert conn.execute(select(func.count()).select_from(Person)).scalar_one() == 8
        stored = conn.execute(select(func.count()).select_from(Response)).scalar_one()
    engine.dispose()
    answered = int((data["status"] != "missed").sum())
    events = (
        pd.read_csv(out / "data" / "diary_events.csv")
        if (out / "data" / "diary_events.csv").exists()
        else pd.DataFrame()
    )
    assert stored == answered + len(events)  # every answer went into PostgreSQL
    capsys.readouterr()
    # A second run refuses the database it filled, and says what to do.
    assert main([*args, "--database-url", demo_database]) == 1
    err = capsys.readouterr().err
    assert "is not empty (1 studies, 1 researchers)" in err and "createdb" in err


def test_demo_never_reads_the_database_from_the_environment(
    demo_database: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    """A DYADLAB_DATABASE_URL exported for a real study must not receive simulated couples."""
    monkeypatch.setenv("DYADLAB_DATABASE_URL", demo_database)
    args = ["demo", "--no-serve", "--out", str(tmp_path), "--couples", "2", "--days", "2"]
    assert main(args) == 0, capsys.readouterr().err
    assert (tmp_path / "dyadlab.db").exists()  # the demo's own SQLite file
    engine = create_engine(demo_database)
    try:
        with engine.connect() as conn:
            assert "studies" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()
