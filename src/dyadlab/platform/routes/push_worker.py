"""The service worker for Web Push reminders, served at ``/s/push-sw.js``.

A service worker controls the pages under the folder it is served from, so serving it
at ``/s/push-sw.js`` gives it the scope ``/s/`` — all participant pages — without a
``Service-Worker-Allowed`` header (which is sent anyway, to make the scope explicit).
The script itself is ``static/push-sw.js``; it is sent with ``Cache-Control: no-cache``
so a new version reaches the browsers at their next visit.

Examples
--------
>>> [route.path for route in router.routes]
['/s/push-sw.js']
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import Response

__all__ = ["WORKER_PATH", "WORKER_SCOPE", "router"]

#: Where the service worker is served, and the pages it controls.
WORKER_PATH = "/s/push-sw.js"
WORKER_SCOPE = "/s/"

router = APIRouter(include_in_schema=False)


@cache
def _script() -> bytes:
    return (files("dyadlab.platform") / "static" / "push-sw.js").read_bytes()


@router.get(WORKER_PATH)
def service_worker() -> Response:
    """The service worker script (JavaScript), scope ``/s/``."""
    return Response(
        _script(),
        media_type="text/javascript",
        headers={"cache-control": "no-cache", "service-worker-allowed": WORKER_SCOPE},
    )
