"""The whole study, as issue 5's "done when" describes it, on SQLite and PostgreSQL.

A researcher creates the example study and invites couples with the command line; both
partners of one couple answer in headless Chromium on a phone for three evenings; the
other couples answer over the participant API for a week; the researcher logs in, reads
the compliance page (the browser couple, 3 of 7 days, is flagged), downloads the export
from the study page, and ``dl.diary()`` fits the CSV in that ZIP as it is.
"""

from __future__ import annotations

import io
import json
import uuid
import warnings
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.platform.tables import AuditLog, Response
from tests.platform.conftest import EVENING_DAY3, evening_answers
from tests.platform.e2e.conftest import LiveServer, _require_chromium

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
COUPLES = 8
DAYS = 7
OWNER = ("lead@lab.example", "a long enough passphrase")


@pytest.fixture
def journey_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """A live server on an empty SQLite or PostgreSQL database."""
    _require_chromium()
    server = LiveServer(tmp_path, database_url=database_url)
    server.start()
    yield server
    server.stop()


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: Any, *args: object) -> dict[str, Any]:
    """``dyadlab ARGS --json`` in this process; the parsed JSON answer."""
    code = main([str(a) for a in (*args, "--json")])
    out = capsys.readouterr()
    assert code == 0, out.err
    result: dict[str, Any] = json.loads(out.out)
    return result


def _evening(day: int) -> Any:
    return EVENING_DAY3 + timedelta(days=day - 3)


def _answer_in_browser(page: Page, url: str, live: LiveServer, day: int, desire_keys: int) -> None:
    """One partner's evening questionnaire, by keyboard and touch, on a phone."""
    page.clock.set_fixed_time(_evening(day) + timedelta(seconds=30))
    page.goto(url)
    page.wait_for_url(f"{live.url}/s/")
    page.get_by_role("link", name="Dagelijkse vragen").click()
    page.wait_for_url(f"{live.url}/s/q/1")
    page.focus("#f-desire")
    for _ in range(desire_keys):
        page.keyboard.press("ArrowRight")
    page.focus("#f-partner_desire")
    page.keyboard.press("Home")
    page.keyboard.press("PageUp")
    page.get_by_label("Eerder eens", exact=True).check()
    page.get_by_role("group", name="Hadden jij en je partner").get_by_label(
        "Nee", exact=True
    ).check()
    page.get_by_role("group", name="Had je vandaag seks").get_by_label("Nee", exact=True).check()
    page.get_by_role("button", name="Versturen").click()
    expect(page.locator("#form-status")).to_have_text("Dank je wel, je antwoorden zijn ontvangen.")


def _answer_over_api(live: LiveServer, token: str, answers: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"submission_id": str(uuid.uuid4()), "questionnaire": "evening", "answers": answers}
    r = httpx.post(f"{live.url}/api/v1/me/responses", json=body, headers=headers)
    assert r.status_code == 201, r.text


