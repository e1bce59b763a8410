"""Benchmark: continuous ratings of 100 couples at once (issue 16, "Performance").

Target: 100 couples (200 phones) rate at 10 Hz and upload a batch every 2 s (20 samples,
so 100 batches/s and 2,000 samples/s): every batch stored exactly once, p99 batch
latency < 100 ms, on SQLite and on PostgreSQL.

What runs, per backend (``--backend sqlite|postgresql``, both by default)
-----------------------------------------------------------------------
1. A fresh database (SQLite file in a temporary folder; PostgreSQL: a new database
   ``dyadlab_bench_<random>``, dropped at the end), the example ratings study
   (``dyadlab/examples/arousal_ratings.yaml``) and ``--couples`` couples made with the
   CLI; every person consents; partner A starts the couple's session and partner B
   joins it (the same id, checked). Not measured.
2. The real server (``dyadlab serve``, one process; ``--workers N`` runs uvicorn with N
   workers) on a free 127.0.0.1 port.
3. The load, open loop: each phone sends a batch every ``--batch-s`` seconds at its own
   phase (spread evenly over the period), ``rate_hz * batch_s`` samples each, with a
   client-made ``batch_id``; an answer other than 201 is sent again (same id) after
   0.5 s. Latency is from the batch's scheduled moment to the server's answer (so a
   client falling behind shows up in it too). ``--connections`` keep-alive sockets.
4. Verification: the database holds every sample of every batch once.

Printed: batches and samples, throughput, p50/p95/p99/max latency, errors and retries,
what the database holds. Exit status 1 when a batch is lost or stored twice (and, with
``--strict``, when p99 >= 100 ms). The machine this ran on for the issue was shared by
other jobs: figures are indicative.

Run: ``python benchmarks/platform_rating.py --backend sqlite --duration 30``.
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
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from _load_client import RawClient, Server, _cli_json, consent_all, percentile
from platform_load import DEFAULT_POSTGRES, _postgres_database, _postgres_error, _sqlite_database

TARGET_P99_MS = 100.0
RETRY_S = 0.5


@dataclass
class Phone:
    """One partner's phone: its token, the couple's session and what it sent."""

    token: str
    session: int
    sent_samples: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    batch_ids: list[str] = field(default_factory=list)


def _setup(url: str, server: Server, couples: int) -> list[Phone]:
    protocol = files("dyadlab") / "examples" / "arousal_ratings.yaml"
    study = _cli_json(["study", "create", str(protocol)], url)
    invited = _cli_json(["study", "invite", str(study["study_id"]), "--couples", str(couples)], url)
    pairs = [[p["token"] for p in c["partners"]] for c in invited["couples"]]
    asyncio.run(consent_all(server.base_url, [t for pair in pairs for t in pair]))
    phones: list[Phone] = []
    with httpx.Client(base_url=server.base_url, timeout=30.0) as client:
        for a, b in pairs:
            ids = []
            for token in (a, b):
                r = client.post(
                    "/api/v1/me/rating-sessions",
                    json={"rating": "arousal"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                r.raise_for_status()
                ids.append(r.json()["session_id"])
            if ids[0] != ids[1]:
                raise RuntimeError(f"the partners got two sessions: {ids}")
            phones += [Phone(a, ids[0]), Phone(b, ids[0])]
    return phones


async def _phone(
    phone: Phone,
    client: RawClient,
    *,
    t0: float,
    phase: float,
    period: float,
    per_batch: int,
    rate_hz: float,
    duration: float,
    counts: dict[str, int],
) -> None:
    rng = random.Random(phone.token)
    value = 50.0
    k = 0
    device_ms = 1_000_000.0 + phase * 1000
    while True:
        due = t0 + phase + k * period
        if due - t0 >= duration:
            return
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        samples = []
        for _ in range(per_batch):
            value = min(100.0, max(0.0, value + rng.uniform(-3, 3)))
            samples.append([round(device_ms, 3), round(value, 1)])
            device_ms += 1000.0 / rate_hz
        batch_id = str(uuid.uuid4())
        body = json.dumps(
            {
                "batch_id": batch_id,
                "samples": samples,
                "clock": {"offset_ms": 12.5, "rtt_ms": 8.0, "at_ms": 1_000_000.0},
            }
        ).encode()
        path = f"/api/v1/me/rating-sessions/{phone.session}/samples"
        while True:
            try:
                status, _ = await client.post(path, body, phone.token)
            except ConnectionError:
                status = 0
            if status in (200, 201):
                break
            counts[f"status_{status}"] = counts.get(f"status_{status}", 0) + 1
            counts["retries"] = counts.get("retries", 0) + 1
            await asyncio.sleep(RETRY_S)
        phone.latencies_ms.append(1000 * (time.perf_counter() - due))
        phone.sent_samples += per_batch
        phone.batch_ids.append(batch_id)
        k += 1


async def _load(
    base_url: str, phones: list[Phone], args: argparse.Namespace, counts: dict[str, int]
) -> float:
    client = RawClient(base_url, args.connections)
    per_batch = round(args.rate_hz * args.batch_s)
    t0 = time.perf_counter() + 0.5
    try:
        await asyncio.gather(
            *(
                _phone(
                    phone,
                    client,
                    t0=t0,
                    phase=args.batch_s * i / len(phones),
                    period=args.batch_s,
                    per_batch=per_batch,
                    rate_hz=args.rate_hz,
                    duration=args.duration,
                    counts=counts,
                )
                for i, phone in enumerate(phones)
            )
        )
    finally:
        await client.aclose()
    return time.perf_counter() - t0


def _stored(url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, func, select

    from dyadlab.platform.tables import RatingBatch, RatingSample

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            samples = conn.execute(select(func.count(RatingSample.id))).scalar_one()
            batches = conn.execute(select(func.count(RatingBatch.id))).scalar_one()
            distinct = conn.execute(
                select(func.count()).select_from(
                    select(RatingBatch.person_id, RatingBatch.batch_id).distinct().subquery()
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return {"samples": samples, "batches": batches, "distinct_batches": distinct}


def _backend(name: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    server = Server(url, workers=args.workers, log=folder / "server.log")
    print(f"  server up in {server.start():.1f} s on {server.base_url}")
    try:
        t0 = time.perf_counter()
        phones = _setup(url, server, args.couples)
        took = time.perf_counter() - t0
        print(f"  setup: {args.couples} couples, consent and sessions in {took:.1f} s")
        counts: dict[str, int] = {}
        wall = asyncio.run(_load(server.base_url, phones, args, counts))
    finally:
        server.stop()
    latencies = [x for p in phones for x in p.latencies_ms]
    sent_batches = sum(len(p.batch_ids) for p in phones)
    sent_samples = sum(p.sent_samples for p in phones)
    stored = _stored(url)
    ok = stored["samples"] == sent_samples and stored["batches"] == sent_batches
    result = {
        "backend": name,
        "batches": sent_batches,
        "samples": sent_samples,
        "samples_per_s": sent_samples / wall,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "max": max(latencies) if latencies else float("nan"),
        "retries": counts.get("retries", 0),
        "errors": {k: v for k, v in counts.items() if k != "retries"},
        "stored": stored,
        "ok": ok,
    }
    print(
        f"  {sent_batches} batches ({sent_samples} samples) in {wall:.1f} s: "
        f"{result['samples_per_s']:.0f} samples/s; latency ms p50 {result['p50']:.1f} "
        f"p95 {result['p95']:.1f} p99 {result['p99']:.1f} max {result['max']:.1f}; "
        f"retries {result['retries']} {result['errors'] or ''}"
    )
    print(f"  stored: {stored} -> {'every batch once' if ok else 'MISMATCH'}")
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="sqlite,postgresql")
    parser.add_argument("--couples", type=int, default=100)
    parser.add_argument("--rate-hz", type=float, default=10.0)
    parser.add_argument("--batch-s", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of rating")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--keep", action="store_true", help="keep databases and server logs")
    parser.add_argument("--strict", action="store_true", help="exit 1 when p99 >= 100 ms")
    args = parser.parse_args(argv)
    print(
        f"dyadlab continuous ratings: {args.couples} couples at {args.rate_hz:g} Hz, a batch "
        f"every {args.batch_s:g} s, for {args.duration:g} s; {args.connections} connections, "
        f"{args.workers} server worker(s); cores {os.cpu_count()}, load average "
        f"{os.getloadavg()[0]:.1f} (a shared machine: figures are indicative)"
    )
    results = []
    for backend in [b.strip() for b in args.backend.split(",") if b.strip()]:
        if backend == "sqlite":
            print("\nSQLite (WAL)")
            with _sqlite_database(args.keep) as (url, folder):
                results.append(_backend("sqlite", url, folder, args))
        elif backend == "postgresql":
            error = _postgres_error(args.postgres_url)
            if error:
                print(f"\nPostgreSQL skipped: not reachable at {args.postgres_url}: {error}")
                continue
            with _postgres_database(args.postgres_url, args.keep) as (url, folder):
                print("\nPostgreSQL")
                results.append(_backend("postgresql", url, folder, args))
        else:
            parser.error(f"--backend {backend!r}: use sqlite, postgresql or both")
    print("\nSummary")
    for r in results:
        verdict = "ok" if r["ok"] else "LOST OR DUPLICATED BATCHES"
        target = "met" if r["p99"] < TARGET_P99_MS else "MISSED"
        print(
            f"  {r['backend']:<11} p99 {r['p99']:.1f} ms (target < {TARGET_P99_MS:.0f}: "
            f"{target}), {r['samples_per_s']:.0f} samples/s, {verdict}"
        )
    if any(not r["ok"] for r in results):
        return 1
    if args.strict and any(r["p99"] >= TARGET_P99_MS for r in results):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
