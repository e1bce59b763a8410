"""The HTML report in headless Chromium at phone (360 px) and laptop (1,366 px) width.

No horizontal overflow of the page (wide tables scroll inside their wrapper), every
figure's smallest text at least 10 CSS px, a working table of contents. Screenshots go
to /tmp (dyadlab-report-360.png, dyadlab-report-1366.png).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadlabWarning
from dyadlab.report.analysis import write_analysis_report

pytest.importorskip("playwright")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A diary study's report: nonindependence, APIM on person means, diary APIM, truth
    and bias, with long variable names (the widest tables and boxes)."""
    df = dl.simulate_diary(25, 7, rng=4).rename(
        columns={"y": "relationship_satisfaction", "x": "perceived_partner_responsiveness"}
    )
    df["partner_judgment"] = df["perceived_partner_responsiveness"] * 0.5 + 0.3
    out = tmp_path_factory.mktemp("report") / "report.html"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        path, rep = write_analysis_report(
            out,
            df,
            dyad="dyad",
            person="person",
            role="role",
            time="time",
            y="relationship_satisfaction",
            x="perceived_partner_responsiveness",
            judgment="partner_judgment",
            truth="perceived_partner_responsiveness",
        )
    return path, rep


def test_one_presentation_of_each_number(report: tuple[Path, Any]) -> None:
    path, rep = report
    html = path.read_text(encoding="utf-8")
    assert "<pre>" not in html  # no text dump of the tables
    table = next(s for s in rep.sections if s.title == "Diary APIM").apa[0]
    for row in table.groups[1].rows:  # the actor effects
        cell = f'<th scope="row">{row.label}</th><td>{row.cells["estimate"]}</td>'
        assert html.count(cell) == 1
    assert html.count("<h3>Methods</h3>") == sum(1 for s in rep.sections if s.methods)
    assert "Laurenceau, J.-P., &amp; Bolger, N. (2005)" in html
    toc = re.findall(r'<a href="#([^"]+)">', html)
    assert toc and all(f'id="{anchor}"' in html for anchor in toc)


@pytest.mark.browser
@pytest.mark.parametrize("width", [360, 1366])
def test_report_fits_the_screen_and_figures_stay_readable(
    report: tuple[Path, Any], width: int
) -> None:
    from playwright.sync_api import sync_playwright

    from tests.platform.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _require_chromium

    _require_chromium()
    path, _ = report
    shot = Path("/tmp") / f"dyadlab-report-{width}.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.resolve().as_uri())
            page.wait_for_load_state("load")
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0, f"the page is {overflow} px wider than the screen"
            outside = page.eval_on_selector_all(
                "table, figure, img, pre, h1, h2, h3, p, nav",
                """els => els.filter(e => !e.closest('.table-scroll, .figure-scroll'))
                    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
                    .map(e => e.tagName + ': ' + (e.textContent || '').slice(0, 40))""",
            )
            assert outside == []
            sizes = page.eval_on_selector_all(
                "img[data-min-font-px]",
                """imgs => imgs.map(i => ({
                    alt: i.alt, shown: i.getBoundingClientRect().width,
                    natural: i.naturalWidth, font: parseFloat(i.dataset.minFontPx)}))""",
            )
            assert sizes, "the report has figures"
            for s in sizes:
                text_px = s["font"] * s["shown"] / s["natural"]
                assert text_px >= 10 - 1e-6, f"{s['alt']}: smallest text {text_px:.1f} px"
            path_diagrams = [s for s in sizes if s["alt"].startswith("APIM path diagram")]
            assert path_diagrams
            if width == 360:  # the path diagram fits a phone without scrolling
                assert all(s["shown"] <= width - 32 for s in path_diagrams)
            # every table sits in a wrapper that scrolls, never wider than the page
            wrappers = page.eval_on_selector_all(
                "table",
                """ts => ts.map(t => {const w = t.closest('.table-scroll');
                    return !!w && w.getBoundingClientRect().right <= innerWidth + 0.5})""",
            )
            assert wrappers and all(wrappers)
            # the table of contents jumps to the sections
            page.click("nav.toc a[href='#s-diary-apim']")
            top = page.evaluate(
                "() => document.getElementById('s-diary-apim').getBoundingClientRect().top"
            )
            assert abs(top) < 5
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
