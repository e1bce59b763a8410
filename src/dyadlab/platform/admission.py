"""Admission control: a burst is answered 503 with ``Retry-After``, never a stall or a 500.

Why
---
Requests run their database work in a thread pool (anyio's, 40 threads by default) and
hold one pooled connection from their first query to the end of the request, across
several thread hops (the token check, then the route). When more requests are in flight
than there are connections, the threads fill with requests waiting for a connection
while the requests that hold the connections wait for a thread: nothing moves until the
pool's timeout (30 s) turns them into 500s. 150 phones posting at the same moment were
enough (issue 10).

What
----
:class:`AdmissionMiddleware` lets at most ``limit`` requests that use the database run
at once in one server process (``Settings.max_concurrent_requests``, default
:data:`DEFAULT_LIMIT`). Others wait for a free place in the event loop, holding no
thread and no connection, for at most ``wait_s`` seconds (``Settings.admission_wait_s``);
a request still waiting then gets ``503 Service Unavailable`` with ``Retry-After:
<retry_after_s>`` (``Settings.retry_after_s``) and the API's error shape, code
``overloaded``. Nothing has run for it, so nothing is stored: the client sends it again
(the participant page does, after ``Retry-After`` with jitter, with the same
``submission_id``).

Sized together: the app's connection pool keeps at least :func:`pool_size_for`
connections (``limit`` plus spare ones for a second connection, e.g. the SQLite
checkpoint after a deleting withdrawal), and the thread pool has at least
``limit + THREAD_SPARE`` threads, so an admitted request never waits for either.
Static files and ``/healthz`` are not counted (they use no database).

Examples
--------
>>> pool_size_for(16)
20
>>> async def app(scope, receive, send): ...
>>> AdmissionMiddleware(app, limit=4, wait_s=1.0, retry_after_s=2).limit
4
"""

from __future__ import annotations

import asyncio
import weakref

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "DEFAULT_LIMIT",
    "DEFAULT_RETRY_AFTER_S",
    "DEFAULT_WAIT_S",
    "EXEMPT_PREFIXES",
    "THREAD_SPARE",
    "AdmissionMiddleware",
    "overloaded_body",
    "pool_size_for",
]

#: Requests that use the database running at once per process. A submission costs about
#: 3 ms of server CPU, so 16 in flight already keep one core busy; more would only queue
#: inside the database (SQLite has one writer) instead of in the event loop.
DEFAULT_LIMIT = 16
#: Seconds a request may wait for a place before it is answered 503.
DEFAULT_WAIT_S = 2.0
#: The ``Retry-After`` of a 503, in seconds.
DEFAULT_RETRY_AFTER_S = 2
#: Threads kept beyond ``limit`` for requests that are not counted (static files).
THREAD_SPARE = 8
#: Paths that use no database and are never held back.
EXEMPT_PREFIXES = ("/static/", "/healthz")


def pool_size_for(limit: int) -> int:
    """Connections a process keeps for ``limit`` admitted requests (``limit + 4``)."""
    return limit + 4


def overloaded_body(retry_after_s: int) -> bytes:
    """The 503 body, in the API's error shape.

    Examples
    --------
    >>> overloaded_body(2)[:40]
    b'{"error":{"code":"overloaded","message":'
    """
    return (
        b'{"error":{"code":"overloaded","message":"The server is busy. Nothing was stored; '
        b"send the request again in " + str(retry_after_s).encode() + b' s."}}'
    )


_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Busy</title>"
    "<p>The server is busy right now. Nothing was saved; please try again in a moment.</p>"
)


class AdmissionMiddleware:
    """At most ``limit`` database-using requests at once; the rest wait up to ``wait_s``
    seconds, then get 503 with ``Retry-After: retry_after_s`` (see the module notes).

    One counter per event loop (a server process has one); it also raises anyio's
    thread limit to ``limit + THREAD_SPARE`` when it is lower.
    """

    def __init__(self, app: ASGIApp, *, limit: int, wait_s: float, retry_after_s: int) -> None:
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self.retry_after_s = retry_after_s
        self._slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._slots = weakref.WeakKeyDictionary()
        self.refused = 0

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        sem = self._slots.get(loop)
        if sem is None:
            import anyio.to_thread

            threads = anyio.to_thread.current_default_thread_limiter()
            threads.total_tokens = max(threads.total_tokens, self.limit + THREAD_SPARE)
            sem = self._slots[loop] = asyncio.Semaphore(self.limit)
        return sem

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.refused += 1
        api = str(scope.get("path", "")).startswith("/api/")
        body = overloaded_body(self.retry_after_s) if api else _PAGE.encode()
        kind = b"application/json" if api else b"text/html; charset=utf-8"
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", kind),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(self.retry_after_s).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        sem = self._semaphore()
        if sem.locked():
            try:
                await asyncio.wait_for(sem.acquire(), self.wait_s)
            except TimeoutError:
                await self._refuse(scope, send)
                return
        else:
            await sem.acquire()  # a free place: returns at once
        try:
            await self.app(scope, receive, send)
        finally:
            sem.release()
