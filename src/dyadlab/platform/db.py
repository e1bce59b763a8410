"""The database engine: SQLite (WAL) embedded by default, PostgreSQL via psycopg 3.

SQLite connections get ``journal_mode=WAL`` (readers never block the writer),
``foreign_keys=ON``, ``busy_timeout=10000`` (a writer waits up to 10 s for the lock instead
of failing), ``synchronous=NORMAL`` (safe with WAL: a power cut can lose the last
transactions, never corrupt the file) and ``secure_delete=ON`` (deleted content is
overwritten with zeros instead of staying in free pages). ``postgresql://`` URLs are
read as ``postgresql+psycopg://``; a pooled PostgreSQL connection is pinged before use
only after :data:`PING_AFTER_IDLE_S` idle (not at every checkout: a round trip per
request under load).

Deleted data and the ``-wal`` file: with WAL, SQLite writes every change to
``<database>-wal`` first, so a deleted answer stays readable there until the WAL is
checkpointed and overwritten. :func:`checkpoint_after_delete` copies the WAL into the
database and truncates it to zero bytes; a deleting withdrawal calls it after its
commit. A reader holding an old snapshot at that moment can keep frames in the WAL
until the next checkpoint (SQLite checkpoints on its own every 1,000 pages).

Examples
--------
>>> engine = make_engine("sqlite://")
>>> with engine.connect() as conn:
...     conn.exec_driver_sql("PRAGMA foreign_keys").scalar()
1
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "checkpoint_after_delete",
    "downgrade_database",
    "make_engine",
    "make_sessionmaker",
    "normalize_url",
    "session_scope",
    "upgrade_database",
]

#: PostgreSQL advisory lock key held while migrating (any constant; "dyadlab" in hex-ish).
MIGRATION_LOCK_ID = 0x647961646C6162

SQLITE_PRAGMAS: tuple[str, ...] = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA secure_delete=ON",
)


#: Connections a server process keeps open (SQLAlchemy's default is 5). Requests run in
#: a thread pool; under load more than 5 are in flight, and every connection above the
#: pool size was opened and closed again per request: on PostgreSQL a new backend
#: process each time (benchmarks/platform_load.py: 301 new connections in 6 s at 300
#: submissions/s before, none after). Up to 10 more still open on demand.
POOL_SIZE = 20


#: Seconds a pooled PostgreSQL connection may sit idle before it is pinged at its next
#: checkout (see :func:`make_engine`).
PING_AFTER_IDLE_S = 1.0
_IDLE_SINCE = "dyadlab_idle_since"


def normalize_url(url: str) -> str:
    """Return ``url`` with ``postgresql://`` / ``postgres://`` mapped to psycopg 3.

    Examples
    --------
    >>> normalize_url("postgresql://me@db/study")
    'postgresql+psycopg://me@db/study'
    """
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _set_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def make_engine(url: str, *, pool_size: int = POOL_SIZE, **kwargs: Any) -> Engine:
    """Create the engine for ``url`` with the platform's connection settings.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL (``sqlite:///file.db``, ``postgresql+psycopg://...``).
    pool_size : int
        Connections kept open (default :data:`POOL_SIZE`; the server passes at least
        :func:`dyadlab.platform.admission.pool_size_for` its request limit). Not used for
        an in-memory SQLite database.
    **kwargs
        Passed to :func:`sqlalchemy.create_engine` (e.g. ``connect_args``). Without
        ``pool_pre_ping``, a pooled connection idle for more than
        :data:`PING_AFTER_IDLE_S` is pinged at checkout (and replaced if dead).

    Returns
    -------
    sqlalchemy.Engine
    """
    url = normalize_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", 10.0)
        if parsed.database not in (None, "", ":memory:") and "poolclass" not in kwargs:
            kwargs.setdefault("pool_size", pool_size)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", pool_size)
    engine = create_engine(url, **kwargs)
    if "pool_pre_ping" not in kwargs:
        _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use if it sat idle for :data:`PING_AFTER_IDLE_S`
    (SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip per request).

    A connection that fails the ping is replaced by a fresh one, as with
    ``pool_pre_ping``. One that broke while in use a moment ago (the database restarted
    under load) fails its request instead: SQLAlchemy then discards the whole pool, and
    the request is answered 503 with ``Retry-After`` (nothing stored; the client sends
    it again).
    """
    dialect = engine.dialect

    def connected(_dbapi_conn: Any, record: Any) -> None:
        record.info.pop(_IDLE_SINCE, None)

    def checked_in(_dbapi_conn: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    def checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"ping failed: {type(exc).__name__}") from exc

    event.listen(engine, "connect", connected)
    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def checkpoint_after_delete(engine: Engine) -> None:
    """SQLite: copy the ``-wal`` file into the database and truncate it, so that deleted
    rows are not left readable in it (see the module notes). Nothing on PostgreSQL.

    Examples
    --------
    >>> checkpoint_after_delete(make_engine("sqlite://"))
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception.

    Examples
    --------
    >>> factory = make_sessionmaker(make_engine("sqlite://"))
    >>> with session_scope(factory) as session:
    ...     session.execute(__import__("sqlalchemy").text("SELECT 1")).scalar()
    1
    """
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(connection: Any) -> Any:
    from importlib.resources import files

    from alembic.config import Config

    ini = files("dyadlab.platform").joinpath("alembic.ini")
    config = Config(str(ini))
    config.set_main_option("script_location", str(files("dyadlab.platform").joinpath("migrations")))
    config.attributes["connection"] = connection
    return config


def upgrade_database(target: str | Engine, revision: str = "head") -> None:
    """Bring the database at ``target`` (a URL or an engine) to ``revision`` (Alembic).

    Safe to call on every start: an up-to-date database is left as it is. On PostgreSQL
    the migration holds a transaction-level advisory lock, so several server processes
    starting together migrate one after the other (the later ones find nothing to do).

    Examples
    --------
    >>> engine = make_engine("sqlite://")
    >>> upgrade_database(engine)
    >>> from sqlalchemy import inspect
    >>> "responses" in inspect(engine).get_table_names()
    True
    """
    from alembic import command

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
            command.upgrade(_alembic_config(conn), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def downgrade_database(target: str | Engine, revision: str = "base") -> None:
    """Take the database at ``target`` back to ``revision`` (``base`` drops every table)."""
    from alembic import command

    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as conn:
            command.downgrade(_alembic_config(conn), revision)
    finally:
        if isinstance(target, str):
            engine.dispose()
