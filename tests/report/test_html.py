"""The self-contained HTML report: content, embedded figures, provenance."""

from __future__ import annotations

import base64
import hashlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from dyadlab.models._result import ModelResult, estimates_frame
from dyadlab.report.html import (
    Figure,
    Provenance,
    Section,
    figure_from_matplotlib,
    file_sha256,
    png_size,
    render_report,
    write_report,
)


def _figure() -> Figure:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    return figure_from_matplotlib(fig, "Actor & partner", caption="A line")


def test_report_embeds_tables_figures_and_provenance(tmp_path):
    fig = _figure()
    html = render_report(
        "Couples <study>",
        [
            Section(
                "Results",
                text="First paragraph.\n\nSecond.",
                tables=[("Estimates", pd.DataFrame({"effect": ["actor"], "estimate": [0.25]}))],
                figures=[fig],
            )
        ],
        provenance=Provenance(call="dl.apim(df)", data_sha256="ab" * 32, data_name="d.csv"),
    )
    assert "<title>Couples &lt;study&gt;</title>" in html
    assert "<p>Second.</p>" in html
    assert "<td>actor</td>" in html and "0.25" in html
    embedded = html.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(embedded) == fig.png
    assert fig.png.startswith(b"\x89PNG")
    assert "ab" * 32 in html and "dl.apim(df)" in html and "d.csv" in html
    assert "http://" not in html and "https://" not in html.replace("http://www.w3.org", "")


def test_write_report_writes_png_and_svg_beside(tmp_path):
    fig = _figure()
    out = write_report(
        tmp_path / "r" / "report.html",
        "T",
        [Section("A", figures=[fig, fig])],
        figures_dir=tmp_path / "figs",
    )
    assert out.read_text().startswith("<!DOCTYPE html>")
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == [
        "actor-partner-2.pdf",
        "actor-partner-2.png",
        "actor-partner-2.svg",
        "actor-partner.pdf",
        "actor-partner.png",
        "actor-partner.svg",
    ]
    # the files are for print: PNG at 300 dpi (the page embeds the 120 dpi one), PDF
    assert (tmp_path / "figs" / "actor-partner.png").read_bytes() == fig.png_print
    assert fig.size_px[0] * 300 // 120 - 2 <= png_size(fig.png_print or b"")[0]
    assert (tmp_path / "figs" / "actor-partner.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "figs" / "actor-partner.svg").read_text().lstrip().startswith("<?xml")


def test_file_sha256_matches_hashlib(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(b"a,b\n1,2\n" * 1000)
    assert file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("with_plot", [False, True])
def test_model_result_report(tmp_path, with_plot):
    class Plotted(ModelResult):
        def plot(self):
            fig, ax = plt.subplots()
            ax.bar(["a"], [1])
            return fig

    cls = Plotted if with_plot else ModelResult
    res = cls(
        model="apim",
        estimates=estimates_frame(
            [{"effect": "actor", "predictor": "x", "role": None, "estimate": 0.5, "se": 0.1}]
        ),
        n_dyads=10,
        n_obs=20,
        distinguishable=False,
        roles=[],
        estimation="REML",
        tests=[{"name": "t", "statistic": 1.0, "df": 1, "p": 0.3}],
        call={"y": "y", "x": "x"},
    )
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n")
    out = res.report(tmp_path / "rep.html", data_path=data)
    html = out.read_text()
    assert file_sha256(data) in html
    assert "dl.apim(data, y=&#x27;y&#x27;, x=&#x27;x&#x27;)" in html
    assert ("data:image/png;base64," in html) is with_plot


def test_summary_leaves_missing_predictor_and_role_empty():
    res = ModelResult(
        model="diary",
        estimates=estimates_frame(
            [
                {"effect": "intercept", "predictor": float("nan"), "role": "F"},
                {"effect": "actor", "predictor": "x", "role": None, "estimate": 1.0, "se": 0.5},
            ]
        ),
        n_dyads=2,
        n_obs=4,
        distinguishable=True,
        roles=["F", "M"],
        estimation="REML",
    )
    text = res.summary()
    assert "nan" not in text
    row = next(line for line in text.splitlines() if line.startswith("intercept"))
    assert row.split()[:2] == ["intercept", "F"]
