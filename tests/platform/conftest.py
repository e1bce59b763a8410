"""Fixtures for the platform tests: every test gets its own database.

``database_url`` is parametrised over SQLite (a file in ``tmp_path``) and PostgreSQL (a
fresh schema in ``DYADLAB_TEST_POSTGRES_URL``, dropped afterwards). PostgreSQL tests are
skipped only when the server is down and ``DYADLAB_REQUIRE_SERVICES`` is unset; in CI it
is set, so a missing server fails the run.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

with warnings.catch_warnings():
    # starlette >= 1.x prefers httpx2 for its test client; httpx works the same here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from dyadlab.platform.app import create_app
from dyadlab.platform.db import make_engine, make_sessionmaker, upgrade_database
from dyadlab.platform.protocol import load_protocol
from dyadlab.platform.services.invitations import invite_couples
from dyadlab.platform.services.researchers import create_researcher
from dyadlab.platform.services.studies import create_study
from dyadlab.platform.settings import Settings

POSTGRES_URL = os.environ.get(
    "DYADLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
EXAMPLE_PROTOCOL = Path(__file__).resolve().parents[2] / "src/dyadlab/examples/daily_diary.yaml"
SHARED_PROTOCOL = Path(__file__).resolve().parents[3] / "shared/examples/daily_diary.yaml"


def _create_test_database() -> None:
    """Create the test database (e.g. ``test``) through the ``postgres`` database."""
    url = make_url(POSTGRES_URL)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    except Exception as exc:
        if "already exists" not in str(exc):  # another test worker made it first
            raise
    finally:
        admin.dispose()


def _connect_once() -> None:
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


@functools.cache
def _postgres_error() -> str | None:
    try:
        try:
            _connect_once()
        except Exception as exc:
            if "does not exist" not in str(exc):
                raise
            _create_test_database()  # a fresh server: make the test database once
            _connect_once()
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
        # synchronous_commit=off: no fsync wait per commit (the tests need no durability)
        options = f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
        yield f"{POSTGRES_URL}{sep}options={options}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder for a test's SQLite file: in memory-backed /dev/shm when there is one
    (no fsync cost), else in ``tmp_path``."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = shm / f"dyadlab-test-{uuid.uuid4().hex}"
        folder.mkdir()
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database, SQLite or PostgreSQL."""
    if request.param == "sqlite":
        folder = request.getfixturevalue("sqlite_dir")
        return f"sqlite:///{folder / 'dyadlab-test.db'}"
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


class Clock:
    """A settable clock for the app (``app.state.clock``): aware UTC."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now = self.now + timedelta(**kwargs)


#: 20:30 in Amsterdam on diary day 3 of a couple starting 1 March 2026: the evening
#: questionnaire of the example protocol is open (20:00-24:00 local).
EVENING_DAY3 = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
START = date(2026, 3, 1)
TZ = "Europe/Amsterdam"
OWNER = ("owner@lab.example", "correct horse battery")
ANALYST = ("analyst@lab.example", "staple battery horse")


@pytest.fixture
def clock() -> Clock:
    """The app's clock, set to an open evening window (see ``EVENING_DAY3``)."""
    return Clock(EVENING_DAY3)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for a test app on the test database."""
    return Settings(
        database_url=database_url,
        base_url="http://testserver",
        secret_key="test-secret-" + "x" * 32,
    )


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Iterator[FastAPI]:
    """The platform app on a fresh, migrated database with a fixed clock."""
    application = create_app(settings, clock=clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An in-process HTTP client for ``app``."""
    with TestClient(app) as c:
        yield c


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    """A session on the app's database (for setting up and checking rows)."""
    with app.state.sessionmaker() as sess:
        yield sess


@dataclass
class Couple:
    """A study with one invited couple (tokens of partner A and B)."""

    study_id: int
    couple_id: int
    person_ids: tuple[int, int]
    tokens: tuple[str, str]

    def headers(self, which: int) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[which]}"}


def researcher_id(db: Session, who: tuple[str, str] = OWNER, role: str = "owner") -> int:
    """The id of the account ``who`` (e-mail, password), created with ``role`` if missing."""
    from sqlalchemy import select

    from dyadlab.platform.tables import Researcher

    found = db.scalars(select(Researcher.id).where(Researcher.email == who[0])).first()
    if found is None:
        found = create_researcher(db, who[0], who[1], role=role).id
        db.commit()
    return found


def add_member(db: Session, study_id: int, who: tuple[str, str], role: str) -> None:
    """Make the account ``who`` (created as an analyst account if missing) a member of
    ``study_id`` with study role ``role``."""
    from dyadlab.platform.services.access import add_member as add

    researcher_id(db, who, role="analyst")
    add(db, study_id, who[0], role)
    db.commit()


def make_study(
    db: Session,
    protocol_file: Path,
    *,
    couples: int = 1,
    members: dict[tuple[str, str], str] | None = None,
) -> list[Couple]:
    """Create the example study with ``couples`` couples starting on ``START``.

    Its creator and owner is the ``OWNER`` account (created if missing); ``members``
    adds other accounts with their study roles, e.g. ``{ANALYST: "analyst"}``.
    """
    study = create_study(db, load_protocol(protocol_file), created_by=researcher_id(db))
    made = invite_couples(
        db, study.id, couples, base_url="http://testserver", start_date=START, tz=TZ
    )
    db.commit()
    for who, role in (members or {}).items():
        add_member(db, study.id, who, role)
    return [
        Couple(
            study.id,
            c.couple_id,
            (c.partners[0].person_id, c.partners[1].person_id),
            (c.partners[0].token, c.partners[1].token),
        )
        for c in made
    ]


@pytest.fixture
def couple(db: Session, protocol_path: Path, client: TestClient) -> Couple:
    """One invited couple of the example study; both partners have consented."""
    made = make_study(db, protocol_path)[0]
    for i in (0, 1):
        r = client.post("/api/v1/me/consent", json={"version": 1}, headers=made.headers(i))
        assert r.status_code == 200, r.text
    return made


def evening_answers(desire: int = 60) -> dict[str, Any]:
    """Valid answers to the example protocol's evening questionnaire."""
    return {
        "desire": desire,
        "partner_desire": 55,
        "relationship_satisfaction": 6,
        "conflict": "no",
        "had_sex": "yes",
    }


def login(client: TestClient, db: Session, who: tuple[str, str] = OWNER, role: str = "owner"):
    """Create a researcher (if needed) and log in; returns bearer headers."""
    researcher_id(db, who, role=role)
    r = client.post("/api/v1/auth/login", json={"email": who[0], "password": who[1]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny cost parameters: the same code path, milliseconds per hash."""
    from argon2 import PasswordHasher

    from dyadlab.platform import security

    fast = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    monkeypatch.setattr(security, "_HASHER", fast)
    monkeypatch.setattr(security, "_DUMMY_HASH", fast.hash("dyadlab-timing-equaliser"))
