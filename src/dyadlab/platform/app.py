"""The FastAPI application factory.

:func:`create_app` builds one app per :class:`~dyadlab.platform.settings.Settings`: it
upgrades the database (Alembic), mounts ``static/`` and the Jinja2 ``templates/``, adds
the security-headers middleware and the JSON API under ``/api/v1`` with its OpenAPI
document at ``/api/v1/openapi.json``.

Every error leaves the API in one shape::

    {"error": {"code": "not_found", "message": "Not found."}}

Examples
--------
>>> from dyadlab.platform.settings import Settings
>>> app = create_app(Settings(database_url="sqlite://"))  # doctest: +SKIP
>>> # uvicorn.run(app)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dyadlab import __version__
from dyadlab.exceptions import DyadlabError
from dyadlab.platform.admission import AdmissionMiddleware, pool_size_for
from dyadlab.platform.db import POOL_SIZE, make_engine, make_sessionmaker, upgrade_database
from dyadlab.platform.errors import PlatformError
from dyadlab.platform.routes import api_participant, api_ratings, api_researcher, push_worker
from dyadlab.platform.routes._pages import install_pages
from dyadlab.platform.routes.submit_lean import LeanSubmitMiddleware
from dyadlab.platform.security import install_log_redaction
from dyadlab.platform.settings import Settings
from dyadlab.platform.tables import utcnow

__all__ = ["MAX_BODY_BYTES", "BodyLimitMiddleware", "SecurityHeadersMiddleware", "create_app"]

#: Largest request body accepted (a questionnaire's answers are a few kilobytes).
MAX_BODY_BYTES = 1_000_000

logger = logging.getLogger("dyadlab.platform")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; worker-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
}


class BodyLimitMiddleware:
    """Refuses request bodies above ``max_bytes`` with 413 in the API's error shape: by
    ``Content-Length``, or (a streamed body without it) after reading at most that much."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Send) -> None:
        body = b'{"error":{"code":"too_large","message":"The request body is too large."}}'
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                length = int(value) if value.isdigit() else None
        if length is not None:
            if length > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): buffer up to the limit, then replay.
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


class SecurityHeadersMiddleware:
    """Adds CSP, X-Frame-Options DENY, Referrer-Policy no-referrer, nosniff, a strict
    Permissions-Policy, ``Cache-Control: no-store`` on the API, and HSTS under HTTPS."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (b"content-security-policy", CSP.encode()),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-content-type-options", b"nosniff"),
            # geolocation for the page's own script only: an XLSForm geopoint item reads
            # the location when the participant presses its button, never otherwise
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(self)"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = str(scope.get("path", "")).startswith("/api/") or str(
            scope.get("path", "")
        ).startswith("/p/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                if api and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _error(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, list[dict[str, str]]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        details.append({"item": ".".join(loc) or "body", "message": str(err.get("msg", ""))})
    first = details[0] if details else {"item": "body", "message": "invalid"}
    return f"{first['item']}: {first['message']}", details


def _install_error_handlers(app: FastAPI) -> None:
    async def platform_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PlatformError)
        return _error(exc.status, exc.code, exc.message, exc.details)

    async def dyadlab_error(request: Request, exc: Exception) -> JSONResponse:
        return _error(422, "invalid", str(exc))

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        message, details = _validation_message(exc)
        return _error(422, "invalid_request", message, details)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "error")
        message = "Not found." if exc.status_code == 404 else str(exc.detail)
        return _error(exc.status_code, code, message)

    async def database_busy(request: Request, exc: Exception) -> JSONResponse:
        # No free pooled connection in time, a SQLite lock held past busy_timeout, or the
        # database unreachable: the request's transaction was rolled back (nothing is
        # stored), so the client may send it again -- a 503 with Retry-After, not a 500.
        logger.warning(
            "database busy or unreachable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        wait = request.app.state.settings.retry_after_s
        return _error(
            503,
            "overloaded",
            f"The server is busy. Nothing was stored; send the request again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )

    async def server_error(request: Request, exc: Exception) -> JSONResponse:
        logger.error(
            "unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return _error(500, "internal", "Something went wrong on the server.")

    app.add_exception_handler(PlatformError, platform_error)
    app.add_exception_handler(DyadlabError, dyadlab_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(PoolTimeoutError, database_busy)
    app.add_exception_handler(OperationalError, database_busy)
    app.add_exception_handler(Exception, server_error)


def create_app(
    settings: Settings | None = None,
    *,
    migrate: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """Build the platform's ASGI app.

    Parameters
    ----------
    settings : Settings, optional
        Default: :meth:`Settings.from_env`.
    migrate : bool
        Upgrade the database to the newest migration first (default True).
    clock : callable, optional
        Returns the current aware UTC time; tests pass a fixed clock.

    Returns
    -------
    fastapi.FastAPI
        ``app.state`` holds ``settings``, ``engine``, ``sessionmaker`` and ``templates``.
    """
    settings = settings or Settings.from_env()
    install_log_redaction()
    limit = settings.max_concurrent_requests
    engine = make_engine(settings.database_url, pool_size=max(POOL_SIZE, pool_size_for(limit)))
    if migrate:
        upgrade_database(engine)
    app = FastAPI(
        title="dyadlab platform",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or utcnow
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.templates = Jinja2Templates(directory=str(files("dyadlab.platform") / "templates"))
    app.mount(
        "/static", StaticFiles(directory=str(files("dyadlab.platform") / "static")), name="static"
    )
    _install_error_handlers(app)
    app.include_router(api_participant.router)
    app.include_router(api_ratings.router)
    app.include_router(api_ratings.researcher_router)
    app.include_router(api_researcher.router)
    app.include_router(push_worker.router)
    # Innermost, inside the participant cookie bridge that install_pages adds.
    app.add_middleware(LeanSubmitMiddleware, state=app.state)
    install_pages(app)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> HTMLResponse:
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(request, "index.html", {"lang": "en"})

    @app.get("/healthz", include_in_schema=False)
    async def health() -> dict[str, str]:  # async: answers even when every thread is busy
        return {"status": "ok"}

    app.add_middleware(
        AdmissionMiddleware,
        limit=limit,
        wait_s=settings.admission_wait_s,
        retry_after_s=settings.retry_after_s,
    )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.https)
    return app
