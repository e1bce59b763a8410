"""What the HTML pages share: rendering, CSRF protection and the participant session.

The participant session
-----------------------
A personal link ``/p/{token}`` is opened once: the server answers with a small page
that stores the token in the ``dyadlab_p`` cookie (``HttpOnly``, ``SameSite=Strict``,
``Secure`` under HTTPS, ``Path=/``) and moves on to the clean address ``/s/`` with
``location.replace`` (a ``<meta http-equiv="refresh">`` without JavaScript). So the
token is not kept in the address bar or history, and ``Referrer-Policy: no-referrer``
keeps it out of referrers. A 200 page is used instead of a redirect on purpose: a link
clicked in a web-mail tab is a cross-site navigation, and browsers do not send a
``SameSite=Strict`` cookie after a cross-site redirect chain; the next navigation, made
by our own page, is same-site.

The browser script posts answers to the participant JSON API (``/api/v1/me/...``),
which is authorised by ``Authorization: Bearer``. :class:`ParticipantCookieBridge`
lets the session cookie stand in for that header on ``/api/v1/me`` when no header is
sent — after the CSRF check below for every request that changes something.

CSRF protection (double-submit cookie plus an origin check)
-----------------------------------------------------------
Every page sets a random ``dyadlab_csrf`` cookie (``HttpOnly``, ``SameSite=Strict``)
and writes the same value into its forms (hidden field ``csrf``) and into
``<meta name="csrf-token">`` for the script (header ``X-CSRF-Token``). A ``POST`` is
accepted only if the submitted value equals the cookie (constant-time compare) and the
browser does not say it comes from elsewhere (``Sec-Fetch-Site: same-origin`` when sent,
else an ``Origin`` naming this host; see :func:`_same_origin`). Another site can
neither read nor set the cookie, and ``SameSite=Strict`` keeps the session cookies off
cross-site requests as a second line of defence.

Examples
--------
>>> from fastapi import FastAPI
>>> app = FastAPI()
>>> install_pages(app)  # adds the page routers and the cookie bridge
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Receive, Scope, Send

from dyadlab.platform.settings import Settings

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PARTICIPANT_COOKIE",
    "PARTICIPANT_MAX_AGE_S",
    "ParticipantCookieBridge",
    "csrf_ok",
    "csrf_token_for",
    "install_pages",
    "render",
]

PARTICIPANT_COOKIE = "dyadlab_p"
CSRF_COOKIE = "dyadlab_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
#: A participant stays logged in on their device for the length of a long diary study.
PARTICIPANT_MAX_AGE_S = 120 * 24 * 3600
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token_for(request: Request) -> str:
    """The CSRF token of this browser (its cookie's value, or a new random one)."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if len(existing) >= 32:
        return existing
    cached = getattr(request.state, "new_csrf", None)
    if isinstance(cached, str):
        return cached
    token = secrets.token_urlsafe(32)
    request.state.new_csrf = token
    return token


def _same_origin(request: Request) -> bool:
    """Whether the browser says the request comes from this site.

    ``Sec-Fetch-Site`` (sent by current browsers) must be ``same-origin``. Without it, an
    ``Origin`` header must name this host; ``Origin: null`` (what browsers send under
    ``Referrer-Policy: no-referrer``) and no header at all leave the decision to the
    double-submit check.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.lower()


def csrf_ok(request: Request, submitted: str | None) -> bool:
    """Whether a state-changing request passes the double-submit and origin checks."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if len(cookie) < 32 or not submitted:
        return False
    if not hmac.compare_digest(cookie.encode(), submitted.encode()):
        return False
    return _same_origin(request)


def set_csrf_cookie(request: Request, response: Response, settings: Settings) -> None:
    """Store the page's CSRF token in the browser if it is new."""
    token = getattr(request.state, "new_csrf", None)
    if isinstance(token, str):
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            secure=settings.https,
            samesite="strict",
            path="/",
        )


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page template with the CSRF token, never cached by the browser."""
    templates: Jinja2Templates = request.app.state.templates
    settings: Settings = request.app.state.settings
    full = {"csrf": csrf_token_for(request), **context}
    response = templates.TemplateResponse(request, template, full, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    set_csrf_cookie(request, response, settings)
    return response


class ParticipantCookieBridge:
    """Lets the participant session cookie authorise ``/api/v1/me`` requests.

    Only when the request has no ``Authorization`` header and carries the
    ``dyadlab_p`` cookie: the cookie's token becomes ``Authorization: Bearer``. A request
    that changes something must pass :func:`csrf_ok` (header ``X-CSRF-Token``); else it is
    refused with 403 in the API's error shape.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if (
            scope["type"] != "http"
            or not (path == "/api/v1/me" or path.startswith("/api/v1/me/"))
            or any(name == b"authorization" for name, _ in scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = request.cookies.get(PARTICIPANT_COOKIE)
        if token is None or "authorization" in request.headers:
            await self.app(scope, receive, send)
            return
        if request.method not in _SAFE_METHODS and not csrf_ok(
            request, request.headers.get(CSRF_HEADER)
        ):
            body = {
                "error": {
                    "code": "csrf",
                    "message": "Missing or wrong X-CSRF-Token header; reload the page.",
                }
            }
            response = Response(json.dumps(body), status_code=403, media_type="application/json")
            await response(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        headers.append((b"authorization", b"Bearer " + token.encode("latin-1", "replace")))
        await self.app({**scope, "headers": headers}, receive, send)


def install_pages(app: FastAPI) -> None:
    """Add the participant and researcher pages and the participant cookie bridge."""
    from dyadlab.platform.routes import (
        pages_analyses,
        pages_history,
        pages_participant,
        pages_ratings,
        pages_researcher,
    )

    app.include_router(pages_participant.router)
    app.include_router(pages_ratings.router)
    app.include_router(pages_ratings.researcher_router)
    app.include_router(pages_researcher.router)
    app.include_router(pages_analyses.router)
    app.include_router(pages_history.router)
    app.add_middleware(ParticipantCookieBridge)
