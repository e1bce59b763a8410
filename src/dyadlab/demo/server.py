"""Run the platform as a real server on 127.0.0.1, with a clock the demo moves.

The demo talks to the platform only over HTTP: ``uvicorn`` serving the platform's app
(the same app ``dyadlab serve`` runs) in a child process on a free port, with one or
more worker processes so the server and the simulated participants share the machine's
cores. The app's injectable clock (``create_app(settings, clock=...)``) is a
:class:`FileClock`: the demo writes the simulated time into a small file and every
worker reads it, so 28 diary evenings pass in seconds.

Examples
--------
>>> import datetime as dt, tempfile, pathlib
>>> clock = FileClock(pathlib.Path(tempfile.mkdtemp()) / "clock.txt")
>>> clock.set(dt.datetime(2026, 5, 1, 18, 0, tzinfo=dt.UTC))
>>> clock().hour
18
"""

from __future__ import annotations

import datetime as _dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

__all__ = ["FileClock", "ServerProcess", "free_port"]


class FileClock:
    """A clock shared between processes through a file.

    Calling it returns the time stored in ``path`` (aware UTC), or the real time when
    the file is absent or empty. :meth:`set` writes the file atomically.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def set(self, when: _dt.datetime | None) -> None:
        """Store ``when`` (aware); ``None`` returns to the real clock."""
        if when is not None and when.tzinfo is None:
            raise ValueError("FileClock.set(): give an aware datetime (UTC).")
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("" if when is None else when.astimezone(_dt.UTC).isoformat())
        os.replace(tmp, self.path)

    def __call__(self) -> _dt.datetime:
        try:
            text = self.path.read_text().strip()
        except FileNotFoundError:
            text = ""
        return _dt.datetime.fromisoformat(text) if text else _dt.datetime.now(_dt.UTC)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """``uvicorn`` serving the platform in a child process; use as a context manager.

    Parameters
    ----------
    database_url : str
        The (already migrated) database.
    secret_key : str
        Shared by the workers, so a researcher's session is valid in each of them.
    port : int, optional
        Default: a free port.
    clock_file : path, optional
        A :class:`FileClock` file; without it the server uses the real clock.
    workers : int
        uvicorn worker processes.
    host : str
    """

    def __init__(
        self,
        *,
        database_url: str,
        secret_key: str,
        port: int | None = None,
        clock_file: str | Path | None = None,
        workers: int = 2,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.workers = workers
        self._env = {
            **os.environ,
            "DYADLAB_DATABASE_URL": database_url,
            "DYADLAB_SECRET_KEY": secret_key,
            "DYADLAB_BASE_URL": self.url,
            "DYADLAB_DEMO_CLOCK": str(clock_file) if clock_file else "",
        }
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's base address, e.g. ``http://127.0.0.1:8123``."""
        return f"http://{self.host}:{self.port}"

    def launch(self) -> None:
        """Start the server process without waiting for it (see :meth:`wait_ready`)."""
        cmd = [sys.executable, "-m", "dyadlab.demo._serve", self.host, str(self.port)]
        cmd.append(str(self.workers))
        self._proc = subprocess.Popen(cmd, env=self._env)

    def start(self, timeout: float = 60.0) -> None:
        """Start the server and wait until it answers ``/healthz``."""
        self.launch()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until the launched server answers ``/healthz``."""
        import httpx

        assert self._proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the platform server stopped (exit {self._proc.returncode})")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the platform server did not start on {self.url}")
            time.sleep(0.1)

    def wait(self) -> None:
        """Block until the server ends (e.g. Ctrl+C)."""
        if self._proc is not None:
            self._proc.wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s)."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> ServerProcess:
        if self._proc is None:
            self.start()
        else:
            self.wait_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
