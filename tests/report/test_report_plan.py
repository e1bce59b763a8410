"""dyadlab.report.plan: a plan's steps fitted by the report's model sections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.report.plan import PlanStep, plan_sections, report_format_options, write_plan_report


@pytest.fixture(scope="module")
def diary() -> pd.DataFrame:
    """40 couples x 10 days with known actor (0.5) and partner (0.2) effects; two
    questionnaires in one file, as a platform export with a second scheduled one."""
    df = dl.simulate_diary(40, 10, actor=0.5, partner=0.2, rng=7)
    df["questionnaire"] = "evening"
    other = df.copy()
    other["questionnaire"] = "morning"
    other["y"] = np.nan
    return pd.concat([df, other], ignore_index=True)


def test_steps_equal_the_model_functions_and_are_numbered(diary: pd.DataFrame) -> None:
    evening = {"questionnaire": "evening"}
    steps = [
        PlanStep("diary", {"y": "y", "x": ["x"]}, time="time", rows=evening),
        PlanStep("diary", {"y": "y", "x": "x", "center": "person"}, time="time", rows=evening),
        PlanStep(
            "nonindependence",
            {"variables": ["x"]},
            time="time",
            rows={"questionnaire": "morning"},
            preregistered=False,
        ),
    ]
    rep = plan_sections(diary, steps, dyad="dyad", person="person", role="role")
    titles = [s.title for s in rep.sections]
    assert titles[:3] == [
        "Analysis plan",
        "Data: questionnaire = evening",
        "Data: questionnaire = morning",
    ]
    assert titles[3].startswith("Plan 1: Diary APIM") and titles[4].startswith("Plan 2: Diary")
    assert titles[5].startswith("Not preregistered: Nonindependence")
    assert sorted(rep.results) == ["diary", "diary_2", "nonindependence"]
    part = diary[diary["questionnaire"] == "evening"]
    expected = dl.diary(part, y="y", x="x", dyad="dyad", person="person", time="time", role="role")
    pd.testing.assert_frame_equal(rep.results["diary"].estimates, expected.estimates)
    centred = dl.diary(
        part, y="y", x="x", dyad="dyad", person="person", time="time", role="role", center="person"
    )
    pd.testing.assert_frame_equal(rep.results["diary_2"].estimates, centred.estimates)
    actor = expected.estimates.query("effect == 'actor'")["estimate"]
    assert np.allclose(actor, 0.5, atol=0.15)  # the simulation's truth, roughly
    table = rep.sections[0].tables[0][1]
    assert table["preregistered"].tolist() == ["yes", "yes", "no"]
    assert table["arguments"].tolist()[1] == "y=y, x=x, center=person"


def test_progress_is_reported_per_step(diary: pd.DataFrame) -> None:
    seen: list[tuple[int, int, str]] = []
    rows = {"questionnaire": "evening"}
    steps = [PlanStep("apim", {"y": "y", "x": "x"}, time="time", rows=rows, name="means")]
    plan_sections(
        diary,
        steps,
        dyad="dyad",
        person="person",
        role="role",
        progress=lambda *a: seen.append(a),
    )
    assert seen == [(1, 1, "apim (means)")]


@pytest.mark.parametrize(
    ("steps", "error", "message"),
    [
        ([], OptionError, "the plan has no models"),
        ([PlanStep("diry", {})], OptionError, "Did you mean 'diary'"),
        ([PlanStep("diary", {"y": "y", "x": "x"})], OptionError, "needs its occasions"),
        (
            [PlanStep("diary", {"y": "y", "x": "mood"}, time="time")],
            DyadicDataError,
            "mood",
        ),
    ],
)
def test_bad_steps_are_refused(diary: pd.DataFrame, steps, error, message) -> None:
    with pytest.raises(error, match=message):
        plan_sections(diary, steps, dyad="dyad", person="person", role="role")


def test_a_model_that_cannot_be_fitted_gets_a_section_saying_why() -> None:
    df = dl.simulate_apim(30, rng=1)
    df["x"] = 1.0  # a constant predictor
    steps = [PlanStep("apim", {"y": "y", "x": "x"})]
    rep = plan_sections(df, steps, dyad="dyad", person="person")
    assert rep.results == {}
    assert "Not fitted" in rep.sections[-1].text


def test_the_plan_report_is_written_as_word(tmp_path) -> None:
    docx = pytest.importorskip("docx")
    df = dl.simulate_apim(40, actor=0.4, partner=0.2, rng=1)
    path, rep = write_plan_report(
        tmp_path / "r.docx",
        df,
        [PlanStep("apim", {"y": "y", "x": "x"})],
        dyad="dyad",
        person="person",
        role="role",
        format="docx",
    )
    document = docx.Document(str(path))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert cells, "the Word report has no table"
    result = next(iter(rep.results.values()))
    actor = result.estimates.query("effect == 'actor'")["estimate"]
    assert len(actor) > 0
    assert any(f"{v:.2f}" in cells for v in actor)
    with pytest.raises(OptionError, match="format"):
        report_format_options("pdf")
