"""The "Analyses" page in headless Chromium, on the demo's study (8 simulated couples x 5
days answered through the platform's HTTP API, created from the example protocol and
its plan): an analyst starts the plan, reloads the page while it runs, views the report
and downloads it. The report's numbers are those of ``dl.diary`` and ``dl.truth_bias``
on the study's export."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

import dyadlab as dl
from tests.platform.conftest import add_member
from tests.platform.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

ANALYST = ("ana@lab.example", "a long analyst passphrase")


@pytest.fixture
def demo_server(demo_out: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The platform on a copy of the demo's database, its clock after the diary ended."""
    copy = tmp_path / "demo.db"
    shutil.copy(demo_out / "dyadlab.db", copy)
    server = LiveServer(tmp_path, database_url=f"sqlite:///{copy}")
    server.clock.now = datetime.now(UTC).replace(microsecond=0)
    server.start()
    with server.session() as session:
        add_member(session, 1, ANALYST, "analyst")
    yield server
    server.stop()


def _table(page: Page, title_start: str, title_has: str) -> pd.DataFrame:
    """The coefficients of the APA table of the section whose title matches: one row per
    row of the table with an SE (``label``, ``b``, ``se`` as shown)."""
    section = (
        page.locator("section")
        .filter(has=page.locator("h2", has_text=title_start))
        .filter(has=page.locator("h2", has_text=title_has))
    )
    expect(section).to_have_count(1)
    table = section.locator("figure.apa-table table").first
    rows = []
    for row in table.locator("tbody tr:not(.group)").all():
        label = row.locator("th").inner_text().strip()
        cells = [c.strip() for c in row.locator("td").all_inner_texts()]
        if len(cells) >= 2 and cells[1]:
            rows.append({"label": label, "b": cells[0], "se": cells[1]})
    return pd.DataFrame(rows, columns=["label", "b", "se"])


def _grouped(estimates: pd.DataFrame) -> pd.DataFrame:
    """The estimates in the order of the APA table: effects in order of first
    appearance, each effect's rows together."""
    order = {e: i for i, e in enumerate(dict.fromkeys(estimates["effect"]))}
    return estimates.sort_values("effect", key=lambda c: c.map(order), kind="stable")


def _equal_as_shown(shown: pd.Series, values: pd.Series) -> bool:
    """Each shown number is the value rounded to the decimals it is shown with."""
    if len(shown) != len(values) or len(shown) == 0:
        return False
    for text, value in zip(shown, values, strict=True):
        t = text.replace("\u2212", "-")
        decimals = len(t.split(".")[1]) if "." in t else 0
        if abs(float(t) - float(value)) > 0.5 * 10.0**-decimals + 1e-12:
            return False
    return True


def test_analyst_runs_the_plan_views_and_downloads_the_report(
    demo_server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    from dyadlab.platform.services.export import export_study

    live = demo_server
    page = browser.new_page(accept_downloads=True)
    try:
        page.goto(f"{live.url}/r/login")
        page.locator("#email").fill(ANALYST[0])
        page.locator("#password").fill(ANALYST[1])
        page.locator("form button[type=submit]").click()
        page.goto(f"{live.url}/r/studies/1")
        page.get_by_role("link", name="Analyses").click()
        expect(page.get_by_role("heading", name="The preregistered plan")).to_be_visible()
        page.get_by_role("button", name="Run the plan on the data so far").click()
        expect(page.locator("#run-1 progress")).to_be_visible()  # the export + 5 models: >5 s
        page.reload()  # the run goes on: its row is there after a reload
        expect(page.locator("#run-1")).to_be_visible()
        report_link = page.get_by_role("link", name="View report")
        expect(report_link).to_be_visible(timeout=180_000)  # analyses.js reloads when done
        with page.expect_download() as info:
            page.get_by_role("link", name="Download").click()
        downloaded = tmp_path / info.value.suggested_filename
        info.value.save_as(downloaded)
        report_link.click()
        expect(page.get_by_role("heading", name="Analysis plan", exact=True)).to_be_visible()
        diary_table = _table(page, "Plan 3: Diary APIM", "indistinguishable")
        truth_table = _table(page, "Plan 5: Truth and bias", "by role")
        html = page.content()
    finally:
        page.close()

    with live.session() as session:
        export_study(session, 1, out=tmp_path / "study.csv", now=live.clock.now)
        session.rollback()
    data = dl.read_table(tmp_path / "study.csv")
    keys = {"dyad": "dyad", "person": "person", "time": "diary_day"}
    with warnings.catch_warnings():  # missed days are counted and left out, as expected
        warnings.simplefilter("ignore", dl.DyadlabWarning)
        diary = dl.diary(data, y="relationship_satisfaction", x=["desire", "conflict"], **keys)
        tb = dl.truth_bias(
            data[data["role"].notna()],
            judgment="partner_desire",
            truth="desire",
            role="role",
            **keys,
        )
    # the APA table groups the rows by effect (intercepts, actor, partner …)
    diary_rows = _grouped(diary.estimates)
    assert _equal_as_shown(diary_table["b"], diary_rows["estimate"])
    assert _equal_as_shown(diary_table["se"], diary_rows["se"])
    tb_rows = _grouped(tb.estimates)
    assert _equal_as_shown(truth_table["b"], tb_rows["estimate"])
    assert _equal_as_shown(truth_table["se"], tb_rows["se"])
    with live.session() as session:
        from dyadlab.platform.tables import Study

        study = session.get(Study, 1)
        assert study is not None and study.protocol_hash in html
    saved = downloaded.read_text(encoding="utf-8")
    assert downloaded.name == "study1_analyses_run1.html"
    assert "Plan 3: Diary APIM" in saved and study.protocol_hash in saved
