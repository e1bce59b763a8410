"""``dyadlab report … --format docx|tex|md``: the same report as Word, LaTeX and Markdown.

The Word report is read back with python-docx: its tables are real Word tables whose
cells are the APA tables' cells; LaTeX is checked as text (compiled where a TeX engine
is installed); Markdown links its figures.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.data.datasets import load_acitelli
from dyadlab.exceptions import OptionError
from dyadlab.report.html import Section, report_format, write_report


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "couples.csv"
    load_acitelli().to_csv(path, index=False)
    return path


def _report(data: Path, out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    args = ["report", str(data), "--dyad", "cuplid", "--role", "gender"]
    code = main([*args, "--y", "satisfaction", "--x", "tension", "--out", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_cli_writes_a_word_report_with_real_tables(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import docx

    # --format docx with the default --out writes report.docx
    out = _report(data, tmp_path / "report.html", capsys, "--format", "docx")
    path = tmp_path / "report.docx"
    assert f"Wrote {path}" in out and not (tmp_path / "report.html").exists()
    doc = docx.Document(io.BytesIO(path.read_bytes()))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:4] == ["Data", "Nonindependence", "Methods", "APIM"]
    assert "References" in headings
    texts = [p.text for p in doc.paragraphs]
    assert "Table 1" in texts and "Table 2" in texts  # numbered in order
    res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
    apa = res.table(format="markdown")
    apim_table = next(
        t for t in doc.tables if any(r.cells[0].text == "Actor effects" for r in t.rows)
    )
    rows = [[c.text for c in r.cells] for r in apim_table.rows]
    actor = [r[0] for r in rows].index("Actor effects")
    assert rows[actor + 1][0] == "tension, -1"
    wife = rows[actor + 1][1:]
    assert wife[:3] == ["−0.416", "0.050", "[−0.513, −0.319]"]
    assert "| tension, -1 | −0.416 | 0.050 | [−0.513, −0.319] |" in apa
    assert len(doc.inline_shapes) == 1  # the path diagram, embedded at 300 dpi
    assert any(t.startswith("We estimated the actor–partner interdependence model") for t in texts)
    assert any("SHA-256" in t for t in texts)


def test_cli_latex_and_markdown_reports(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _report(data, tmp_path / "paper.tex", capsys)  # the format from the suffix
    tex = (tmp_path / "paper.tex").read_text(encoding="utf-8")
    assert tex.startswith("\\documentclass") and tex.rstrip().endswith("\\end{document}")
    assert "\\usepackage{booktabs}" in tex and tex.count("\\toprule") >= 3
    graphic = tex.split("\\includegraphics[width=\\linewidth]{")[1].split("}")[0]
    assert graphic == "figures/apim-path-diagram.pdf"
    assert (tmp_path / graphic).read_bytes().startswith(b"%PDF")
    assert "\\section*{References}" in tex and "Kenny, D. A., Kashy" in tex
    engine = shutil.which("pdflatex")
    if engine is not None:
        run = subprocess.run(
            [engine, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stdout[-2000:]
    _report(data, tmp_path / "out.md", capsys, "--format", "md")
    md = (tmp_path / "out.md").read_text(encoding="utf-8")
    assert md.startswith("# dyadlab report\n") and "![APIM path diagram](figures/" in md
    assert "| *Actor effects* |" in md and "## References" in md


def test_unknown_format_is_one_line_exit_2(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["report", str(data), "--dyad", "cuplid", "--y", "satisfaction", "--x", "tension"]
    code = main([*args, "--out", str(tmp_path / "r.html"), "--format", "pdf"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "format='pdf' is not allowed" in err and "'docx'" in err


def test_write_report_format_from_suffix_and_figures_beside(tmp_path: Path) -> None:
    assert report_format("a/b.DOCX", None) == "docx"
    assert report_format("b.txt", None) == "html"
    with pytest.raises(OptionError, match="format='rtf'"):
        report_format("b.html", "rtf")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dyadlab.report.html import figure_from_matplotlib

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    section = Section("A", text="x", figures=[figure_from_matplotlib(fig, "Line")])
    out: Any = write_report(tmp_path / "r.md", "T", [section])
    assert (tmp_path / "r_figures" / "line.png").exists()  # no figures_dir: beside the report
    assert "![Line](r_figures/line.png)" in out.read_text()


def test_result_report_as_word_from_the_suffix(tmp_path: Path) -> None:
    import docx

    res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
    out = res.report(tmp_path / "apim.docx")
    doc = docx.Document(str(out))
    (table,) = doc.tables
    assert table.rows[0].cells[1].text == "b"
    assert any(p.text.startswith("We estimated the actor–partner") for p in doc.paragraphs)


def test_the_analysis_plan_report_is_written_as_word(tmp_path: Path) -> None:
    """Issue 23's ``dyadlab study analyse --format docx`` goes through write_report."""
    import docx

    from dyadlab.report.plan import PlanStep, write_plan_report

    df = dl.simulate_apim(40, rng=2)
    out, _ = write_plan_report(
        tmp_path / "plan.docx",
        df,
        [PlanStep("apim", {"y": "y", "x": "x"})],
        dyad="dyad",
        person="person",
        format="docx",
    )
    doc = docx.Document(str(out))
    assert any(t.rows[0].cells[1].text == "b" for t in doc.tables)
