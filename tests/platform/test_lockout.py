"""The login lockout is counted in the database before a password is checked: parallel
wrong passwords cannot get more checks than the limit, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from dyadlab.platform.db import make_sessionmaker
from dyadlab.platform.errors import AuthError, RateLimitError
from dyadlab.platform.services import researchers
from dyadlab.platform.tables import AuditLog
from tests.platform.conftest import OWNER

PARALLEL = 40
LIMIT = 5


def test_parallel_wrong_passwords_check_at_most_the_limit(engine, monkeypatch):
    factory = make_sessionmaker(engine)
    with factory() as session:
        researchers.create_researcher(session, OWNER[0], OWNER[1], role="owner")
        session.commit()
    checked: list[int] = []
    guard = threading.Lock()
    real_verify = researchers.verify_password

    def slow_verify(password_hash: str | None, password: str) -> bool:
        with guard:
            checked.append(1)
        time.sleep(0.05)  # argon2 takes this long in production: the race's window
        return real_verify(password_hash, password)

    monkeypatch.setattr(researchers, "verify_password", slow_verify)
    start = threading.Barrier(PARALLEL)

    def attempt(k: int) -> str:
        with factory() as session:
            start.wait()
            try:
                researchers.authenticate(
                    session,
                    OWNER[0],
                    "wrong password",
                    client=f"10.0.0.{k}",
                    max_failures=LIMIT,
                    window_s=900,
                )
            except RateLimitError:
                return "429"
            except AuthError:
                return "401"
            return "200"

    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(attempt, range(PARALLEL)))
    assert len(checked) == LIMIT
    assert outcomes.count("401") == LIMIT
    assert outcomes.count("429") == PARALLEL - LIMIT
    with factory() as session:
        rows = dict(
            session.execute(select(AuditLog.action, func.count()).group_by(AuditLog.action)).all()
        )
    assert rows == {
        "login_attempt": LIMIT,
        "login_failed": LIMIT,
        "login_locked": PARALLEL - LIMIT,
    }
    # the right password is refused too until the window passes
    with factory() as session, pytest.raises(RateLimitError):
        researchers.authenticate(session, OWNER[0], OWNER[1], max_failures=LIMIT)


def test_a_successful_login_frees_its_attempt(engine):
    factory = make_sessionmaker(engine)
    with factory() as session:
        researchers.create_researcher(session, OWNER[0], OWNER[1], role="owner")
        session.commit()
        for _ in range(3):
            researchers.authenticate(session, OWNER[0], OWNER[1], max_failures=2)
            session.commit()
        for _ in range(2):
            with pytest.raises(AuthError):
                researchers.authenticate(session, OWNER[0], "wrong", max_failures=2)
        with pytest.raises(RateLimitError):  # 3 logins, then 2 failures: the limit
            researchers.authenticate(session, OWNER[0], OWNER[1], max_failures=2)


def test_a_login_form_address_with_a_control_character_is_a_failed_login(engine):
    factory = make_sessionmaker(engine)
    with factory() as session:
        with pytest.raises(AuthError, match="Wrong e-mail address or password"):
            researchers.authenticate(session, "ann\x00@lab.example", "whatever", client="c")
        subjects = session.scalars(select(AuditLog.subject)).all()
    assert set(subjects) == {"ann\\u0000@lab.example"}
