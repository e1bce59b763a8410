"""The ``dyadlab nonindependence`` command: JSON contract, exit codes, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.models._result import ESTIMATE_COLUMNS
from tests.reference.fixtures import REPO, assert_close_est, cases

SIM_DIST = REPO / "tests" / "reference" / "data" / "nonindep_sim_distinguishable.csv"
SIM_INDIST = REPO / "tests" / "reference" / "data" / "nonindep_sim_indistinguishable.csv"


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["nonindependence", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    code, out, err = _run(capsys, *args, "--json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)  # exactly one JSON object on stdout
    return parsed


def test_json_contract_distinguishable(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys, SIM_DIST, "--var", "distress", "--var", "support", "--dyad", "dyad",
        "--role", "role", "--person", "person",
    )  # fmt: skip
    assert out["model"] == "nonindependence"
    assert isinstance(out["dyadlab_version"], str)
    assert (out["n_dyads"], out["n_obs"]) == (80, 160)
    assert out["distinguishable"] is True
    assert out["roles"] == ["caregiver", "patient"]
    assert [(e["effect"], e["predictor"], e["role"]) for e in out["estimates"]] == [
        ("pearson_r", "distress", None),
        ("pearson_r", "support", None),
    ]
    for row in out["estimates"]:
        assert list(row) == ESTIMATE_COLUMNS
        for key in ["estimate", "se", "statistic", "df", "p", "ci_low", "ci_high"]:
            assert isinstance(row[key], float)
    (test,) = out["tests"]
    assert test["name"] == "distinguishability"
    assert isinstance(test["statistic"], float) and isinstance(test["p"], float)
    assert test["df"] == 6
    assert isinstance(out["warnings"], list) and all(isinstance(w, str) for w in out["warnings"])
    assert out["n_excluded_dyads"] == {"distress": 3, "support": 2}
    for key in ["variance_components", "fit"]:
        assert key in out


def test_json_equals_the_library_result(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, SIM_INDIST, "--var", "closeness", "--var", "chores", "--dyad", "pair")
    with pytest.warns(dl.DyadlabWarning, match="left out"):  # the CLI keeps them in the JSON
        res = dl.nonindependence(
            pd.read_csv(SIM_INDIST), variables=["closeness", "chores"], dyad="pair"
        )
    assert out == json.loads(res.to_json())
    assert [e["effect"] for e in out["estimates"]] == ["icc", "pairwise_r"] * 2
    assert out["tests"] == []
    assert out["distinguishable"] is False
    assert out["roles"] == []


def test_covariates_reach_the_model_and_match_r(capsys: pytest.CaptureFixture[str]) -> None:
    (case,) = [c for c in cases("nonindependence") if c.name == "sim_partial_distinguishable"]
    out = _json(
        capsys, SIM_DIST, "--var", "distress", "--var", "support", "--dyad", "dyad",
        "--role", "role", "--person", "person", "--covariate", "age", "--covariate", "duration",
    )  # fmt: skip
    got = [e["estimate"] for e in out["estimates"]]
    assert_close_est(got, [e["estimate"] for e in case.expected["estimates"]], case)
    assert out["covariates"] == ["age", "duration"]


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, SIM_DIST, "--var", "distress", "--dyad", "dyad", "--role", "role")
    assert code == 0 and err == ""
    assert "pearson_r" in out and "distinguishability" in out
    assert not out.lstrip().startswith("{")


def _mixed(tmp_path: Path) -> Path:
    df = pd.read_csv(SIM_DIST)
    df.loc[df["dyad"] == "D005", "role"] = "patient"
    path = tmp_path / "mixed.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (["--var", "distres", "--dyad", "dyad"], 1, "Did you mean 'distress'"),
        (["--var", "distress", "--dyad", "dyad", "--covariate", "distress"], 2, "named twice"),
        (["--var", "dyad", "--dyad", "dyad"], 2, "cannot also be analysed"),
        (["--var", "person", "--dyad", "dyad"], 1, "must be numeric"),
        (["--dyad", "dyad"], 2, "--var is required"),
        (["--var", "distress"], 2, "--dyad is required"),
        (["--var", "distress", "--dyad", "dyad", "--level", "95"], 2, "out of range"),
        (["MIXED", "--var", "distress", "--dyad", "dyad", "--role", "role"], 1, "Leave role out"),
        (["MISSING", "--var", "distress", "--dyad", "dyad"], 1, "does not exist"),
    ],
)
def test_errors_are_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], code: int, pattern: str
) -> None:
    data = SIM_DIST
    if args[0] == "MIXED":
        data, args = _mixed(tmp_path), args[1:]
    elif args[0] == "MISSING":
        data, args = tmp_path / "nope.csv", args[1:]
    got, out, err = _run(capsys, data, *args, "--json")
    assert got == code
    assert out == ""
    assert err.startswith("dyadlab: error: ")
    assert err.count("\n") == 1
    assert re.search(pattern, err)


def test_mixed_study_message_names_the_dyad(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _, _, err = _run(
        capsys, _mixed(tmp_path), "--var", "distress", "--dyad", "dyad", "--role", "role"
    )
    assert "'D005'" in err
    code, out, _ = _run(capsys, _mixed(tmp_path), "--var", "distress", "--dyad", "dyad")
    assert code == 0 and "icc" in out
