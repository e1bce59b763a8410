"""Fixtures for the platform tests: every test gets its own database.

``database_url`` is parametrised over SQLite (a file in ``tmp_path``) and PostgreSQL (a
fresh schema in ``DYADLAB_TEST_POSTGRES_URL``, dropped afterwards). PostgreSQL tests are
skipped only when the server is down and ``DYADLAB_REQUIRE_SERVICES`` is unset; in CI it
is set, so a missing server fails the run.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from dyadlab.platform.db import make_engine, make_sessionmaker, upgrade_database

POSTGRES_URL = os.environ.get(
    "DYADLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXAMPLE_PROTOCOL = Path(__file__).resolve().parents[2] / "src/dyadlab/examples/daily_diary.yaml"
SHARED_PROTOCOL = Path(__file__).resolve().parents[3] / "shared/examples/daily_diary.yaml"


@functools.cache
def _postgres_error() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # the server is down or unreachable
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def _require_postgres() -> None:
    error = _postgres_error()
    if error is None:
        return
    if os.environ.get("DYADLAB_REQUIRE_SERVICES"):
        pytest.fail(f"PostgreSQL is required (DYADLAB_REQUIRE_SERVICES) but down: {error}")
    pytest.skip(f"PostgreSQL is not available at {POSTGRES_URL}: {error}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections use a fresh schema of their own (dropped after the test)."""
    _require_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dyadlab-test.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated (``head``) database."""
    eng = make_engine(database_url)
    upgrade_database(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database (closed after the test)."""
    factory = make_sessionmaker(engine)
    with factory() as sess:
        yield sess


@pytest.fixture
def protocol_path() -> Path:
    """The example daily-diary protocol shipped with the package (or the shared copy)."""
    return EXAMPLE_PROTOCOL if EXAMPLE_PROTOCOL.exists() else SHARED_PROTOCOL
