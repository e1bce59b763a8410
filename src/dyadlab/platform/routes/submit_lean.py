"""The lean path of ``POST /api/v1/me/responses``: the usual submission in one thread hop.

Why
---
A diary study's load is almost entirely this one request, and almost every one of them
is the ordinary case: a consented person sends a new, valid answer to an open
questionnaire. Through FastAPI it cost the server about 3 ms of CPU (issue 21): the
dependency resolution, two thread-pool hops (token, then route), an ORM session and
five database round trips. :class:`LeanSubmitMiddleware` serves that case with a
pure-ASGI handler: one hop to a worker thread, a Core connection in autocommit mode,
three statements (:func:`dyadlab.platform.services.responses.submit_lean`: who is
asking, the couple's answers, the ``INSERT``), and the same JSON answer, sent after the
row is committed.

Everything else goes the usual way
----------------------------------
The lean path only ever *stores and answers 201*. Whenever a request is not plainly
that case -- no or an unknown token, not JSON, a body FastAPI would refuse, no consent,
withdrawn, a retry of a stored submission, an invalid or closed answer, a file upload,
a lost race, a database error -- nothing is stored and the request (its body replayed)
goes on to the FastAPI route, which gives its usual answer (401, 403, 409, 422, 200
for a retry, 503). So every check, error message and privacy rule stays in one place;
the lean path is a shortcut for the requests that pass all of them. Who is asking is
read from the database on every request (nothing about a person, a token or consent is
cached); only the parsed protocol is, keyed by its content hash.

It sits inside the participant cookie bridge (so the page's cookie-authenticated posts
take it too, after the CSRF check), the admission limit, the body limit and the
security headers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dyadlab.platform.admission import THREAD_SPARE
from dyadlab.platform.routes.deps import bearer_token
from dyadlab.platform.schemas import ResponseIn, ResponseOut
from dyadlab.platform.services.responses import CoreStore, PsycopgStore, submit_lean

__all__ = ["PATH", "LeanSubmitMiddleware"]

#: The one path (and method, ``POST``) the lean path serves.
PATH = "/api/v1/me/responses"

logger = logging.getLogger("dyadlab.platform")

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
_JSON_TYPES = (b"application/json", b"application/json; charset=utf-8")


def _render(values: dict[str, Any]) -> bytes:
    """The 201 body, exactly as the FastAPI route makes it."""
    return ResponseOut.model_validate(values).model_dump_json().encode("utf-8")


class LeanSubmitMiddleware:
    """Serves the ordinary ``POST /api/v1/me/responses`` itself and hands every other
    request, untouched, to ``app`` (see the module notes).

    ``state`` is the FastAPI app's state: ``sessionmaker`` (its engine), ``settings`` and
    ``clock``.

    Examples
    --------
    >>> async def app(scope, receive, send): ...
    >>> LeanSubmitMiddleware(app, state=None).app is app
    True
    """

    def __init__(self, app: ASGIApp, *, state: Any) -> None:
        self.app = app
        self.state = state
        self.served = 0
        self.passed = 0

    def _executor(self) -> ThreadPoolExecutor:
        """The threads of the lean path: one process-wide pool (a thread per admitted
        request at most, so an admitted request never waits for one). Lighter than
        anyio's thread hop, which costs the event loop about 0.1 ms a request."""
        global _EXECUTOR
        wanted = self.state.settings.max_concurrent_requests + THREAD_SPARE
        with _EXECUTOR_LOCK:
            if _EXECUTOR is None or _EXECUTOR._max_workers < wanted:
                _EXECUTOR = ThreadPoolExecutor(wanted, thread_name_prefix="dyadlab-submit")
            return _EXECUTOR

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        token = None
        content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization" and token is None:
                token = bearer_token(value.decode("latin-1"))
            elif name == b"content-type" and content_type is None:
                content_type = value.lower()
        messages: list[Message] = []
        chunks: list[bytes] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        answer = None
        if (
            token is not None
            and content_type in _JSON_TYPES
            and messages[-1]["type"] == ("http.request")
        ):
            loop = asyncio.get_running_loop()
            answer = await loop.run_in_executor(
                self._executor(), self._store, token, b"".join(chunks)
            )
        if answer is not None:
            self.served += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 201,
                    "headers": [
                        (b"content-length", str(len(answer)).encode()),
                        (b"content-type", b"application/json"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": answer})
            return
        self.passed += 1

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _store_psycopg(engine: Any, token: str, fields: dict[str, Any]) -> bytes | None:
        """:func:`submit_lean` on the pooled psycopg connection itself, in autocommit
        mode for the two statements (no BEGIN and COMMIT round trips; the INSERT is its
        own transaction) and back to transactions before it returns to the pool."""
        import psycopg

        fairy = engine.raw_connection()  # checked out with the pool's pre-ping
        dbapi = fairy.dbapi_connection
        try:
            dbapi.autocommit = True
            try:
                return submit_lean(PsycopgStore(dbapi, engine.dialect), token, **fields)
            finally:
                dbapi.autocommit = False
        except psycopg.Error:
            # The database is busy, restarting or gone: a broken connection is not given
            # back to the pool, and the full path meets the same and answers 503 (or, if
            # the insert did commit before the error, finds the row and answers 200).
            fairy.invalidate()
            return None
        finally:
            fairy.close()

    def _store(self, token: str, body: bytes) -> bytes | None:
        """In a worker thread: the stored answer's body, or ``None`` (nothing stored)."""
        state = self.state
        try:
            try:
                data = ResponseIn.model_validate(json.loads(body))
            except (ValueError, ValidationError):  # the route gives the 422
                return None
            fields = dict(
                submission_id=data.submission_id,
                questionnaire=data.questionnaire,
                answers=data.answers,
                started_at=data.started_at,
                finished_at=data.finished_at,
                now=state.clock(),
                grace_min=state.settings.submission_grace_min,
                render=_render,
            )
            engine = state.sessionmaker.kw["bind"]  # the engine of the routes' sessions
            if engine.dialect.driver != "psycopg":
                with engine.connect() as conn:
                    return submit_lean(CoreStore(conn), token, **fields)
            return self._store_psycopg(engine, token, fields)
        except (DBAPIError, PoolTimeoutError):
            # Busy or unreachable: the route meets the same and answers 503 (or, if the
            # insert did commit before the error, finds the row and answers 200).
            return None
        except Exception as exc:  # never a 500 from the shortcut: the route decides
            logger.warning(
                "lean submission path failed (%s); using the full path", type(exc).__name__
            )
            return None
