"""Settings, the engine's connection settings, and the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from dyadlab.platform.db import (
    downgrade_database,
    make_engine,
    make_sessionmaker,
    normalize_url,
    upgrade_database,
)
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import AuditLog, Base, ConsentEvent, Couple, Person, Study

TABLES = {
    "analysis_runs",
    "audit_log",
    "consent_events",
    "couples",
    "deliveries",
    "persons",
    "push_subscriptions",
    "researchers",
    "responses",
    "studies",
    "study_members",
}


def test_settings_from_env():
    s = Settings.from_env(
        {
            "DYADLAB_DATABASE_URL": "postgresql://u@h/db",
            "DYADLAB_SMTP_PORT": "2525",
            "DYADLAB_BASE_URL": "https://lab.example",
            "DYADLAB_SECRET_KEY": "k" * 40,
        }
    )
    assert s.database_url == "postgresql://u@h/db"
    assert s.smtp_port == 2525
    assert s.https
    assert "k" * 40 not in repr(s)


def test_settings_default_database():
    assert Settings.from_env({}).database_url == "sqlite:///dyadlab.db"


def test_normalize_url():
    assert normalize_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_pragmas(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    engine.dispose()


def test_upgrade_downgrade_upgrade(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    downgrade_database(engine, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade_database(engine)
    upgrade_database(engine)  # idempotent
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_migration_0002_session_version_up_down_up(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO researchers (email, password_hash, role, active, created_at) "
            "VALUES ('ann@lab.example', 'x', 'owner', true, '2026-03-01 10:00:00')"
        )

    def columns():
        return {c["name"] for c in inspect(engine).get_columns("researchers")}

    assert "session_version" not in columns()
    upgrade_database(engine)
    assert "session_version" in columns()
    with engine.connect() as conn:  # the existing account starts at version 0
        assert conn.exec_driver_sql("SELECT session_version FROM researchers").scalar() == 0
    downgrade_database(engine, "0001")
    assert "session_version" not in columns()
    with engine.connect() as conn:  # the account survives the downgrade
        assert conn.exec_driver_sql("SELECT email FROM researchers").scalar() == "ann@lab.example"
    upgrade_database(engine)
    assert "session_version" in columns()
    engine.dispose()


def test_migration_0003_push_subscriptions_up_down_up(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine, "0002")
    assert "push_subscriptions" not in inspect(engine).get_table_names()
    upgrade_database(engine)
    assert "push_subscriptions" in inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("push_subscriptions")}
    assert columns == {"id", "person_id", "endpoint", "p256dh", "auth", "created_at"}
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO studies (title, protocol, protocol_hash, created_at) "
            "VALUES ('s', '{}', 'h', '2026-03-01 10:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO couples (study_id, start_date, seed, created_at) "
            "SELECT id, '2026-03-01', 1, '2026-03-01 10:00:00' FROM studies"
        )
        conn.exec_driver_sql(
            "INSERT INTO persons (couple_id, token_hash, tz, language, status, data_deleted, "
            "created_at) SELECT id, 'h', 'UTC', 'en', 'active', false, '2026-03-01 10:00:00' "
            "FROM couples"
        )
        insert = (
            "INSERT INTO push_subscriptions (person_id, endpoint, p256dh, auth, created_at) "
            "SELECT id, 'https://push.example/1', 'k', 'a', '2026-03-01 10:00:00' FROM persons"
        )
        conn.exec_driver_sql(insert)
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one row per endpoint
        conn.exec_driver_sql(insert)
    with engine.begin() as conn:  # deleting the person deletes the subscription
        conn.exec_driver_sql("DELETE FROM persons")
        assert conn.exec_driver_sql("SELECT count(*) FROM push_subscriptions").scalar() == 0
    downgrade_database(engine, "0002")
    assert "push_subscriptions" not in inspect(engine).get_table_names()
    with engine.connect() as conn:  # the rest survives the downgrade
        assert conn.exec_driver_sql("SELECT title FROM studies").scalar() == "s"
    upgrade_database(engine)
    assert "push_subscriptions" in inspect(engine).get_table_names()
    engine.dispose()


def test_upgrade_by_url(database_url):
    upgrade_database(database_url)
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_models_match_migrations(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"tables.py and migrations differ; add a migration: {diff}"


def test_foreign_keys_enforced(session):
    session.add(Couple(study_id=12345, start_date=date(2026, 1, 1), seed=1))
    with pytest.raises(IntegrityError):
        session.commit()


def test_times_round_trip_as_aware_utc(session):
    study = Study(title="t", protocol={"a": 1}, protocol_hash="0" * 64)
    session.add(study)
    session.flush()
    amsterdam = timezone(timedelta(hours=1))
    at = datetime(2026, 3, 1, 21, 0, tzinfo=amsterdam)
    couple = Couple(study_id=study.id, start_date=date(2026, 3, 1), seed=7)
    session.add(couple)
    session.flush()
    person = Person(couple_id=couple.id, token_hash="a" * 64, tz="Europe/Amsterdam", language="en")
    session.add(person)
    session.flush()
    session.add(ConsentEvent(person_id=person.id, kind="consent", version=1, at=at))
    session.commit()
    session.expire_all()
    got = session.scalars(select(ConsentEvent)).one().at
    assert got == datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    assert got.tzinfo is UTC


def test_naive_datetime_refused(session):
    session.add(AuditLog(action="login", at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="timezone-aware"):
        session.commit()


def test_append_only_tables(session):
    session.add(AuditLog(action="export"))
    session.commit()
    row = session.scalars(select(AuditLog)).one()
    row.action = "nothing"
    with pytest.raises(RuntimeError, match="append-only"):
        session.commit()
    session.rollback()
    session.delete(session.scalars(select(AuditLog)).one())
    with pytest.raises(RuntimeError, match="append-only"):
        session.commit()


def test_sessionmaker_keeps_objects_readable(engine):
    factory = make_sessionmaker(engine)
    with factory() as s:
        study = Study(title="kept", protocol={}, protocol_hash="1" * 64)
        s.add(study)
        s.commit()
    assert study.title == "kept"


@pytest.mark.postgres
def test_concurrent_upgrades_on_postgres(postgres_url):
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            upgrade_database(postgres_url)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    engine = make_engine(postgres_url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_bad_setting_names_the_variable():
    from dyadlab.exceptions import OptionError

    with pytest.raises(OptionError, match="DYADLAB_SMTP_PORT='abc'"):
        Settings.from_env({"DYADLAB_SMTP_PORT": "abc"})
    with pytest.raises(OptionError, match="DYADLAB_COMPLIANCE_THRESHOLD"):
        Settings.from_env({"DYADLAB_COMPLIANCE_THRESHOLD": "80"})


def test_cli_reports_a_bad_setting_in_one_line(monkeypatch, capsys):
    from dyadlab.cli import main

    monkeypatch.setenv("DYADLAB_SMTP_PORT", "abc")
    assert main(["study", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dyadlab: error: Settings.from_env(): DYADLAB_SMTP_PORT")
    assert "Traceback" not in err


def test_migration_0004_study_members_makes_creators_owners(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine, "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO researchers (email, password_hash, role, active, created_at, "
            "session_version) VALUES ('ann@lab.example', 'x', 'owner', true, "
            "'2026-03-01 10:00:00', 0)"
        )
        for title, creator in (("a", "(SELECT id FROM researchers)"), ("b", "NULL")):
            conn.exec_driver_sql(
                "INSERT INTO studies (title, protocol, protocol_hash, created_at, created_by) "
                f"VALUES ('{title}', '{{}}', 'h', '2026-03-01 10:00:00', {creator})"
            )
    upgrade_database(engine)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT s.title, r.email, m.role FROM study_members m "
            "JOIN studies s ON s.id = m.study_id JOIN researchers r ON r.id = m.researcher_id"
        ).all()
    assert [tuple(r) for r in rows] == [("a", "ann@lab.example", "owner")]  # b: no creator
    with engine.begin() as conn:  # deleting the study deletes its members
        conn.exec_driver_sql("DELETE FROM studies WHERE title = 'a'")
        assert conn.exec_driver_sql("SELECT count(*) FROM study_members").scalar() == 0
    downgrade_database(engine, "0003")
    assert "study_members" not in inspect(engine).get_table_names()
    with engine.connect() as conn:  # the rest survives the downgrade
        assert conn.exec_driver_sql("SELECT title FROM studies").scalar() == "b"
    upgrade_database(engine)
    assert "study_members" in inspect(engine).get_table_names()
    engine.dispose()


def test_migration_0008_analysis_runs_up_down_up(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO studies (title, protocol, protocol_hash, created_at) "
            "VALUES ('a', '{}', 'h', '2026-03-01 10:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO analysis_runs (study_id, status, done, total, step, protocol_hash, "
            "created_at, updated_at) SELECT id, 'done', 2, 2, 'x', 'h', "
            "'2026-03-01 10:00:00', '2026-03-01 10:00:00' FROM studies"
        )
    with engine.begin() as conn:  # deleting the study deletes its runs
        conn.exec_driver_sql("DELETE FROM studies")
        assert conn.exec_driver_sql("SELECT count(*) FROM analysis_runs").scalar() == 0
    downgrade_database(engine, "0008-1")  # the revision before 0008, wherever it is chained
    assert "analysis_runs" not in inspect(engine).get_table_names()
    assert "studies" in inspect(engine).get_table_names()
    upgrade_database(engine)
    assert "analysis_runs" in inspect(engine).get_table_names()
    engine.dispose()
