"""The report of the analyses that fit a data set (``dyadlab report``)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.report.analysis import analysis_sections, code_yes_no
from dyadlab.report.compliance_plot import plot_compliance_heatmap
from dyadlab.report.html import file_sha256


@pytest.fixture(scope="module")
def diary_data() -> pd.DataFrame:
    """A diary with judgments: truth-and-bias data plus an outcome and a yes/no item."""
    df = dl.simulate_truth_bias(30, 6, rng=11)
    rng = np.random.default_rng(2)
    df["y"] = 0.4 * df["truth"] + rng.normal(size=len(df))
    df["event"] = np.where(rng.random(len(df)) < 0.3, "yes", "no")
    return df


def test_cross_sectional_data_give_nonindependence_and_the_apim() -> None:
    df = dl.simulate_apim(80, actor=0.5, partner=0.2, rng=4)
    rep = analysis_sections(df, dyad="dyad", person="person", role="role", y="y", x="x")
    assert [s.title for s in rep.sections] == ["Data", "Nonindependence", "APIM"]
    assert rep.results["apim"].distinguishable
    fitted = rep.results["apim"].estimates
    expected = dl.apim(df, y="y", x="x", dyad="dyad", person="person", role="role").estimates
    pd.testing.assert_frame_equal(fitted, expected)
    assert rep.sections[2].figures[0].png.startswith(b"\x89PNG")


def test_diary_data_give_the_diary_apim_and_truth_and_bias(diary_data: pd.DataFrame) -> None:
    rep = analysis_sections(
        diary_data,
        dyad="dyad",
        person="person",
        role="role",
        time="time",
        y="y",
        x=["truth", "event"],
        judgment="judgment",
        truth="truth",
    )
    assert sorted(rep.results) == ["apim", "diary", "nonindependence", "truth_bias"]
    assert rep.notes == ["event: yes = 1, no = 0"]
    assert rep.results["apim"].n_obs == 60  # person means: one row per person
    titles = [s.title for s in rep.sections]
    assert titles[-2:] == ["Diary APIM", "Truth and bias"]
    diary = next(s for s in rep.sections if s.title == "Diary APIM")
    assert [f.title for f in diary.figures] == ["Diary trajectories"]
    apim = next(s for s in rep.sections if s.title == "APIM on person means")
    titles = [f.title for f in apim.figures]
    assert titles == ["APIM path diagram, truth", "APIM path diagram, event"]


def test_a_mixed_study_is_analysed_by_role_and_as_indistinguishable(
    diary_data: pd.DataFrame,
) -> None:
    df = diary_data.copy()
    same_sex = df["dyad"].isin(df["dyad"].unique()[:10])
    df.loc[same_sex, "role"] = None
    rep = analysis_sections(
        df,
        dyad="dyad",
        person="person",
        role="role",
        time="time",
        judgment="judgment",
        truth="truth",
    )
    by_role, pooled = rep.results["truth_bias_by_role"], rep.results["truth_bias_all"]
    assert by_role.distinguishable and by_role.n_dyads == 20
    assert not pooled.distinguishable and pooled.n_dyads == 30
    assert "20 dyads have two roles in 'role'; 10 do not" in rep.sections[0].text


def test_a_model_that_cannot_be_fitted_gets_a_section_saying_why() -> None:
    df = dl.simulate_apim(30, rng=1)
    df["c"] = 1.0  # constant: no nonindependence, no APIM
    rep = analysis_sections(df, dyad="dyad", person="person", y="y", x="c")
    texts = {s.title: s.text for s in rep.sections}
    assert "Not fitted" in texts["APIM"]
    assert "apim" not in rep.results


def test_bad_arguments_are_named() -> None:
    df = dl.simulate_apim(20, rng=1)
    with pytest.raises(OptionError, match="both y and x"):
        analysis_sections(df, dyad="dyad", y="y")
    with pytest.raises(OptionError, match="nothing to analyse"):
        analysis_sections(df, dyad="dyad")
    with pytest.raises(OptionError, match="time needs person"):
        analysis_sections(df, dyad="dyad", time="t", y="y", x="x")
    with pytest.raises(DyadicDataError, match="'xx'"):
        analysis_sections(df, dyad="dyad", y="y", x="xx")


def test_code_yes_no_keeps_other_columns_and_missing_values() -> None:
    df = pd.DataFrame({"a": ["yes", "no", np.nan], "b": ["x", "y", "z"], "c": [1, 2, 3]})
    out, notes = code_yes_no(df, ["a", "b", "c"])
    assert out["a"].tolist()[:2] == [1.0, 0.0] and np.isnan(out["a"].iloc[2])
    assert out["b"].tolist() == ["x", "y", "z"] and notes == ["a: yes = 1, no = 0"]
    assert df["a"].tolist()[:2] == ["yes", "no"]  # input unchanged


def test_compliance_heatmap_counts_complete_couple_days() -> None:
    days = pd.DataFrame(
        {"couple_id": [1, 1, 2, 2], "diary_day": [1, 2, 1, 2], "persons_answered": [2, 2, 1, 0]}
    )
    fig = plot_compliance_heatmap(days)
    assert "50% of couple-days complete" in fig.axes[0].get_title()
    image = fig.axes[0].images[0].get_array()
    assert image.tolist() == [[2, 2], [1, 0]]  # most complete couple first


def test_cli_report_writes_the_report_with_provenance(
    tmp_path: Path, diary_data: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "diary.csv"
    diary_data.to_csv(data, index=False)
    out = tmp_path / "report.html"
    args = ["report", str(data), "--dyad", "dyad", "--person", "person", "--role", "role"]
    args += ["--time", "time", "--y", "y", "--x", "truth", "--judgment", "judgment"]
    args += ["--truth", "truth", "--out", str(out)]
    assert main(args) == 0
    assert "analyses: nonindependence, apim, diary, truth_bias" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert file_sha256(data) in html and "dyadlab " in html
    assert re.search(r"on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", html)
    figures = sorted(p.suffix for p in (tmp_path / "figures").iterdir())
    assert ".png" in figures and ".svg" in figures


def test_cli_report_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "d.csv"
    dl.simulate_apim(20, rng=1).to_csv(data, index=False)
    assert main(["report", str(data), "--dyad", "dyad", "--y", "y"]) == 2
    assert "both y and x" in capsys.readouterr().err


def test_model_result_report_embeds_the_apim_path_diagram(tmp_path: Path) -> None:
    df = dl.simulate_apim(50, rng=3)
    res = dl.apim(df, y="y", x="x", dyad="dyad", person="person", role="role")
    path = res.report(tmp_path / "apim.html", figures_dir=tmp_path / "fig")
    assert "data:image/png;base64" in path.read_text(encoding="utf-8")
    assert (tmp_path / "fig" / "apim-plot.svg").is_file()


def test_a_plot_that_cannot_be_drawn_is_said_so_and_the_rest_is_kept() -> None:
    from dyadlab.exceptions import DyadlabError
    from dyadlab.report.analysis import AnalysisReport, _attempt

    df = dl.simulate_apim(30, rng=1)
    report = AnalysisReport()

    def no_plot(result: object) -> list[object]:
        raise DyadlabError("plot(): nothing to plot")

    _attempt(report, "apim", "APIM", "", lambda: dl.apim(df, y="y", x="x", dyad="dyad"), no_plot)
    (section,) = report.sections
    assert "No figure: plot(): nothing to plot" in section.text
    assert not section.figures and "apim" in report.results
    assert section.apa[0].groups[0].title == "Intercepts"