def test_create_invite_answer_watch_export_fit(
    journey_server: LiveServer,
    browser: Browser,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    live = journey_server
    monkeypatch.setenv("DYADLAB_DATABASE_URL", database_url)
    monkeypatch.setenv("DYADLAB_BASE_URL", live.url)
    monkeypatch.setenv("DYADLAB_RESEARCHER_PASSWORD", OWNER[1])
    protocol = Path(__file__).resolve().parents[3] / "src/dyadlab/examples/daily_diary.yaml"

    # The researcher: study, invitations and an account, from the command line.
    study_id = _cli(monkeypatch, capsys, "study", "create", protocol)["study_id"]
    invited = _cli(
        monkeypatch, capsys, "study", "invite", study_id, "--couples", COUPLES,
        "--start-date", "2026-03-01", "--tz", "Europe/Amsterdam",
    )["couples"]  # fmt: skip
    _cli(monkeypatch, capsys, "researcher", "add", OWNER[0], "--role", "owner")
    _cli(monkeypatch, capsys, "study", "member", "add", study_id, OWNER[0], "--role", "owner")
    assert len(invited) == COUPLES

    # Couple 1: both partners consent and answer three evenings in a phone browser.
    browser_couple = invited[0]["partners"]
    for i, partner in enumerate(browser_couple):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        page = context.new_page()
        page.set_default_timeout(8000)
        try:
            live.clock.now = _evening(1)
            page.clock.set_fixed_time(_evening(1))
            page.goto(partner["url"])
            page.wait_for_url(f"{live.url}/s/consent")
            page.get_by_label("Ik heb de informatie hierboven gelezen").check()
            page.get_by_role("button", name="Toestemming geven").click()
            page.wait_for_url(f"{live.url}/s/")
            for day in (1, 2, 3):
                live.clock.now = _evening(day)
                _answer_in_browser(page, f"{live.url}/s/", live, day, desire_keys=2 + i + day)
        finally:
            context.close()

    # The other couples answer over the API on most of the seven evenings.
    rng = np.random.default_rng(5)
    live.clock.now = _evening(1)
    for couple in invited[1:]:
        for partner in couple["partners"]:
            r = httpx.post(
                f"{live.url}/api/v1/me/consent",
                json={"version": 1},
                headers={"Authorization": f"Bearer {partner['token']}"},
            )
            assert r.status_code in (200, 201), r.text
    for day in range(1, DAYS + 1):
        live.clock.now = _evening(day)
        for couple in invited[1:]:
            for partner in couple["partners"]:
                if day == 4 and rng.random() < 0.3:
                    continue  # a missed evening: these couples stay at or above 6 of 7
                desire = int(rng.integers(0, 101))
                answers = evening_answers(desire)
                answers["relationship_satisfaction"] = int(
                    np.clip(round(2 + desire / 25 + rng.normal(0, 1)), 1, 7)
                )
                _answer_over_api(live, partner["token"], answers)

    # The researcher watches compliance and downloads the export in the browser.
    live.clock.now = _evening(DAYS + 1)  # day 8: days 1-7 are over
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(8000)
    try:
        page.goto(f"{live.url}/r/login")
        page.get_by_label("E-mail address").fill(OWNER[0])
        page.get_by_label("Password").fill(OWNER[1])
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live.url}/r/studies")
        page.get_by_role("link", name="Daily intimacy in couples").last.click()
        page.get_by_role("link", name="Compliance").click()
        expect(page.get_by_role("status")).to_contain_text(f"1 of {COUPLES} couples below 80%")
        page.go_back()
        page.get_by_label("Layout").select_option("individual")
        page.get_by_label("File").select_option("csv")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Download ZIP").click()
        archive = zipfile.ZipFile(Path(download_info.value.path()))
    finally:
        context.close()

    data_name = f"study{study_id}_individual.csv"
    assert data_name in archive.namelist()
    df = pd.read_csv(io.BytesIO(archive.read(data_name)))
    browser_rows = df[df["dyad"] == df["dyad"].iloc[0]]
    assert len(df["dyad"].unique()) == COUPLES
    assert (browser_rows["status"] == "completed").sum() == 6  # 2 partners × 3 evenings

    with warnings.catch_warnings(record=True) as caught:  # days not answered are counted
        warnings.simplefilter("always")
        fit = dl.diary(
            df, y="relationship_satisfaction", x="desire", dyad="dyad", person="person",
            time="diary_day", role="role",
        )  # fmt: skip
    assert [str(w.message) for w in caught] == fit.warnings
    assert fit.n_dyads == COUPLES
    actor = fit.estimates[fit.estimates["effect"] == "actor"]
    assert (actor["estimate"] > 0).all()

    with live.session() as db:
        stored = db.scalars(select(Response)).all()
        exports = db.scalars(select(AuditLog).where(AuditLog.action == "export")).all()
    browser_people = {p["person_id"] for p in browser_couple}
    assert sum(r.person_id in browser_people for r in stored) == 6
    assert len(exports) == 1 and exports[0].detail["rows"] == len(df)
