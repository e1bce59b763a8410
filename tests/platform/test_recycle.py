"""Keep-alive connections are closed after ``REQUESTS_PER_CONNECTION`` requests, so that
long-lived connections spread over the server's workers (issue 21)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message

from dyadlab.platform import recycle
from dyadlab.platform.recycle import RecycleConnectionsMiddleware


async def _ok(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _headers(
    layer: RecycleConnectionsMiddleware, client: Any, n: int, version: str = "1.1"
) -> list[dict[bytes, bytes]]:
    async def run() -> list[dict[bytes, bytes]]:
        seen: list[dict[bytes, bytes]] = []
        for _ in range(n):
            messages: list[Message] = []

            async def send(message: Message, messages: list[Message] = messages) -> None:
                messages.append(message)

            scope = {
                "type": "http",
                "http_version": version,
                "client": client,
                "server": ("127.0.0.1", 8000),
            }
            await layer(scope, None, send)  # type: ignore[arg-type]
            assert messages[1]["body"] == b"ok"
            seen.append(dict(messages[0]["headers"]))
        return seen

    return asyncio.run(run())


def test_every_nth_answer_on_a_connection_closes_it():
    layer = RecycleConnectionsMiddleware(_ok, every=3)
    seen = _headers(layer, ("10.0.0.1", 5000), 7)
    closing = [i for i, h in enumerate(seen) if h.get(b"connection") == b"close"]
    assert closing == [2, 5]  # the 3rd and the 6th; the count starts again after a close
    assert all(h[b"x-a"] == b"1" for h in seen)  # the app's own headers are kept


def test_connections_are_counted_apart_and_without_a_client_never_closed():
    layer = RecycleConnectionsMiddleware(_ok, every=2)
    first = _headers(layer, ("10.0.0.1", 5000), 1)
    other = _headers(layer, ("10.0.0.1", 5001), 1)  # another connection: its own count
    again = _headers(layer, ("10.0.0.1", 5000), 1)
    assert b"connection" not in first[0] and b"connection" not in other[0]
    assert again[0][b"connection"] == b"close"
    assert all(b"connection" not in h for h in _headers(layer, None, 5))
    http2 = _headers(layer, ("10.0.0.2", 5000), 5, version="2")
    assert all(b"connection" not in h for h in http2)


def test_the_table_of_connections_stays_bounded(monkeypatch):
    monkeypatch.setattr(recycle, "_MAX_TRACKED", 4)
    layer = RecycleConnectionsMiddleware(_ok, every=100)
    for port in range(10):
        _headers(layer, ("10.0.0.1", port), 1)
    assert len(layer._served) <= 4


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        RecycleConnectionsMiddleware(_ok, every=0)


def test_the_app_closes_a_connection_after_its_hundredth_request(client):
    answers = [client.get("/healthz") for _ in range(recycle.REQUESTS_PER_CONNECTION)]
    assert [r.headers.get("connection") for r in answers[:-1]] == [None] * (len(answers) - 1)
    assert answers[-1].headers["connection"] == "close"
    assert answers[-1].json() == {"status": "ok"}
