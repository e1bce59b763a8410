"""Close a keep-alive connection after :data:`REQUESTS_PER_CONNECTION` requests.

Why
---
With several uvicorn workers, a connection belongs to the worker that accepted it, for
as long as it stays open. Clients that keep a few connections open for a long time (a
reverse proxy's upstream pool, the load benchmark's 32 connections) can leave one
worker with most of them: at 1,000 submissions/s one worker used 0.87 ms of CPU per
submission and the other 0.48 ms (issue 21), so the busy one ran at nearly a full core
while the other idled, and the latency tail was that worker's queue. nginx closes a
keep-alive connection after 1,000 requests for similar reasons. Here the answer to
every :data:`REQUESTS_PER_CONNECTION`-th request on a connection says
``Connection: close``; the client opens a new one, which the first worker free to
``accept`` takes -- the less busy one -- so the load spreads itself over the workers.
A client loses nothing: the answer is complete, and HTTP clients reconnect on their own.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUESTS_PER_CONNECTION", "RecycleConnectionsMiddleware"]

#: Requests answered on one keep-alive connection before the server closes it.
REQUESTS_PER_CONNECTION = 100

#: Connections remembered at most (the ones that closed by themselves are forgotten
#: when the table is full; a count that restarts only delays a close).
_MAX_TRACKED = 4096


class RecycleConnectionsMiddleware:
    """Answers every ``every``-th request of a connection with ``Connection: close``.

    A connection is known by its client and server addresses (``scope["client"]``,
    ``scope["server"]``), unique while it is open; a request without a client address,
    or over HTTP/2, is left alone.

    Examples
    --------
    >>> async def app(scope, receive, send): ...
    >>> RecycleConnectionsMiddleware(app, every=3).every
    3
    """

    def __init__(self, app: ASGIApp, *, every: int = REQUESTS_PER_CONNECTION) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, not {every}")
        self.app = app
        self.every = every
        self._served: dict[tuple[object, object], int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not client or scope.get("http_version") == "2":
            # HTTP/2 has no Connection header (and multiplexes a connection anyway)
            await self.app(scope, receive, send)
            return
        key = (tuple(client), tuple(scope.get("server") or ()))
        served = self._served.pop(key, 0) + 1
        if served < self.every:
            if len(self._served) >= _MAX_TRACKED:
                self._served.clear()
            self._served[key] = served
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"connection"]
                message["headers"] = [*headers, (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, send_closing)
