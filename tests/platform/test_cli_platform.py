"""The platform's operations commands: study create/invite/list, export, researcher, serve."""

from __future__ import annotations

import json
import os
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
