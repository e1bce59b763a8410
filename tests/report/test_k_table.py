"""The HTML reports show k with its interval and the pattern from the interval (issue 20)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

from dyadlab.data.datasets import load_acitelli
from dyadlab.report.analysis import write_analysis_report

matplotlib.use("Agg")


def test_analysis_report_shows_k_with_interval(tmp_path: Path) -> None:
    out, rep = write_analysis_report(
        tmp_path / "r.html",
        load_acitelli(),
        dyad="cuplid",
        role="gender",
        y="satisfaction",
        x="tension",
    )
    (apim,) = [s for s in rep.sections if s.title == "APIM"]
    captions = [c for c, _ in apim.tables]
    assert "k = partner / actor" in captions
    frame = dict(apim.tables)["k = partner / actor"]
    assert list(frame["role"]) == ["-1", "1"]
    assert frame["ci_low"].notna().all() and frame["se"].notna().all()
    html = out.read_text()
    assert "tension [-1]: k = 0.389 (SE 0.151), 95% CI [0.093, 0.685] (delta method)" in html
    assert "negligible" not in html


def test_result_report_has_a_k_table(tmp_path: Path) -> None:
    import dyadlab as dl

    res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
    html = res.report(tmp_path / "apim.html").read_text()
    assert "k = partner / actor" in html
    assert "negligible" not in html
