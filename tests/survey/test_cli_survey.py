"""``dyadlab survey mean|total|proportion|glm`` print the functions' JSON; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadlabWarning

DESIGN = ["--weights", "weight", "--strata", "stratum", "--cluster", "psu"]


@pytest.fixture
def panel_csv(tmp_path: Path) -> Path:
    path = tmp_path / "panel.csv"
    dl.survey.simulate_panel(500, rng=21).to_csv(path, index=False)
    return path


def _json(capsys: pytest.CaptureFixture[str]) -> dict:
    return json.loads(capsys.readouterr().out)


def test_mean_json_equals_the_function(panel_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["survey", "mean", str(panel_csv), "--var", "loneliness", "--by", "relationship"]
    assert main([*argv, *DESIGN, "--json"]) == 0
    out = _json(capsys)
    df = dl.read_table(panel_csv)
    d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
    with pytest.warns(DyadlabWarning, match="missing are outside"):
        expected = json.loads(d.mean("loneliness", by="relationship").to_json())
    assert out == expected
    assert out["model"] == "survey_mean"
    assert [r["group"] for r in out["estimates"]][:2] == ["man-man", "man-woman"]
    assert {
        "effect",
        "predictor",
        "role",
        "estimate",
        "se",
        "statistic",
        "df",
        "p",
        "ci_low",
        "ci_high",
        "group",
        "n",
    } <= set(out["estimates"][0])


def test_glm_total_proportion(panel_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "survey",
        "glm",
        str(panel_csv),
        "--y",
        "lonely_often",
        "--x",
        "age",
        "--x",
        "relationship",
        "--family",
        "quasibinomial",
        *DESIGN,
        "--json",
    ]
    assert main(argv) == 0
    out = _json(capsys)
    assert out["estimates"][0]["effect"] == "(Intercept)"
    assert [t["name"] for t in out["tests"]] == ["term:age", "term:relationship"]
    assert (
        main(["survey", "total", str(panel_csv), "--var", "lonely_often", *DESIGN, "--json"]) == 0
    )
    assert _json(capsys)["estimates"][0]["effect"] == "total"
    argv = [
        "survey",
        "proportion",
        str(panel_csv),
        "--var",
        "relationship",
        "--value",
        "single",
        "--method",
        "beta",
        *DESIGN,
        "--json",
    ]
    assert main(argv) == 0
    row = _json(capsys)["estimates"][0]
    assert row["effect"] == "proportion" and 0 < row["ci_low"] < row["estimate"] < row["ci_high"]
    assert main(["survey", "mean", str(panel_csv), "--var", "depression", *DESIGN]) == 0
    assert "design df 60" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "message", "code"),
    [
        ("lonely", "stratum 2 has only one PSU", 1),
        ("zero", "zero, negative or infinite", 1),
        ("missing", "has 1 missing values", 1),
        ("empty", "group 'single' has no respondents", 1),
        ("noweights", "--weights is required", 2),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: str, message: str, code: int
) -> None:
    df = dl.survey.simulate_panel(400, rng=22)
    design = list(DESIGN)
    if edit == "lonely":
        df = df[~((df["stratum"] == 2) & (df["psu"] != 5))]
    elif edit == "zero":
        df.loc[3, "weight"] = 0.0
    elif edit == "missing":
        df.loc[3, "weight"] = np.nan
    elif edit == "empty":
        df.loc[df["relationship"] == "single", "loneliness"] = np.nan
    else:
        design = design[2:]
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    argv = ["survey", "mean", str(path), "--var", "loneliness", "--by", "relationship", *design]
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
