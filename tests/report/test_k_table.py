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
    (table,) = apim.apa
    (k_group,) = [g for g in table.groups if g.title == "k = partner / actor"]
    assert [r.raw["role"] for r in k_group.rows] == ["-1", "1"]
    first = k_group.rows[0]
    assert first.raw["estimate"] == res_k(rep)[0]["estimate"]
    assert first.cells["ci"] == "[0.09, 0.68]" and first.cells["se"] == "0.15"
    html = out.read_text()
    assert "tension, -1</th><td>0.39</td><td>0.15</td><td>[0.09, 0.68]</td>" in html
    assert "no simple pattern" in html and "negligible" not in html


def res_k(rep: object) -> list[dict[str, object]]:
    return rep.results["apim"].extra["k"]  # type: ignore[attr-defined, no-any-return]


def test_result_report_has_a_k_table(tmp_path: Path) -> None:
    import dyadlab as dl

    res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
    html = res.report(tmp_path / "apim.html").read_text()
    assert "k = partner / actor" in html
    assert "negligible" not in html
