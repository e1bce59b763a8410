"""Helpers for the platform load and fault benchmark (and its smoke test).

Everything here talks to a *real* server process over real HTTP on 127.0.0.1:

- :class:`Server` starts ``dyadlab serve`` as a subprocess on a free port, waits for
  ``/healthz``, and can kill it with SIGKILL and start it again on the same port;
- :func:`create_study` runs ``dyadlab study create`` and ``dyadlab study invite --json``
  (the operations commands a researcher uses) and returns the partners' tokens;
- :func:`run_load` drives an open-loop load of participant submissions
  (``POST /api/v1/me/responses``, Bearer token, client-made ``submission_id``) at a fixed
  rate with a bounded number of connections, retrying every unacknowledged submission
  with the *same* ``submission_id`` until it is acknowledged;
- :func:`verify` reads the database afterwards: every acknowledged submission stored,
  none twice.

The load uses the example protocol's event questionnaire (``after_sex``, at most 3 a
day): each person submits at most 3 reports, one at a time, so a test needs about
``submissions / 6`` couples. Every person consents first (``POST /api/v1/me/consent``).

Example
-------
>>> server = Server("sqlite:////tmp/x.db")  # doctest: +SKIP
>>> server.start(); tokens = create_study(server.database_url, couples=10)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import httpx

__all__ = [
    "LoadResult",
    "Server",
    "Submission",
    "consent_all",
    "create_study",
    "free_port",
    "percentile",
    "run",
    "run_load",
    "verify",
]

BIN = Path(sys.executable).parent
EVENTS_PER_PERSON = 3  # max_per_day of the example protocol's event questionnaire
QUESTIONNAIRE = "after_sex"
T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop when it is installed (the ``platform`` extra has it): the
    load generator's event loop then costs about half the CPU per request."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is not on Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DYADLAB_DATABASE_URL"] = database_url
    env["DYADLAB_SECRET_KEY"] = "load-benchmark-" + "k" * 32
    env.pop("DYADLAB_SMTP_HOST", None)
    return env


class Server:
    """``dyadlab serve`` in a subprocess (one uvicorn process) on 127.0.0.1.

    Parameters
    ----------
    database_url : str
        Passed as ``DYADLAB_DATABASE_URL``.
    port : int, optional
        Default: a free port (kept across restarts).
    log : path, optional
        The server's stdout and stderr are appended here (default: discarded).
    """

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 1,
        port: int | None = None,
        log: Path | None = None,
    ):
        self.database_url = database_url
        self.workers = workers
        self.port = port or free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts: list[float] = []

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> float:
        """Start the server and wait until ``/healthz`` answers; returns the seconds taken."""
        t0 = time.perf_counter()
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        if self.workers == 1:
            cmd = [str(BIN / "dyadlab"), "serve", "--port", str(self.port), "--no-reminders"]
        else:
            cmd = [
                str(BIN / "uvicorn"),
                "--factory",
                "dyadlab.platform.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--no-access-log",
            ]
        self.proc = subprocess.Popen(
            cmd,
            env=_env(self.database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL reaches every worker
        )
        if self.log:
            out.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise RuntimeError(f"the server exited with {code} (log: {self.log})")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    took = time.perf_counter() - t0
                    self.starts.append(took)
                    return took
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer /healthz within {timeout} s")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, open transactions simply vanish."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def pids(self) -> list[int]:
        """The server's processes (the main one and any workers)."""
        if self.proc is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.proc.pid:
                        found.append(int(entry.name))
                except OSError:
                    pass
        return found

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL after 10 s."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _cli_json(args: Sequence[str], database_url: str) -> dict[str, Any]:
    done = subprocess.run(
        [str(BIN / "dyadlab"), *args, "--json"],
        env=_env(database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dyadlab {' '.join(args)} failed: {done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def create_study(database_url: str, *, couples: int) -> list[str]:
    """Create the example study and invite ``couples`` couples (the CLI, as a researcher
    would); returns every partner's personal token."""
    protocol = files("dyadlab") / "examples" / "daily_diary.yaml"
    study = _cli_json(["study", "create", str(protocol)], database_url)
    invited = _cli_json(
        ["study", "invite", str(study["study_id"]), "--couples", str(couples)], database_url
    )
    return [p["token"] for c in invited["couples"] for p in c["partners"]]


async def consent_all(base_url: str, tokens: Sequence[str], *, connections: int = 16) -> None:
    """Every person consents to version 1 (setup, not measured), over :class:`RawClient`
    (with httpx the client's own CPU made this take minutes for 10,000 persons)."""
    http = RawClient(base_url, connections)
    body = json.dumps({"version": 1}).encode()

    async def one(token: str) -> None:
        status, data = await http.post("/api/v1/me/consent", body, token)
        if status != 200:
            raise RuntimeError(f"consent: HTTP {status}: {data[:200]!r}")

    try:
        await asyncio.gather(*(one(t) for t in tokens))
    finally:
        await http.aclose()


class RawClient:
    """A lean HTTP/1.1 keep-alive client on asyncio streams, for the load only.

    httpx costs the client process about 3-4 ms of CPU per request; on a 2-core machine
    that is a whole core at 300 requests/s, taken from the server being measured. This
    client sends one pre-built request and reads status line, headers and a
    ``Content-Length`` body: about a tenth of that. At most ``connections`` sockets are
    open; a broken socket (server killed) raises :class:`ConnectionError` and is dropped.
    """

    def __init__(self, base_url: str, connections: int) -> None:
        host_port = base_url.split("://", 1)[1].rstrip("/")
        host, _, port = host_port.partition(":")
        self.host, self.port = host, int(port or 80)
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)
        self.reconnects = 0

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        """POST ``body`` (JSON) with a bearer token; returns (status, response body)."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        async with self._slots:
            reused = bool(self._idle)
            if reused:
                reader, writer = self._idle.pop()
            else:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), 2.0
                )
            try:
                writer.write(head + body)
                status_line = await asyncio.wait_for(reader.readline(), 10.0)
                if not status_line and reused:
                    # The server closed this idle keep-alive socket (its keep-alive timeout)
                    # before it read the request: send it once more on a new socket, as
                    # every HTTP client does.
                    writer.close()
                    self.reconnects += 1
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(self.host, self.port), 2.0
                    )
                    writer.write(head + body)
                    status_line = await asyncio.wait_for(reader.readline(), 10.0)
                if not status_line:
                    raise ConnectionError("connection closed")
                status = int(status_line.split()[1])
                length, keep = 0, True
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        keep = False
                data = await reader.readexactly(length)
            except (
                TimeoutError,
                OSError,
                asyncio.IncompleteReadError,
                ValueError,
                RuntimeError,  # uvloop: writing to a socket the server has closed
            ) as exc:
                writer.close()
                raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
            if keep:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return status, data

    async def aclose(self) -> None:
        """Close every idle connection."""
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()


class HttpxClient:
    """The same interface on :class:`httpx.AsyncClient` (``--client httpx``)."""

    def __init__(self, base_url: str, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        timeout = httpx.Timeout(10.0, connect=2.0)
        self._client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout)

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, bytes]:
        """POST ``body`` (JSON) with a bearer token; returns (status, response body)."""
        try:
            r = await self._client.post(
                path,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
        except httpx.TransportError as exc:
            raise ConnectionError(f"{type(exc).__name__}: {exc}") from exc
        return r.status_code, r.content

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()


CLIENTS: dict[str, type[RawClient] | type[HttpxClient]] = {"raw": RawClient, "httpx": HttpxClient}


def _answers(rng: random.Random) -> dict[str, Any]:
    return {
        "sexual_satisfaction": rng.randint(0, 100),
        "approach_motive": rng.randint(1, 7),
        "avoidance_motive": rng.randint(1, 7),
        "note": "",
    }


@dataclass
class Submission:
    """One submission as the client saw it."""

    submission_id: str
    scheduled: float  # when the open-loop schedule wanted it sent (monotonic)
    sent: float = 0.0  # when its first attempt was sent
    acked: float | None = None  # when a 200/201 came back
    attempts: int = 0
    status: int | None = None  # the final HTTP status (None: never answered)
    last_sent: float = 0.0  # when the acknowledged attempt was sent
    error: str | None = None


@dataclass
class LoadResult:
    """What :func:`run_load` measured."""

    submissions: list[Submission]
    duration_s: float  # the load phase (scheduling window)
    elapsed_s: float  # until the last submission was settled
    transport_errors: int = 0
    http_errors: dict[int, int] = field(default_factory=dict)
    kill_at_s: float | None = None
    restart_s: float | None = None

    @property
    def acked(self) -> list[Submission]:
        """Acknowledged submissions (HTTP 200 or 201)."""
        return [s for s in self.submissions if s.acked is not None]

    def latencies_ms(self, *, from_schedule: bool = False) -> list[float]:
        """Latency of each acknowledged submission answered on its first attempt."""
        return [
            1000.0 * (s.acked - (s.scheduled if from_schedule else s.sent))
            for s in self.submissions
            if s.acked is not None and s.attempts == 1
        ]

    def throughput(self) -> float:
        """Acknowledged submissions per second of the load phase."""
        done = [s for s in self.acked if s.acked is not None and s.attempts == 1]
        return len(done) / self.duration_s if self.duration_s else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation; NaN when empty."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1])


async def _submit(
    client: RawClient | HttpxClient,
    token: str,
    sub: Submission,
    body: bytes,
    result: LoadResult,
    *,
    retry_until: float,
) -> None:
    backoff = 0.02
    while True:
        sub.attempts += 1
        sub.last_sent = time.monotonic()
        if sub.attempts == 1:
            sub.sent = sub.last_sent
        try:
            status, data = await client.post("/api/v1/me/responses", body, token)
        except ConnectionError as exc:
            result.transport_errors += 1
            sub.error = str(exc)[:200]
        else:
            sub.status = status
            if status in (200, 201):
                sub.acked = time.monotonic()
                return
            result.http_errors[status] = result.http_errors.get(status, 0) + 1
            sub.error = data[:200].decode(errors="replace")
            if status < 500:
                return  # refused for a reason a retry will not change
        if time.monotonic() > retry_until:
            return
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 0.5)


async def run_load(
    base_url: str,
    tokens: Sequence[str],
    *,
    rate: float,
    duration: float,
    connections: int = 32,
    client: str = "raw",
    retry_s: float = 60.0,
    on_time: tuple[float, Callable[[], None]] | None = None,
    seed: int = 1,
) -> LoadResult:
    """Send ``rate`` submissions a second for ``duration`` seconds (open loop).

    Each submission is due at ``start + i / rate``; at most ``connections`` are in flight
    (more wait for a connection, and that wait counts in the latency from the schedule).
    A person sends one submission at a time and at most :data:`EVENTS_PER_PERSON`.
    A submission that is not acknowledged (connection refused or reset, 5xx) is retried
    with the same ``submission_id`` until ``retry_s`` after the load phase.

    ``on_time=(t, fn)`` calls ``fn()`` (blocking, in a thread) ``t`` seconds into the load,
    e.g. to SIGKILL and restart the server.
    """
    rng = random.Random(seed)
    free: list[tuple[str, int]] = [(t, 0) for t in tokens]
    rng.shuffle(free)
    needed = int(rate * duration) + 1
    if needed > len(tokens) * EVENTS_PER_PERSON:
        raise ValueError(f"{needed} submissions need {needed // 3 + 1} persons; got {len(tokens)}")
    result = LoadResult(submissions=[], duration_s=duration, elapsed_s=0.0)
    tasks: set[asyncio.Task[None]] = set()
    http = CLIENTS[client](base_url, connections)
    # Every submission's id and body made before the clock starts: the load generator's
    # CPU during the run is then the sending and receiving only.
    prepared = [(str(uuid.uuid4()), _answers(rng)) for _ in range(needed)]
    bodies = [
        json.dumps(
            {"submission_id": sid, "questionnaire": QUESTIONNAIRE, "answers": answers}
        ).encode()
        for sid, answers in prepared
    ]
    try:
        start = time.monotonic()
        retry_until = start + duration + retry_s
        hook: asyncio.Future[None] | None = None
        issued = 0
        while issued < needed:
            now = time.monotonic()
            if on_time is not None and hook is None and now - start >= on_time[0]:
                result.kill_at_s = now - start
                hook = asyncio.ensure_future(asyncio.to_thread(on_time[1]))
            due = min(needed, int((now - start) * rate) + 1)
            while issued < due and free:
                token, used = free.pop()
                sub = Submission(prepared[issued][0], start + issued / rate)
                body = bodies[issued]
                result.submissions.append(sub)
                task = asyncio.create_task(
                    _submit(http, token, sub, body, result, retry_until=retry_until)
                )

                def back(t: asyncio.Task[None], token: str = token, used: int = used) -> None:
                    tasks.discard(t)
                    if used + 1 < EVENTS_PER_PERSON:
                        free.insert(0, (token, used + 1))

                task.add_done_callback(back)
                tasks.add(task)
                issued += 1
            await asyncio.sleep(0.002)
        if tasks:
            await asyncio.wait(tasks)
        if hook is not None:
            await hook
        result.elapsed_s = time.monotonic() - start
    finally:
        await http.aclose()
    return result


def verify(database_url: str, sent: Sequence[Submission]) -> dict[str, int]:
    """Count, in the database, what happened to the submissions ``sent`` by one run.

    Returns ``sent``, ``acknowledged``, ``stored`` (rows in ``responses`` with one of the
    sent ids), ``stored_acked`` (acknowledged ids found), ``duplicates`` (rows beyond the
    first for one submission id) and ``lost`` (acknowledged ids not found).
    """
    from sqlalchemy import select

    from dyadlab.platform.db import make_engine
    from dyadlab.platform.tables import Response

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            every = [str(v) for v in conn.execute(select(Response.submission_id)).scalars()]
    finally:
        engine.dispose()
    wanted = {s.submission_id for s in sent}
    ids = [v for v in every if v in wanted]
    stored = set(ids)
    acked = {s.submission_id for s in sent if s.acked is not None}
    return {
        "sent": len(wanted),
        "acknowledged": len(acked),
        "stored": len(ids),
        "stored_acked": len(acked & stored),
        "duplicates": len(ids) - len(stored),
        "lost": len(acked - stored),
    }
