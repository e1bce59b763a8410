"""Fixtures for the browser tests: uvicorn serving ``create_app`` on a free local port,
and headless Debian Chromium driven by Playwright.

The tests are marked ``browser``. Without ``/usr/bin/chromium`` they are skipped, unless
``DYADLAB_REQUIRE_SERVICES`` is set (as in CI), where a missing browser fails the run.
Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright")
import uvicorn
from playwright.sync_api import Browser, Playwright, sync_playwright

from dyadlab.platform.app import create_app
from dyadlab.platform.settings import Settings
from tests.platform.conftest import EVENING_DAY3, Clock

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("DYADLAB_REQUIRE_SERVICES"):
        pytest.fail(f"Chromium is required (DYADLAB_REQUIRE_SERVICES) but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """The platform served by uvicorn in a thread; ``clock`` is the app's clock.

    The database is a SQLite file in ``tmp`` unless ``database_url`` names another one
    (e.g. the ``database_url`` fixture, for a test on SQLite and PostgreSQL).
    """

    def __init__(self, tmp: Path, database_url: str | None = None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.clock = Clock(EVENING_DAY3)
        settings = Settings(
            database_url=database_url or f"sqlite:///{tmp / 'e2e.db'}",
            base_url=self.url,
            secret_key="e2e-secret-" + "y" * 32,
        )
        self.app = create_app(settings, clock=self.clock)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            ws="none",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.app.state.engine.dispose()

    def session(self) -> Any:
        return self.app.state.sessionmaker()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server per test module (each test makes its own couples)."""
    _require_chromium()
    server = LiveServer(tmp_path_factory.mktemp("e2e"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    _require_chromium()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium (never a Playwright download)."""
    b = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield b
    b.close()


@pytest.fixture(autouse=True)
def _reset_clock(live: LiveServer) -> None:
    live.clock.now = EVENING_DAY3
