"""End to end: ``dyadlab demo`` on a small study (8 couples x 5 days), and its parts.

One demo run (the ``demo_out`` fixture of tests/conftest.py, through the command line)
serves every test here: the platform really serves HTTP on 127.0.0.1, the answers go
through its API, the export is read back and the report is checked — also in headless
Chromium (marked ``browser``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from dyadlab.cli import main
from dyadlab.demo import study as demo_study
from dyadlab.demo.server import FileClock, free_port
from dyadlab.demo.simulate_answers import TICK_LOCAL, simulate_answers, tick_times
from dyadlab.demo.study import demo_protocol

# --- the simulated participants ---------------------------------------------------------


def test_simulation_is_seeded_and_has_both_kinds_of_couple() -> None:
    a = simulate_answers(20, 6, rng=3)
    b = simulate_answers(20, 6, rng=3)
    assert a.submissions == b.submissions
    assert set(a.couples["kind"]) == {"man-woman", "same-sex"}
    mixed = a.couples[a.couples["kind"] == "man-woman"]
    assert set(mixed["role_0"]) == {"man"} and set(mixed["role_1"]) == {"woman"}
    same = a.couples[a.couples["kind"] == "same-sex"]
    assert same["role_0"].isna().all() and same["role_1"].isna().all()


def test_simulated_answers_are_valid_for_the_protocol_and_have_missed_prompts() -> None:
    from dyadlab.platform.protocol import parse_protocol

    plan = simulate_answers(30, 10, rng=5)
    protocol = parse_protocol(demo_protocol(10))
    for s in plan.submissions:
        protocol.validate_answers(s.questionnaire, s.answers)  # raises if invalid
    evening = [s for s in plan.submissions if s.questionnaire == "evening"]
    possible = 30 * 10 * 2
    assert 0.6 * possible < len(evening) < possible  # some prompts are missed
    assert any(s.tick == 2 for s in evening)  # a few arrive late, after midnight
    per_person = pd.Series([(s.couple, s.partner) for s in evening]).value_counts()
    assert per_person.min() < per_person.max()  # person-level differences
    conflict = [s for s in evening if s.answers["conflict"] == "yes"]
    assert conflict and all("conflict_intensity" in s.answers for s in conflict)
    assert all(
        "conflict_intensity" not in s.answers for s in evening if s.answers["conflict"] == "no"
    )


def test_ticks_deliver_every_answer_inside_the_platform_grace_period() -> None:
    plan = simulate_answers(10, 4, rng=1)
    start = dt.date(2026, 3, 27)  # spans the spring clock change in Amsterdam
    for s in plan.submissions:
        tick = tick_times(start, s.day, "Europe/Amsterdam")[s.tick]
        local = dt.datetime.combine(start + dt.timedelta(days=s.day - 1), dt.time(20))
        finished = local + dt.timedelta(minutes=s.finished_minutes)
        from dyadlab.platform.schedule import to_utc

        lag = tick - to_utc(finished, "Europe/Amsterdam")
        assert dt.timedelta(0) <= lag <= dt.timedelta(minutes=120)
    assert len(TICK_LOCAL) == 3


def test_demo_invites_each_couple_with_its_roles_through_the_api() -> None:
    plan = simulate_answers(n_couples=10, n_days=2, rng=3)
    roles = demo_study._invitation_roles(plan)
    expected = [["man", "woman"] if kind == "man-woman" else None for kind in plan.couples["kind"]]
    assert roles == expected and None in roles and ["man", "woman"] in roles
    assert demo_protocol(2)["dyad"]["roles"] == ["man", "woman"]
    assert not hasattr(demo_study, "_set_roles")  # no direct database writes of roles


def test_file_clock_is_shared_through_its_file(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock.txt")
    before = dt.datetime.now(dt.UTC)
    assert clock() >= before  # no file yet: the real clock
    when = dt.datetime(2026, 5, 1, 18, 30, tzinfo=dt.UTC)
    clock.set(when)
    assert FileClock(tmp_path / "clock.txt")() == when
    with pytest.raises(ValueError, match="aware"):
        clock.set(dt.datetime(2026, 5, 1))
    assert 1024 <= free_port() <= 65535


def test_demo_rejects_a_bad_number_of_couples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--no-serve", "--couples", "1"]) == 2
    assert "--couples" in capsys.readouterr().err


# --- the end-to-end run -----------------------------------------------------------------


def test_demo_export_has_both_partners_of_every_couple(demo_out: Path) -> None:
    data = pd.read_csv(demo_out / "data" / "diary.csv")
    assert data["dyad"].nunique() == 8
    persons = data.groupby("dyad")["person"].nunique()
    assert (persons == 2).all()
    assert set(data["diary_day"]) == {1, 2, 3, 4, 5}
    assert len(data) == 8 * 2 * 5  # one row per person and scheduled prompt
    assert {"completed", "missed"} <= set(data["status"])
    answered = data[data["status"] != "missed"]
    assert answered["desire"].notna().all() and answered["partner_desire"].notna().all()
    roles = data.groupby("dyad")["role"].agg(lambda r: frozenset(r.dropna()))
    kinds = set(roles)
    assert frozenset({"man", "woman"}) in kinds and frozenset() in kinds
    for name in ("codebook", "compliance_days", "compliance_couples", "compliance_persons"):
        assert (demo_out / "data" / f"diary_{name}.csv").is_file()
    assert (demo_out / "dyadlab.db").is_file()


def test_demo_report_holds_the_analyses_and_provenance(demo_out: Path) -> None:
    from dyadlab import __version__
    from dyadlab.report.html import file_sha256

    html = (demo_out / "report.html").read_text(encoding="utf-8")
    for title in (
        "The study on the platform",
        "Nonindependence",
        "APIM on person means",
        "Diary APIM",
        "Diary GLMM: had_sex (binomial)",
        "<em>OR</em>",  # the odds ratios: a column of the GLMM's APA table
        "Truth and bias",
        "Estimates and the simulation",
    ):
        assert title in html
    assert f"dyadlab {__version__}" in html
    assert file_sha256(demo_out / "data" / "diary.csv") in html
    assert "dyadlab demo --out" in html
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) >= 4
    figures = sorted(p.name for p in (demo_out / "figures").iterdir())
    assert "compliance-heat-map.png" in figures and "compliance-heat-map.svg" in figures
    assert any(name.startswith("diary-trajectories") for name in figures)


@pytest.mark.browser
def test_demo_report_renders_with_its_figures_in_chromium(demo_out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.platform.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _require_chromium

    _require_chromium()

    shot = Path("/tmp") / f"dyadlab-demo-report-{os.getpid()}.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto((demo_out / "report.html").resolve().as_uri())
            widths = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)"
            )
            assert len(widths) >= 4 and all(w > 0 for w in widths)
            assert page.title().startswith("dyadlab demo")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
def test_demo_serves_the_platform_with_the_printed_login(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    import httpx

    port = free_port()
    cmd = [sys.executable, "-m", "dyadlab.cli", "demo", "--out", str(tmp_path)]
    cmd += ["--couples", "2", "--days", "2", "--port", str(port)]
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline().decode()
            if not line and proc.poll() is not None:
                break
            lines.append(line)
            if "The platform is running at" in line:
                break
        text = "".join(lines)
        url = re.search(r"running at (http://127\.0\.0\.1:\d+)/", text)
        password = re.search(r"password: (\S+)", text)
        assert url and password, text[-2000:]
        assert url.group(1).endswith(f":{port}")
        login = httpx.post(
            f"{url.group(1)}/api/v1/auth/login",
            json={"email": "researcher@demo.dyadlab.org", "password": password.group(1)},
        )
        assert login.status_code == 200
        token = login.json()["token"]
        studies = httpx.get(
            f"{url.group(1)}/api/v1/studies", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert studies[0]["n_couples"] == 2 and studies[0]["n_responses"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        proc.stdout.close()


def test_json_pool_reads_length_chunked_and_closing_responses_and_retries() -> None:
    import asyncio

    from dyadlab.demo._http import JsonPool

    replies = [
        b'HTTP/1.1 201 Created\r\ncontent-length: 7\r\n\r\n{"a":1}',
        b'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\n{"b\r\n4\r\n":2}\r\n0\r\n\r\n',
        b"HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ]
    seen: list[bytes] = []
    dropped = {"done": False}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await serve(reader, writer)
        except asyncio.IncompleteReadError:
            pass  # the client closed its connection
        finally:
            writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
            body = await reader.readexactly(length)
            if body == b'{"drop":true}' and not dropped["done"]:
                dropped["done"] = True  # drop the connection once, without answering
                writer.close()
                return
            seen.append(head.split(b"\r\n", 1)[0] + b" " + body)
            writer.write(replies[len(seen) - 1])
            await writer.drain()
            if b"connection: close" in replies[len(seen) - 1]:
                writer.close()
                return

    async def main() -> list[tuple[int, bytes]]:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        out = []
        async with JsonPool("127.0.0.1", port, size=1) as pool:
            out.append(await pool.request("POST", "/x", {"n": 1}, token="t"))
            out.append(await pool.request("GET", "/y"))
            out.append(await pool.request("POST", "/z", {"n": 3}))
            out.append(await pool.request("POST", "/w", {"drop": True}))
            assert pool.retried == 1
        server.close()
        await server.wait_closed()
        return out

    results = asyncio.run(main())
    assert results == [(201, b'{"a":1}'), (200, b'{"b":2}'), (404, b"{}"), (200, b"ok")]
    assert seen[0] == b'POST /x HTTP/1.1 {"n":1}' and seen[1] == b"GET /y HTTP/1.1 "
