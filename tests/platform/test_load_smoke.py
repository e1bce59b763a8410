"""A small, fast version of the benchmark's fault scenario (benchmarks/platform_load.py).

A real ``dyadlab serve`` process, real HTTP on 127.0.0.1: 200 submissions at 100/s,
the server gets SIGKILL in the middle, is started again, and the clients retry every
unacknowledged submission with the same ``submission_id``. Then the database must hold
every acknowledged submission exactly once. On SQLite and on PostgreSQL (a fresh schema,
dropped afterwards; see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
N_SUBMISSIONS = 200
RATE = 100.0
KILL_AT_S = 0.8


def _load_client() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_load_client", BENCHMARKS / "_load_client.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_load_client", module)
    spec.loader.exec_module(module)
    return module


def _invite(database_url: str, protocol_path: Path, *, couples: int) -> list[str]:
    """The example study and ``couples`` couples, made in-process (the benchmark uses the
    CLI for this; here it only costs start-up time); returns the partners' tokens."""
    from dyadlab.platform.db import make_engine, make_sessionmaker, session_scope, upgrade_database
    from dyadlab.platform.protocol import load_protocol
    from dyadlab.platform.services.invitations import invite_couples
    from dyadlab.platform.services.studies import create_study

    engine = make_engine(database_url)
    try:
        upgrade_database(engine)
        with session_scope(make_sessionmaker(engine)) as session:
            study = create_study(session, load_protocol(protocol_path))
            made = invite_couples(session, study.id, couples, base_url="http://127.0.0.1")
            return [p.token for c in made for p in c.partners]
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sigkill_mid_load_loses_and_duplicates_nothing(
    database_url: str, protocol_path: Path, tmp_path: Path
) -> None:
    lc = _load_client()
    persons = N_SUBMISSIONS // lc.EVENTS_PER_PERSON + 2
    tokens = _invite(database_url, protocol_path, couples=persons // 2 + 1)
    server = lc.Server(database_url, workers=1, log=tmp_path / "server.log")
    server.start()
    kills: list[int] = []

    def kill_and_restart() -> None:
        assert server.proc is not None
        kills.append(server.proc.pid)
        server.kill()
        server.start()

    try:
        asyncio.run(lc.consent_all(server.base_url, tokens))
        result = asyncio.run(
            lc.run_load(
                server.base_url,
                tokens,
                rate=RATE,
                duration=N_SUBMISSIONS / RATE - 0.001,
                connections=8,
                retry_s=60.0,
                on_time=(KILL_AT_S, kill_and_restart),
            )
        )
    finally:
        server.stop()
    assert len(kills) == 1
    assert len(server.starts) == 2  # started, killed, started again
    sent = result.submissions
    assert len(sent) == N_SUBMISSIONS
    acked_before_kill = [s for s in sent if s.acked is not None and s.attempts == 1]
    retried = [s for s in sent if s.attempts > 1]
    assert acked_before_kill, "nothing was acknowledged before the kill"
    assert retried, "the kill interrupted nothing: the scenario did not test a crash"
    counts = lc.verify(database_url, sent)
    unacked = [s.error for s in sent if s.acked is None]
    assert unacked == [], f"never acknowledged: {unacked[:3]}"
    assert counts["acknowledged"] == N_SUBMISSIONS
    assert counts["lost"] == 0
    assert counts["duplicates"] == 0
    assert counts["stored"] == counts["stored_acked"] == N_SUBMISSIONS
    # nothing but 200/201 in the end, and a retry of a stored submission says 200
    assert {s.status for s in sent} <= {200, 201}
