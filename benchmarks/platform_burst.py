"""Benchmark: 1,000 phones post at the same moment (issue 10, "Bursts").

Target: every one of ``--n`` simultaneous submissions is acknowledged within 10 s or
answered ``503`` with ``Retry-After``; none is lost, none stored twice, no other error
(never a 500). A 503 is sent again after its ``Retry-After`` (plus up to half again at
random, as the participant page does) with the same ``submission_id`` until it is
stored; at the end the database must hold exactly ``--n`` rows for the sent ids.

What runs, per backend (``--backend sqlite|postgresql``, both by default)
-----------------------------------------------------------------------
1. A fresh database (SQLite file in a temporary folder; PostgreSQL: a new database
   ``dyadlab_bench_<random>``, dropped at the end), the example study and ``n / 2``
   couples made with the CLI (``dyadlab study create`` / ``invite``), as a researcher
   would; every person consents (not measured).
2. The real server (``uvicorn --workers 2`` as in ``benchmarks/platform_load.py``;
   ``--workers 1`` runs ``dyadlab serve``) on a free 127.0.0.1 port, with its default
   admission settings (``DYADLAB_MAX_CONCURRENT_REQUESTS`` etc. from the environment, or
   ``--limit`` / ``--wait``).
3. The burst: one connection per submission, all opened and sent at once (each person
   sends one event report). Latency is from sending to the first answer.

Printed: first answers (acknowledged / 503 / other errors), p50, p99 and max latency of
the first answers, the slowest acknowledgement, wall time until every submission was
stored, and what the database holds. Exit status 1 when the target is missed.

Run: ``python benchmarks/platform_burst.py --backend sqlite`` (PostgreSQL at
``DYADLAB_BENCH_POSTGRES_URL`` / ``DYADLAB_TEST_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _load_client import (
    QUESTIONNAIRE,
    Server,
    Submission,
    consent_all,
    create_study,
    percentile,
    verify,
)
from platform_load import DEFAULT_POSTGRES, _postgres_database, _postgres_error, _sqlite_database

TARGET_S = 10.0
GIVE_UP_S = 120.0


@dataclass
class First:
    """The first answer to one submission."""

    status: int | None  # None: no answer (connection error)
    seconds: float
    retry_after: float | None = None


async def _post(host: str, port: int, token: str, body: bytes) -> tuple[int, float | None]:
    """One POST on a new connection; returns (status, Retry-After seconds or None)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 30.0)
    try:
        writer.write(
            (
                f"POST /api/v1/me/responses HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
        )
        status_line = await asyncio.wait_for(reader.readline(), 60.0)
        if not status_line:
            raise ConnectionError("connection closed")
        status = int(status_line.split()[1])
        retry_after = None
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"retry-after":
                retry_after = float(value.strip())
            elif name == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return status, retry_after
    finally:
        writer.close()


async def burst(
    base_url: str, tokens: list[str], *, seed: int = 1
) -> tuple[list[Submission], list[First], float, int]:
    """Send one submission per token at the same moment; resend 503s and failed ones
    (same ``submission_id``) until stored. Returns the submissions, their first answers,
    the wall time until all were acknowledged, and the number of attempts."""
    rng = random.Random(seed)
    host, _, port = base_url.split("://", 1)[1].partition(":")
    subs = [Submission(str(uuid.uuid4()), 0.0) for _ in tokens]
    bodies = [
        json.dumps(
            {
                "submission_id": s.submission_id,
                "questionnaire": QUESTIONNAIRE,
                "answers": {"sexual_satisfaction": rng.randint(0, 100), "note": ""},
            }
        ).encode()
        for s in subs
    ]
    firsts: list[First | None] = [None] * len(subs)
    start = time.monotonic()
    gate = asyncio.Event()

    async def one(i: int) -> None:
        sub, token = subs[i], tokens[i]
        await gate.wait()
        while time.monotonic() - start < GIVE_UP_S:
            sub.attempts += 1
            sent = time.monotonic()
            if sub.attempts == 1:
                sub.sent = sent
            try:
                status, retry_after = await _post(host, int(port), token, bodies[i])
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                status, retry_after = None, None
                sub.error = f"{type(exc).__name__}: {exc}"[:200]
            took = time.monotonic() - sent
            if firsts[i] is None:
                firsts[i] = First(status, took, retry_after)
            sub.status = status
            if status in (200, 201):
                sub.acked = time.monotonic()
                return
            if status is not None and status < 500:
                return  # refused for a reason a retry will not change
            wait = retry_after if retry_after is not None else 1.0
            await asyncio.sleep(wait * (1.0 + 0.5 * rng.random()))

    tasks = [asyncio.create_task(one(i)) for i in range(len(subs))]
    await asyncio.sleep(0.05)
    start = time.monotonic()
    gate.set()
    await asyncio.gather(*tasks)
    wall = max((s.acked for s in subs if s.acked is not None), default=start) - start
    attempts = sum(s.attempts for s in subs)
    return subs, [f or First(None, float("nan")) for f in firsts], wall, attempts


def _report(
    backend: str,
    subs: list[Submission],
    firsts: list[First],
    wall: float,
    attempts: int,
    counts: dict[str, int],
) -> bool:
    n = len(subs)
    acked = [f for f in firsts if f.status in (200, 201)]
    busy = [f for f in firsts if f.status == 503]
    other = [f for f in firsts if f.status not in (200, 201, 503)]
    statuses: dict[str, int] = {}
    for f in other:
        key = str(f.status) if f.status is not None else "no answer"
        statuses[key] = statuses.get(key, 0) + 1
    seconds = [f.seconds for f in firsts if f.status is not None]
    slow = [f for f in firsts if f.status is not None and f.seconds > TARGET_S]
    never = sum(1 for s in subs if s.acked is None)
    print(
        f"  first answers: acknowledged {len(acked)}, 503 {len(busy)}, "
        f"errors {len(other)} {statuses or ''}"
    )
    print(
        f"  latency of first answers: p50 {percentile(seconds, 50):.2f} s, "
        f"p99 {percentile(seconds, 99):.2f} s, max {max(seconds, default=float('nan')):.2f} s; "
        f"slowest acknowledgement {max((f.seconds for f in acked), default=float('nan')):.2f} s"
    )
    print(
        f"  all {n - never} of {n} stored after {wall:.2f} s (wall), {attempts} attempts "
        f"({attempts - n} resent after a 503 or an error)"
    )
    print(
        f"  database: {counts['stored']} rows for the {counts['sent']} sent ids, "
        f"duplicates {counts['duplicates']}, lost {counts['lost']}"
    )
    ok = (
        not other
        and not slow
        and not never
        and counts["stored"] == n
        and counts["duplicates"] == 0
        and counts["lost"] == 0
    )
    print(
        f"  {backend}: {'ok' if ok else 'MISSED'} (target: every one acknowledged within "
        f"{TARGET_S:.0f} s or answered 503, no other error, exactly {n} rows)"
    )
    return ok


def _run(backend: str, url: str, folder: Path, args: argparse.Namespace) -> bool:
    t0 = time.perf_counter()
    tokens = create_study(url, couples=(args.n + 1) // 2)[: args.n]
    print(f"  setup: study and {(args.n + 1) // 2} couples in {time.perf_counter() - t0:.1f} s")
    server = Server(url, workers=args.workers, log=folder / "server.log")
    what = "dyadlab serve" if args.workers == 1 else f"uvicorn --workers {args.workers}"
    print(f"  server: {what} on {server.base_url}, up in {server.start():.1f} s")
    try:
        asyncio.run(consent_all(server.base_url, tokens))
        subs, firsts, wall, attempts = asyncio.run(burst(server.base_url, tokens))
    finally:
        server.stop()
    counts = verify(url, subs)
    return _report(backend, subs, firsts, wall, attempts, counts)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite,postgresql")
    parser.add_argument("--n", type=int, default=1000, help="simultaneous submissions")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--limit", type=int, help="DYADLAB_MAX_CONCURRENT_REQUESTS")
    parser.add_argument("--wait", type=float, help="DYADLAB_ADMISSION_WAIT_S")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep databases and server logs")
    args = parser.parse_args(argv)
    if args.limit is not None:
        os.environ["DYADLAB_MAX_CONCURRENT_REQUESTS"] = str(args.limit)
    if args.wait is not None:
        os.environ["DYADLAB_ADMISSION_WAIT_S"] = str(args.wait)
    shown = {
        k: os.environ.get(f"DYADLAB_{k.upper()}", "default")
        for k in ("max_concurrent_requests", "admission_wait_s", "retry_after_s")
    }
    print(
        f"dyadlab platform burst: {args.n} simultaneous submissions, {args.workers} server "
        f"worker(s), admission {shown}; cores {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    results = []
    for backend in [b.strip() for b in args.backend.split(",") if b.strip()]:
        if backend == "sqlite":
            print("\nSQLite (WAL, synchronous=NORMAL)")
            with _sqlite_database(args.keep) as (url, folder):
                results.append(_run("sqlite", url, folder, args))
        elif backend == "postgresql":
            error = _postgres_error(args.postgres_url)
            if error:
                print(f"\nPostgreSQL skipped: not reachable at {args.postgres_url}: {error}")
                continue
            print("\nPostgreSQL")
            with _postgres_database(args.postgres_url, args.keep) as (url, folder):
                results.append(_run("postgresql", url, folder, args))
        else:
            parser.error(f"--backend {backend!r}: use sqlite, postgresql or both")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
