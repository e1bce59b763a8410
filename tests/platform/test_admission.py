"""Bursts: an overloaded server answers 503 with ``Retry-After`` quickly, never a 500,
and nothing is stored behind a 503 (issue 10, item 3; ``dyadlab.platform.admission``).

The full-size burst (1,000 simultaneous submissions against a real server on SQLite and
PostgreSQL) is ``benchmarks/platform_burst.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from dyadlab.platform import admission
from dyadlab.platform.app import create_app
from dyadlab.platform.db import make_engine, make_sessionmaker
from dyadlab.platform.routes import api_participant, submit_lean
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Response
from tests.platform.conftest import Clock, Couple, make_study

EVENT = {"questionnaire": "after_sex", "answers": {"sexual_satisfaction": 70}}


def _body() -> dict[str, Any]:
    return {"submission_id": str(uuid.uuid4()), **EVENT}


@pytest.fixture
def small_app(settings: Settings, clock: Clock) -> Iterator[FastAPI]:
    """The app with room for one database request at a time and a 50 ms wait."""
    tight = settings.model_copy(
        update={"max_concurrent_requests": 1, "admission_wait_s": 0.05, "retry_after_s": 3}
    )
    application = create_app(tight, clock=clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def study(small_app: FastAPI, protocol_path: Path) -> Couple:
    """One couple; both partners have consented."""
    with small_app.state.sessionmaker() as db:
        made = make_study(db, protocol_path)[0]
    for i in (0, 1):
        r = asyncio.run(_post(small_app, "/api/v1/me/consent", {"version": 1}, made.headers(i)))
        assert r.status_code == 200, r.text
    # FastAPI prepares each included router on the first request that is matched against
    # it (0.1-1 s of CPU on a busy machine); /healthz, the app's last route, makes it do
    # so for all of them now rather than in the middle of a timed burst.
    assert asyncio.run(_get(small_app, "/healthz")).status_code == 200
    return made


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


async def _post(app: FastAPI, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(path, json=body, headers=headers)


def _stored(app: FastAPI, submission_ids: list[str]) -> int:
    with app.state.sessionmaker() as db:
        wanted = [uuid.UUID(s) for s in submission_ids]
        query = select(func.count()).where(Response.submission_id.in_(wanted))
        return int(db.scalar(query) or 0)


def _slow(monkeypatch: pytest.MonkeyPatch, seconds: float) -> threading.Event:
    """Make storing a response take ``seconds`` (in the route's thread, or the lean
    path's); the event is set when the first slow call has started."""
    started = threading.Event()
    original: Callable[..., Any] = api_participant.responses.submit_response
    original_lean: Callable[..., Any] = submit_lean.submit_lean

    def slow_submit(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(seconds)
        return original(*args, **kwargs)

    def slow_lean(*args: Any, **kwargs: Any) -> Any:
        started.set()
        time.sleep(seconds)
        return original_lean(*args, **kwargs)

    monkeypatch.setattr(api_participant.responses, "submit_response", slow_submit)
    monkeypatch.setattr(submit_lean, "submit_lean", slow_lean)
    return started


def test_overload_is_503_with_retry_after_not_500(
    small_app: FastAPI, study: Couple, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow(monkeypatch, 0.6)
    bodies = [_body(), _body(), _body()]

    async def burst() -> tuple[list[httpx.Response], list[float], httpx.Response]:
        transport = httpx.ASGITransport(app=small_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

            async def one(i: int) -> tuple[httpx.Response, float]:
                t0 = time.monotonic()
                r = await client.post(
                    "/api/v1/me/responses", json=bodies[i], headers=study.headers(i % 2)
                )
                return r, time.monotonic() - t0

            first = asyncio.create_task(one(0))
            await asyncio.sleep(0.1)  # the first one holds the only place
            health = await client.get("/healthz")
            rest = await asyncio.gather(one(1), one(2))
            done = [await first, *rest]
        return [r for r, _ in done], [t for _, t in done], health

    answers, seconds, health = asyncio.run(burst())
    assert [r.status_code for r in answers] == [201, 503, 503]
    assert health.status_code == 200  # /healthz is never held back
    for r, took in zip(answers[1:], seconds[1:], strict=True):
        assert r.headers["retry-after"] == "3"
        assert r.headers["cache-control"] == "no-store"
        assert r.json()["error"]["code"] == "overloaded"
        assert took < 0.5  # quickly: after the 50 ms wait, not after the first request
    ids = [b["submission_id"] for b in bodies]
    assert _stored(small_app, ids) == 1  # nothing behind a 503
    assert _stored(small_app, ids[:1]) == 1

    monkeypatch.undo()
    again = asyncio.run(_post(small_app, "/api/v1/me/responses", bodies[1], study.headers(1)))
    assert again.status_code == 201  # sent again later: stored once
    assert _stored(small_app, ids) == 2


def test_a_page_gets_a_short_busy_page(
    small_app: FastAPI, study: Couple, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow(monkeypatch, 0.4)

    async def burst() -> httpx.Response:
        transport = httpx.ASGITransport(app=small_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            first = asyncio.create_task(
                client.post("/api/v1/me/responses", json=_body(), headers=study.headers(0))
            )
            await asyncio.sleep(0.1)
            page = await client.get("/s/")
            assert (await first).status_code == 201
            return page

    page = asyncio.run(burst())
    assert page.status_code == 503
    assert page.headers["retry-after"] == "3"
    assert page.headers["content-type"].startswith("text/html")
    assert "busy" in page.text


def test_no_free_connection_is_503_and_nothing_is_stored(
    small_app: FastAPI, study: Couple, database_url: str
) -> None:
    # A pool of one connection, held here: the request cannot get one within 0.2 s.
    engine = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    own = small_app.state.sessionmaker
    small_app.state.sessionmaker = make_sessionmaker(engine)
    body = _body()
    try:
        with engine.connect():
            r = asyncio.run(_post(small_app, "/api/v1/me/responses", body, study.headers(0)))
    finally:
        small_app.state.sessionmaker = own
        engine.dispose()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "3"
    assert r.json()["error"]["code"] == "overloaded"
    assert _stored(small_app, [body["submission_id"]]) == 0


def test_a_locked_database_is_503_and_nothing_is_stored(
    small_app: FastAPI, study: Couple, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = api_participant.responses.submit_response

    def locked(session: Any, *args: Any, **kwargs: Any) -> Any:
        original(session, *args, **kwargs)  # the row is written, not committed
        session.flush()
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    def locked_lean(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(api_participant.responses, "submit_response", locked)
    monkeypatch.setattr(submit_lean, "submit_lean", locked_lean)  # then the route's turn
    body = _body()
    r = asyncio.run(_post(small_app, "/api/v1/me/responses", body, study.headers(0)))
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"] == "3"
    assert _stored(small_app, [body["submission_id"]]) == 0


def test_pool_and_threads_are_sized_from_the_limit(settings: Settings, clock: Clock) -> None:
    big = settings.model_copy(update={"max_concurrent_requests": 50})
    app = create_app(big, clock=clock)
    try:
        if app.state.engine.dialect.name == "postgresql" or app.state.engine.url.database:
            assert app.state.engine.pool.size() == admission.pool_size_for(50) == 54

        async def threads_after_a_request() -> int:
            import anyio.to_thread

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/api/v1/me")).status_code == 401
            return int(anyio.to_thread.current_default_thread_limiter().total_tokens)

        assert asyncio.run(threads_after_a_request()) >= 50 + admission.THREAD_SPARE
    finally:
        app.state.engine.dispose()


def test_settings_come_from_the_environment() -> None:
    s = Settings.from_env(
        {
            "DYADLAB_MAX_CONCURRENT_REQUESTS": "8",
            "DYADLAB_ADMISSION_WAIT_S": "0.5",
            "DYADLAB_RETRY_AFTER_S": "5",
        }
    )
    assert (s.max_concurrent_requests, s.admission_wait_s, s.retry_after_s) == (8, 0.5, 5)
