"""APA 7 tables of every model: the numbers are the result's, in every format (issue 19).

Golden files (tests/report/golden/) hold the HTML, Markdown and LaTeX of the APIM (the
Acitelli data), diary and truth-and-bias tables; ``DYADLAB_UPDATE_GOLDEN=1`` rewrites them
(then read the diff). Word tables are read back with python-docx; LaTeX is compiled when
a TeX engine is installed, else checked as text.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.data.datasets import load_acitelli
from dyadlab.exceptions import DyadlabWarning, OptionError
from dyadlab.report.apa_format import MINUS, decimals_for, format_number, format_p
from dyadlab.report.apa_table import ApaTable, apa_table, compare_table

GOLDEN = Path(__file__).parent / "golden"
LABELS = {-1: "wife", 1: "husband"}


def _quiet(fit: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return fit()


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return _quiet(_fit_all)


def _fit_all() -> dict[str, Any]:
    ac = load_acitelli()
    diary = dl.simulate_diary(30, 8, rng=1)
    binary = diary.assign(yb=(diary["y"] > 0).astype(float))
    counts = diary.assign(yc=np.random.default_rng(3).poisson(2.0, len(diary)).astype(float))
    keys = {"dyad": "dyad", "person": "person", "time": "time"}
    panel = dl.survey.simulate_panel(400, rng=4)
    design = dl.survey.design(panel, weights="weight", strata="stratum", cluster="psu")
    apim_df = dl.simulate_apim(60, rng=3)
    apim_df["m"] = 0.5 * apim_df["x"] + np.random.default_rng(2).normal(size=len(apim_df))
    codes = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(30), 2),
            "coder": ["a", "b"] * 30,
            "code": np.random.default_rng(5).choice(["x", "y", "z"], 60),
        }
    )
    return {
        "apim": dl.apim(ac, y="satisfaction", x="tension", dyad="cuplid", role="gender"),
        "apim_indist": dl.apim(ac, y="satisfaction", x="tension", dyad="cuplid"),
        "nonindependence": dl.nonindependence(
            ac, variables=["satisfaction", "tension"], dyad="cuplid", role="gender"
        ),
        "diary": dl.diary(diary, y="y", x="x", role="role", **keys),
        "binomial": dl.diary(binary, y="yb", x="x", role="role", family="binomial", **keys),
        "poisson": dl.diary(counts, y="yc", x="x", family="poisson", **keys),
        "truth_bias": dl.truth_bias(
            dl.simulate_truth_bias(40, 6, random_sd=(0.5, 0.3, 0.3), rng=1),
            judgment="judgment",
            truth="truth",
            dyad="dyad",
            person="person",
            time="time",
            role="role",
        ),
        "mediation": dl.apim_mediation(
            apim_df, x="x", m="m", y="y", dyad="dyad", role="role", bootstrap=0
        ),
        "survey": design.mean("loneliness", by="relationship"),
        "observe": dl.observe.agreement(
            codes, unit="unit", coder="coder", code="code", method="cohen"
        ),
        "icc": dl.observe.icc(
            codes.assign(score=np.random.default_rng(6).normal(size=60)),
            target="unit",
            rater="coder",
            value="score",
        ),
        "physio": dl.physio.concordance(
            dl.physio.simulate_concordance(n_dyads=8, n_epochs=60, r=0.5, rng=1),
            subjective="subjective",
            genital="genital",
            person="person",
            dyad="dyad",
            time="epoch",
            lags=[0],
        ),
    }


def _value(cell: str) -> float:
    """A formatted number back as a float (true minus, no leading zero)."""
    return float(cell.replace(MINUS, "-").rstrip("*"))


def _close(cell: str, value: float) -> bool:
    """Whether ``cell`` is ``value`` rounded to the decimals the cell shows."""
    text = cell.replace(MINUS, "-")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return abs(_value(cell) - value) <= 0.5 * 10**-decimals + 1e-12


@pytest.mark.parametrize(
    "name",
    [
        "apim",
        "apim_indist",
        "nonindependence",
        "diary",
        "binomial",
        "poisson",
        "truth_bias",
        "mediation",
        "survey",
        "observe",
        "icc",
        "physio",
    ],
)
def test_every_number_in_the_table_is_the_results(results: dict[str, Any], name: str) -> None:
    res = results[name]
    table = apa_table(res)
    raw = table.frame()
    est = res.estimates.reset_index(drop=True)
    shown = raw[~raw["effect"].isin(["k", "variance_component", "fit"])]
    assert len(shown) == len(est), "every estimate has exactly one row"

    # rows are grouped by effect: match them to the result's rows by their keys
    def key(frame: pd.DataFrame) -> pd.Series:
        parts = [
            frame[c].astype(object).where(frame[c].notna(), "")
            for c in ("effect", "predictor", "role")
        ]
        return parts[0].astype(str) + "|" + parts[1].astype(str) + "|" + parts[2].astype(str)

    order = {k: i for i, k in enumerate(key(shown))}
    if len(order) == len(est):  # survey domains share keys: then the order is the result's
        shown = shown.iloc[[order[k] for k in key(est)]]
    for col in ("estimate", "se", "ci_low", "ci_high", "statistic", "p"):
        np.testing.assert_array_equal(shown[col].to_numpy(float), est[col].to_numpy(float))
    # and the printed cells are those numbers, rounded
    rows = [r for g in table.groups for r in g.rows if r.raw.get("effect") in set(est["effect"])]
    for row in rows:
        for key in ("estimate", "se"):
            if row.cells.get(key):
                assert _close(row.cells[key], float(row.raw[key])), (row.label, key, row.cells)
        if row.cells.get("ci"):
            low, high = row.cells["ci"].strip("[]").split(", ")
            assert _close(low, row.raw["ci_low"]) and _close(high, row.raw["ci_high"])
        assert row.cells["p"] == format_p(row.raw["p"])
    vc = res.variance_components
    comps = raw[raw["effect"] == "variance_component"]
    expected = vc[pd.to_numeric(vc["estimate"], errors="coerce").notna()]["estimate"]
    np.testing.assert_array_equal(comps["estimate"].to_numpy(float), expected.to_numpy(float))
    fit = raw[raw["effect"] == "fit"].set_index("predictor")["estimate"]
    for key, value in fit.items():
        assert value == res.fit[key]
    # the CSV holds the unrounded numbers
    csv = pd.read_csv(io.StringIO(table.to_csv()), float_precision="round_trip")
    np.testing.assert_array_equal(csv["estimate"].to_numpy(float), raw["estimate"].to_numpy(float))


def test_glmm_tables_show_the_results_odds_and_rate_ratios(results: dict[str, Any]) -> None:
    for name, key, header in (("binomial", "odds_ratios", "OR"), ("poisson", "rate_ratios", "IRR")):
        table = apa_table(results[name])
        assert header in [c.header for c in table.columns]
        ratios = [r["ratio"] for r in results[name].extra[key]]
        shown = [r.raw["ratio"] for g in table.groups for r in g.rows if "ratio" in r.raw]
        assert shown == ratios
        assert any("exp(b)" in n for n in table.notes)
        assert table.columns[-2].header == "z"  # Laplace GLMM: Wald z, no df


def test_apa_number_formats() -> None:
    assert [format_p(p) for p in (5.4e-213, 0.0, 0.0432, 0.05, 0.9996, None, float("nan"))] == [
        "< .001", "< .001", ".043", ".050", "> .999", "", "",
    ]  # fmt: skip
    # scale-aware: an effect per unit of a 0-100 predictor keeps its digits
    assert format_number(0.0213, decimals_for(0.0041, 0.0213)) == "0.0213"
    assert format_number(-0.416118, decimals_for(0.0495)) == f"{MINUS}0.416"
    assert format_number(12.345, decimals_for(3.2)) == "12.35"  # never fewer than 2
    assert format_number(0.4392, 2, leading_zero=False) == ".44"
    assert format_number(-0.0001, 2) == "0.00"  # no negative zero


def test_role_labels_and_grouping(results: dict[str, Any]) -> None:
    table = apa_table(results["apim"], labels={**LABELS, "tension": "Tension"})
    titles = [g.title for g in table.groups]
    assert titles == [
        "Intercepts", "Actor effects", "Partner effects", "k = partner / actor",
        "Variance components", "Model fit",
    ]  # fmt: skip
    partner = {r.raw["role"]: r.label for r in table.groups[2].rows}
    # the partner effect of role -1 is the husband's tension on the wife's satisfaction
    assert partner == {"-1": "Tension, husband → wife", "1": "Tension, wife → husband"}
    assert [c.header for c in table.columns] == ["b", "SE", "95% CI", "z", "p"]
    assert not any("-1" in r.label for g in table.groups for r in g.rows)
    note = " ".join(table.notes)
    assert "N = 148 dyads (296 persons)" in note and "lavaan::sem" in note
    assert "χ²(1) = 1.36, p = .243" in note
    # indistinguishable dyads: pooled effects, no role column of dashes
    pooled = apa_table(results["apim_indist"])
    assert [r.label for r in pooled.groups[1].rows] == ["tension"]
    assert [c.header for c in pooled.columns] == ["b", "SE", "95% CI", "t", "df", "p"]
    assert "nlme::gls" in " ".join(pooled.notes)


def test_value_labels_of_the_data_name_the_roles(tmp_path: Path) -> None:
    from dyadlab.report.analysis import analysis_sections

    df = dl.simulate_apim(40, rng=2)
    df["role"] = df["role"].map({"wife": 1.0, "husband": 2.0})
    df.attrs["value_labels"] = {"role": {1.0: "Wife", 2.0: "Husband"}}
    rep = analysis_sections(df, dyad="dyad", person="person", role="role", y="y", x="x")
    (apim,) = [s for s in rep.sections if s.title == "APIM"]
    labels = [r.label for g in apim.apa[0].groups for r in g.rows]
    assert "x, Husband → Wife" in labels and not any("1" in label for label in labels[:6])


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("DYADLAB_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with DYADLAB_UPDATE_GOLDEN=1 to write it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("name", ["apim", "diary", "truth_bias"])
@pytest.mark.parametrize("fmt", ["html", "markdown", "latex"])
def test_golden_tables(results: dict[str, Any], name: str, fmt: str) -> None:
    text = results[name].table(format=fmt, labels=LABELS, number=1)
    suffix = {"html": "html", "markdown": "md", "latex": "tex"}[fmt]
    _golden(f"{name}.{suffix}", text)


def _docx_rows(data: bytes) -> list[list[str]]:
    import docx

    doc = docx.Document(io.BytesIO(data))
    (table,) = doc.tables
    rows = []
    for row in table.rows:
        cells: list[str] = []
        prev = None
        for cell in row.cells:
            if cell._tc is not prev:  # a merged cell is listed once per column: keep one
                cells.append(cell.text)
            prev = cell._tc
        rows.append(cells)
    return rows


@pytest.mark.parametrize("name", ["apim", "diary", "truth_bias", "binomial"])
def test_word_table_reads_back_with_the_same_cells(results: dict[str, Any], name: str) -> None:
    import docx

    table = apa_table(results[name], labels=LABELS, number=2)
    data = results[name].table(format="docx", labels=LABELS, number=2)
    rows = _docx_rows(data)
    assert rows[0] == [table.stub, *[c.header for c in table.columns]]
    expected: list[list[str]] = []
    for group in table.groups:
        expected.append([group.title])
        for row in group.rows:
            expected.append([row.label, *[row.cells.get(c.key, "") for c in table.columns]])
    assert rows[1:] == expected
    doc = docx.Document(io.BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "Table 2" and doc.paragraphs[0].runs[0].bold
    assert doc.paragraphs[1].runs[0].italic and texts[1] == table.title
    assert texts[-1].startswith("Note. ") and doc.paragraphs[-1].runs[0].italic
    # APA rules: horizontal borders only (top and under the header, and at the bottom)
    xml = doc.tables[0]._tbl.xml
    assert xml.count("<w:top ") == len(table.columns) + 1
    assert "<w:left " not in xml and "<w:right " not in xml
    # statistical symbols in the header are italic
    header = doc.tables[0].rows[0].cells
    italic = {c.text: c.paragraphs[0].runs[0].italic for c in header[1:]}
    assert italic["SE"] and italic["p"] and not italic[table.columns[2].header]


def _check_latex(tex: str, n_cols: int) -> None:
    assert tex.index("\\toprule") < tex.index("\\midrule") < tex.index("\\bottomrule")
    body = tex[tex.index("\\midrule") : tex.index("\\bottomrule")]
    for line in body.splitlines()[1:]:
        if not line.startswith("\\multicolumn"):
            assert line.count(" & ") == n_cols, line
    assert tex.count("{") == tex.count("}")
    assert "−" not in tex and "χ" not in tex and "_" not in tex.replace("\\_", "")


@pytest.mark.parametrize("name", ["apim", "diary", "truth_bias", "nonindependence"])
def test_latex_table_is_booktabs_and_compiles_where_tex_exists(
    results: dict[str, Any], name: str, tmp_path: Path
) -> None:
    table = apa_table(results[name], labels=LABELS)
    tex = table.to_latex()
    _check_latex(tex, len(table.columns))
    engine = shutil.which("pdflatex") or shutil.which("lualatex")
    if engine is None:
        return  # no TeX engine here: the text checks above are what can be checked
    doc = (
        "\\documentclass{article}\\usepackage[T1]{fontenc}\\usepackage[utf8]{inputenc}"
        "\\usepackage{booktabs}\\usepackage{textcomp}\\begin{document}\n"
        f"{tex}\\end{{document}}\n"
    )
    (tmp_path / "t.tex").write_text(doc, encoding="utf-8")
    run = subprocess.run(
        [engine, "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:]


def test_models_side_by_side(results: dict[str, Any]) -> None:
    dist, indist = results["apim"], results["apim_indist"]
    table = compare_table({"Distinguishable": dist, "Indistinguishable": indist}, labels=LABELS)
    assert [c.header for c in table.columns] == ["Distinguishable", "Indistinguishable"]
    actor = {r.label: r for r in next(g for g in table.groups if g.title == "Actor effects").rows}
    assert set(actor) == {"tension, wife", "tension, husband", "tension"}
    wife = actor["tension, wife"]
    assert wife.raw["m0_estimate"] == dist.estimates.loc[1, "estimate"]
    assert wife.cells["m0"] == f"{MINUS}0.416*** (0.050)" and "m1" not in wife.cells
    assert actor["tension"].cells["m1"].startswith(f"{MINUS}0.375***")
    info = {r.label: r.cells for r in table.groups[-1].rows}
    assert info["Dyads"] == {"m0": "148", "m1": "148"}
    assert info["AIC"]["m1"] == format_number(indist.fit["aic"], 2)
    assert "* p < .05" in table.notes[0]
    # modelsummary-like output in every format
    assert "Indistinguishable" in table.to_markdown() and "\\toprule" in table.to_latex()


def test_result_table_formats_paths_and_errors(results: dict[str, Any], tmp_path: Path) -> None:
    res = results["apim"]
    assert res.table(format="tex") == res.table(format="latex")
    out = res.table(format="docx", path=tmp_path / "t" / "apim.docx")
    assert out == tmp_path / "t" / "apim.docx" and out.read_bytes()[:2] == b"PK"
    csv = res.table(format="csv", path=tmp_path / "apim.csv").read_text()
    assert csv.splitlines()[0].startswith("group,label,effect,predictor,role,estimate,se")
    html = res._repr_html_()
    assert html.startswith('<figure class="apa-table"><figcaption class="apa-title">')
    assert '<div class="table-scroll" role="region" tabindex="0"' in html
    assert "<em>p</em>" in html and "5.426e" not in html
    with pytest.raises(OptionError, match=r"table\(\): format='pdf' is not allowed; choose"):
        res.table(format="pdf")
    with pytest.raises(OptionError, match="style='chicago'"):
        res.table(style="chicago")
    assert isinstance(apa_table(res), ApaTable)


def test_p_values_never_print_in_e_notation_or_as_zero(results: dict[str, Any]) -> None:
    for res in results.values():
        text = apa_table(res).to_markdown()
        assert not re.search(r"\d[eE][-+]\d", text), res.model
        assert "p = 0 " not in text and "| 0.000 |" not in text.split("*Model fit*")[0]
        assert "nan" not in text.lower().replace("nance", "")
