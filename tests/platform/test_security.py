"""Security headers, secrets kept out of logs, token storage, real HTTP with uvicorn."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from dyadlab.platform.app import create_app
from dyadlab.platform.security import hash_token, read_session_token, redact, session_token
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import Person, Response
from tests.platform.conftest import evening_answers


def test_security_headers(client):
    r = client.get("/")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in r.headers
    api = client.get("/api/v1/me")
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["x-frame-options"] == "DENY"


def test_hsts_under_https(settings, clock):
    from fastapi.testclient import TestClient

    app = create_app(settings.model_copy(update={"base_url": "https://lab.example"}), clock=clock)
    with TestClient(app) as c:
        assert c.get("/healthz").headers["strict-transport-security"].startswith("max-age=")
    app.state.engine.dispose()


def test_static_and_openapi(client):
    assert client.get("/static/base.css").status_code == 200
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/me/responses" in doc["paths"]
    assert "/api/v1/studies/{study_id}/export" in doc["paths"]


def test_tokens_are_stored_hashed(db, couple):
    stored = db.scalars(select(Person.token_hash)).all()
    for token in couple.tokens:
        assert token not in stored
        assert hash_token(token) in stored


def test_session_tokens_are_signed_and_expire():
    token = session_token("k" * 32, 7)
    assert read_session_token("k" * 32, token, 60) == 7
    assert read_session_token("other-key" * 4, token, 60) is None
    assert read_session_token("k" * 32, token + "x", 60) is None
    assert read_session_token("k" * 32, token, -1) is None


def test_redact_patterns():
    token = "A" * 43
    assert token not in redact(f"GET /p/{token} HTTP/1.1")
    assert token not in redact(f"authorization: Bearer {token}")
    assert token not in redact(f'{{"token": "{token}"}}')
    assert token not in redact(f"dyadlab_session={token}; Path=/")


def test_secrets_never_logged(client, couple, caplog):
    token = couple.tokens[0]
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET", f"/p/{token}", "1.1", 200
        )
        logging.getLogger("dyadlab.platform.anything").warning(
            "header Authorization: Bearer %s", token
        )
        logging.getLogger("some.library").error("login with password=%s", "hunter2-secret")
        client.get("/api/v1/me", headers=couple.headers(0))
        client.get(f"/p/{token}")
    assert caplog.records
    assert token not in caplog.text
    assert "hunter2-secret" not in caplog.text
    assert "[redacted]" in caplog.text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(app):
    """The app served by uvicorn on a free 127.0.0.1 port (in a thread)."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=True)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_real_http_concurrent_duplicate_posts(live_server, couple, db, caplog):
    sid = str(uuid.uuid4())
    body = {"submission_id": sid, "questionnaire": "evening", "answers": evening_answers()}
    headers = couple.headers(0)

    def post(_: int) -> int:
        with httpx.Client(base_url=live_server, timeout=30) as c:
            return c.post("/api/v1/me/responses", json=body, headers=headers).status_code

    with caplog.at_level(logging.INFO), ThreadPoolExecutor(max_workers=8) as pool:
        codes = sorted(pool.map(post, range(8)))
        with httpx.Client(base_url=live_server, timeout=30) as c:
            c.get(f"/p/{couple.tokens[0]}")  # the invitation link: its token must not be logged
    assert codes == [200] * 7 + [201]
    n = db.scalar(select(func.count(Response.id)).where(Response.submission_id == uuid.UUID(sid)))
    assert n == 1
    assert "/p/[redacted]" in caplog.text
    assert couple.tokens[0] not in caplog.text


def test_settings_repr_hides_secrets():
    s = Settings(secret_key="very-secret-key-123", smtp_password="pw-123")
    assert "very-secret-key-123" not in repr(s) and "pw-123" not in repr(s)


def test_large_bodies_are_refused(client, couple):
    big = {"submission_id": str(uuid.uuid4()), "questionnaire": "evening",
           "answers": {"note": "x" * 1_100_000}}  # fmt: skip
    r = client.post("/api/v1/me/responses", json=big, headers=couple.headers(0))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"
    assert r.headers["x-frame-options"] == "DENY"

    def chunks():
        yield b'{"submission_id": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    r = client.post(
        "/api/v1/me/responses",
        content=chunks(),
        headers={**couple.headers(0), "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_real_http_concurrent_different_event_reports(live_server, couple, db):
    answers = {"sexual_satisfaction": 70, "approach_motive": 5, "avoidance_motive": 2}
    headers = couple.headers(1)

    def post(_: int) -> tuple[int, str]:
        body = {
            "submission_id": str(uuid.uuid4()),
            "questionnaire": "after_sex",
            "answers": answers,
        }
        with httpx.Client(base_url=live_server, timeout=30) as c:
            r = c.post("/api/v1/me/responses", json=body, headers=headers)
            return r.status_code, r.json().get("prompt_key", "")

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(post, range(3)))
    assert sorted(code for code, _ in results) == [201, 201, 201]
    assert sorted(key for _, key in results) == [
        "after_sex:d3:e1",
        "after_sex:d3:e2",
        "after_sex:d3:e3",
    ]
