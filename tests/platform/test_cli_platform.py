"""The platform's operations commands: study create/invite/list, export, researcher, serve."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pandas as pd
import pytest

from dyadlab.cli import main


@pytest.fixture
def cli(database_url, monkeypatch, capsys):
    """Run ``dyadlab ARGS`` on the test database; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("DYADLAB_DATABASE_URL", database_url)
    monkeypatch.setenv("DYADLAB_BASE_URL", "https://lab.example")

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_create_invite_export(cli, protocol_path, tmp_path, database_url):
    code, out, _ = cli("study", "create", protocol_path, "--json")
    assert code == 0
    created = json.loads(out)
    assert set(created) == {"study_id", "title", "protocol_hash"}
    sid = created["study_id"]
    code, out, _ = cli(
        "study", "invite", sid, "--couples", 2, "--start-date", "2026-03-01", "--json"
    )
    assert code == 0
    invited = json.loads(out)
    assert len(invited["couples"]) == 2
    partner = invited["couples"][0]["partners"][0]
    assert set(partner) == {"person_id", "role", "token", "url"}
    assert partner["url"] == f"https://lab.example/p/{partner['token']}"
    code, out, _ = cli("study", "list", "--json")
    assert json.loads(out)["studies"][0]["persons"] == 4
    target = tmp_path / "out.csv"
    code, out, _ = cli("export", sid, "--format", "individual", "--out", target, "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["study_id"] == sid and result["layout"] == "individual"
    assert (tmp_path / "out_codebook.csv").exists()
    df = pd.read_csv(target)
    assert {"dyad", "person", "role", "diary_day", "status"} <= set(df.columns)


def test_invite_text_output_lists_links(cli, protocol_path):
    cli("study", "create", protocol_path)
    code, out, _ = cli("study", "invite", 1, "--couples", 1)
    assert code == 0
    assert out.count("https://lab.example/p/") == 2


def test_invite_roles_and_indistinguishable(cli, protocol_path):
    cli("study", "create", protocol_path)
    code, out, _ = cli(
        "study", "invite", 1, "--couples", 2, "--roles", "partner_b,partner_b", "--json"
    )
    assert code == 0, out
    roles = [[p["role"] for p in c["partners"]] for c in json.loads(out)["couples"]]
    assert roles == [["partner_b", "partner_b"]] * 2
    code, out, _ = cli("study", "invite", 1, "--indistinguishable", "--json")
    assert code == 0, out
    assert [p["role"] for p in json.loads(out)["couples"][0]["partners"]] == [None, None]
    code, out, _ = cli("study", "invite", 1, "--json")
    assert [p["role"] for p in json.loads(out)["couples"][0]["partners"]] == [
        "partner_a",
        "partner_b",
    ]
    code, _, err = cli("study", "invite", 1, "--roles", "partner_a")
    assert code == 2 and "two roles" in err
    code, _, err = cli("study", "invite", 1, "--roles", "a,b", "--indistinguishable")
    assert code == 2 and "exclude each other" in err
    code, _, err = cli("study", "invite", 1, "--roles", "man,woman")
    assert code == 2 and "'man'" in err
    code, out, _ = cli("study", "list", "--json")
    assert json.loads(out)["studies"][0]["persons"] == 8


def test_errors_are_one_line(cli, protocol_path, tmp_path):
    code, _, err = cli("export", 99, "--out", tmp_path / "x.csv")
    assert code == 1
    assert err.strip() == "dyadlab: error: There is no study 99."
    code, _, err = cli("export", 1)
    assert code == 2 and "--out" in err
    cli("study", "create", protocol_path)
    code, _, err = cli("export", 1, "--format", "wide", "--out", tmp_path / "x.csv")
    assert code == 2 and "layout" in err
    code, _, err = cli("study", "invite", 1, "--start-date", "March")
    assert code == 2 and "YYYY-MM-DD" in err


def test_researcher_add(cli, monkeypatch):
    monkeypatch.setenv("DYADLAB_RESEARCHER_PASSWORD", "a long passphrase")
    code, out, _ = cli("researcher", "add", "Ann@Lab.example", "--role", "owner", "--json")
    assert code == 0
    assert json.loads(out) == {"researcher_id": 1, "email": "ann@lab.example", "role": "owner"}
    code, _, err = cli("researcher", "add", "ann@lab.example", "--role", "owner")
    assert code == 1 and "exists" in err
    code, _, err = cli("researcher", "add", "bob@lab.example", "--role", "boss")
    assert code == 2 and "owner" in err


def test_missing_extra_message(cli, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "fastapi" else real(name, *a)
    )
    code, _, err = cli("study", "list")
    assert code == 1
    assert "pip install 'dyadlab[platform]'" in err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_starts_uvicorn(database_url, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DYADLAB_DATABASE_URL": database_url}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dyadlab.cli", "serve", "--port", str(port), "--no-reminders"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert r.json() == {"status": "ok"}
        assert r.headers["x-frame-options"] == "DENY"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


# --- serve --workers ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\0", b" ").decode()


def _server_pid(client: socket.socket, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server end of ``client``'s TCP connection (by the
    socket's inode in /proc/net/tcp and the processes' open files)."""
    cport = client.getsockname()[1]
    sport = client.getpeername()[1]
    want_local, want_remote = f"0100007F:{sport:04X}", f"0100007F:{cport:04X}"
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if parts[1] == want_local and parts[2] == want_remote:
                inode = parts[9]
    if inode is None:
        return None
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _healthz(port: int) -> socket.socket:
    """A keep-alive connection that has had one /healthz answered (left open)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    reply = b""
    while not reply.endswith(b'{"status":"ok"}'):
        chunk = conn.recv(4096)
        assert chunk, reply
        reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    return conn


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_with_two_workers_serves_from_both_and_reminds_once(database_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "DYADLAB_DATABASE_URL": database_url,
        "DYADLAB_SMTP_HOST": "127.0.0.1",  # nothing is due, so nothing is sent
        "DYADLAB_SMTP_PORT": str(_free_port()),
    }
    env.pop("DYADLAB_SECRET_KEY", None)  # made once by `serve`, shared by the workers
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dyadlab.cli", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    conns: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while len(workers) < 2 or len(log_path.read_text().split("Application startup")) < 3:
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
            workers = [p for p in _children(proc.pid) if "spawn_main" in _cmdline(p)]
        assert len(workers) == 2
        served = set()
        for _ in range(200):  # the kernel hands each new connection to one of the workers
            conns.append(_healthz(port))
            served.add(_server_pid(conns[-1], [proc.pid, *workers]))
            if served == set(workers):
                break
        assert served == set(workers), served  # both workers answer; the main process none
        # A researcher's login made by one worker is valid in the other (one secret key).
        from dyadlab.platform.db import make_engine, make_sessionmaker
        from dyadlab.platform.services.researchers import create_researcher

        engine = make_engine(database_url)
        with make_sessionmaker(engine)() as session:
            create_researcher(session, "ann@lab.example", "a long passphrase", role="owner")
            session.commit()
        engine.dispose()
        url = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{url}/api/v1/auth/login",
            json={"email": "ann@lab.example", "password": "a long passphrase"},
        ).json()["token"]
        for _ in range(20):  # new connections: both workers check the token
            r = httpx.get(f"{url}/api/v1/studies", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
    finally:
        for conn in conns:
            conn.close()
        proc.terminate()
        proc.wait(timeout=20)
    text = log_path.read_text()
    assert text.count("Started server process") == 2, text
    loops = re.findall(r"reminders every 60 s from process (\d+)", text)
    assert loops == [str(proc.pid)], text  # one loop, in the main process, not per worker


def test_serve_refuses_fewer_than_one_worker(cli):
    for bad in ("0", "-2"):
        code, _, err = cli("serve", "--workers", bad)
        assert code == 2
        assert "--workers must be a whole number of at least 1" in err
    from dyadlab.platform.serve import check_workers

    assert check_workers(3) == 3


def test_serve_refuses_workers_on_an_in_memory_database(cli, monkeypatch):
    for url in ("sqlite://", "sqlite:///:memory:"):
        monkeypatch.setenv("DYADLAB_DATABASE_URL", url)
        code, _, err = cli("serve", "--workers", "2")
        assert code == 2
        assert "would give each worker a database of its own" in err


def test_study_members(cli, monkeypatch, protocol_path):
    monkeypatch.setenv("DYADLAB_RESEARCHER_PASSWORD", "a long passphrase")
    for email, role in (("ann@lab.example", "owner"), ("bob@lab.example", "analyst")):
        assert cli("researcher", "add", email, "--role", role)[0] == 0
    code, _, err = cli("study", "create", protocol_path, "--owner", "nobody@lab.example")
    assert code == 1 and "no researcher account 'nobody@lab.example'" in err
    code, out, _ = cli("study", "create", protocol_path, "--owner", "Ann@Lab.example", "--json")
    study = json.loads(out)["study_id"]
    code, out, _ = cli("study", "member", "add", study, "bob@lab.example", "--role", "monitor")
    assert code == 0 and "bob@lab.example is now monitor of study" in out
    code, out, _ = cli("study", "member", "list", study, "--json")
    got = [(m["email"], m["role"]) for m in json.loads(out)["members"]]
    assert got == [("ann@lab.example", "owner"), ("bob@lab.example", "monitor")]
    code, _, err = cli("study", "member", "remove", study, "ann@lab.example")
    assert code == 1 and "only owner" in err
    code, _, err = cli("study", "member", "add", study, "bob@lab.example", "--role", "chief")
    assert code == 2 and "'chief'" in err and "monitor" in err
    assert cli("study", "member", "remove", study, "bob@lab.example")[0] == 0
    code, _, err = cli("study", "member", "remove", study, "bob@lab.example")
    assert code == 1 and "not a member" in err
    code, _, err = cli("study", "member", "list", 99)
    assert code == 1 and "There is no study 99." in err
    code, out, _ = cli("researcher", "add", "root@lab.example", "--role", "admin", "--json")
    assert code == 0 and json.loads(out)["role"] == "admin"
