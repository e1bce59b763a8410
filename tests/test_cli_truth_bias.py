"""The ``dyadlab truth-bias`` command: JSON contract, exit codes, one-line errors."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadlabWarning
from dyadlab.models._result import ESTIMATE_COLUMNS
from tests.reference.fixtures import REPO

DIST = REPO / "tests" / "reference" / "data" / "tb_diary_dist.csv"
INDIST = REPO / "tests" / "reference" / "data" / "tb_diary_indist.csv"
BASE = ["--judgment", "judgment", "--truth", "truth", "--dyad", "couple", "--person", "pid"]

TOP_KEYS = [
    "model", "dyadlab_version", "n_dyads", "n_obs", "distinguishable", "roles", "estimation",
    "estimates", "truth_mean", "n_excluded", "excluded", "random_covariance", "tests",
    "variance_components", "fit", "warnings", "call",
]  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["truth-bias", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    code, out, err = _run(capsys, *args, "--json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)  # exactly one JSON object on stdout
    return parsed


def test_json_contract_distinguishable_equals_the_function(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _json(capsys, DIST, *BASE, "--time", "day", "--role", "role")
    assert list(out) == TOP_KEYS
    assert out["model"] == "truth_bias"
    assert out["distinguishable"] is True
    assert out["roles"] == ["husband", "wife"]
    assert out["estimation"] == "REML"
    effects = [(e["effect"], e["role"]) for e in out["estimates"]]
    assert effects == [
        (eff, role)
        for eff in ("directional_bias", "truth", "assumed_similarity")
        for role in ("husband", "wife")
    ]
    assert all(list(e) == ESTIMATE_COLUMNS for e in out["estimates"])
    assert out["n_excluded"] == 107
    assert any("107 rows were left out" in w for w in out["warnings"])
    assert out["fit"]["converged"] is True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.truth_bias(
            pd.read_csv(DIST), judgment="judgment", truth="truth", dyad="couple", person="pid",
            time="day", role="role",
        )  # fmt: skip
    expected = json.loads(res.to_json())
    expected.pop("dyadlab_version")
    out.pop("dyadlab_version")
    assert out == expected


def test_json_indistinguishable_with_ml(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, INDIST, *BASE, "--time", "day", "--indistinguishable", "--estimator", "ML")
    assert out["distinguishable"] is False and out["roles"] == []
    assert out["estimation"] == "ML"
    assert [e["effect"] for e in out["estimates"]] == [
        "directional_bias", "truth", "assumed_similarity",
    ]  # fmt: skip
    assert all(e["role"] is None for e in out["estimates"])


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, INDIST, *BASE, "--time", "day", "--indistinguishable")
    assert code == 0, err
    assert out.startswith("dyadlab truth_bias")
    assert "assumed_similarity" in out


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        ([*BASE, "--time", "day"], 2, "--role COLUMN"),
        ([*BASE, "--time", "day", "--role", "role", "--indistinguishable"], 2, "exclude"),
        (["--truth", "truth", "--dyad", "couple", "--role", "role"], 2, "--judgment"),
        ([*BASE, "--role", "role", "--estimator", "OLS"], 2, "--estimator"),
        ([*BASE, "--role", "role", "--method", "OLS"], 2, "--method"),
        ([*BASE, "--time", "day", "--role", "rol"], 1, "'role'"),
        (
            ["--judgment", "judgment", "--truth", "pid", "--dyad", "couple", "--role", "role",
             "--time", "day"],
            1,
            "numeric",
        ),
    ],
)  # fmt: skip
def test_bad_input_gives_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, needle: str
) -> None:
    got, out, err = _run(capsys, DIST, *args)
    assert got == code
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dyadlab: error: ")
    assert needle in lines[0]
    assert "Traceback" not in err


def test_missing_file_is_a_data_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    got, _, err = _run(capsys, tmp_path / "nope.csv", *BASE, "--indistinguishable")
    assert got == 1
    assert len(err.strip().splitlines()) == 1


def test_method_flag_is_a_deprecated_alias_of_estimator(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*BASE, "--time", "day", "--indistinguishable", "--json"]
    code, old, err = _run(capsys, INDIST, *args, "--method", "ML")
    assert code == 0 and "--method is deprecated for REML/ML; use --estimator" in err
    code, new, _ = _run(capsys, INDIST, *args, "--estimator", "ML")
    assert code == 0 and json.loads(old) == json.loads(new)
    assert json.loads(new)["call"]["estimator"] == "ML"
