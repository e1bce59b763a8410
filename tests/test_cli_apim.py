"""The ``dyadlab apim`` command: JSON contract, exit codes, one-line errors."""

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

DIST = REPO / "tests" / "reference" / "data" / "apim_two_predictors.csv"
MISSING = REPO / "tests" / "reference" / "data" / "apim_dist_missing.csv"
INDIST = REPO / "tests" / "reference" / "data" / "apim_indist.csv"

TOP_KEYS = [
    "model", "dyadlab_version", "n_dyads", "n_obs", "distinguishable", "roles", "estimation",
    "estimates", "k", "tests", "variance_components", "fit", "warnings",
]  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["apim", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    code, out, err = _run(capsys, *args, "--json")
    assert code == 0, err
    parsed: dict[str, Any] = json.loads(out)  # exactly one JSON object on stdout
    return parsed


def test_json_contract_distinguishable(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys, DIST, "--y", "y", "--x", "x", "--x", "z", "--dyad", "dyad", "--role", "role",
        "--covariate", "age", "--bootstrap", "100", "--seed", "1",
    )  # fmt: skip
    for key in TOP_KEYS:
        assert key in out
    assert [k for k in out if k in TOP_KEYS] == TOP_KEYS
    assert out["model"] == "apim"
    assert out["roles"] == ["A", "B"]
    assert out["estimation"] == "ML"
    assert out["distinguishable"] is True
    for row in out["estimates"]:
        assert list(row) == ESTIMATE_COLUMNS
        assert row["df"] is None
        assert row["role"] in ("A", "B")
    assert {(k["role"], k["predictor"]) for k in out["k"]} == {
        ("A", "x"),
        ("B", "x"),
        ("A", "z"),
        ("B", "z"),
    }
    for k in out["k"]:
        assert {"role", "estimate", "ci_low", "ci_high"} <= set(k)
        assert k["ci_low"] is not None
    names = {(t["name"], t["method"]) for t in out["tests"]}
    assert ("equal_actor_effects", "likelihood_ratio") in names
    assert ("equal_roles", "wald") in names
    for t in out["tests"]:
        assert {"name", "statistic", "df", "p"} <= set(t)
    assert {"loglik", "aic", "bic", "n_params", "converged"} <= set(out["fit"])
    assert {"name", "role", "estimate"} == set(out["variance_components"][0])


def test_json_equals_the_library_result(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, INDIST, "--y", "y", "--x", "x", "--dyad", "dyad", "--indistinguishable")
    res = dl.apim(pd.read_csv(INDIST), y="y", x="x", dyad="dyad")
    assert out == json.loads(res.to_json())
    assert out["estimation"] == "REML"
    assert all(r["role"] is None for r in out["estimates"])
    assert all(r["df"] == 300 - 3 for r in out["estimates"])  # N - p, as nlme


def test_json_reports_missing_values(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, MISSING, "--y", "y", "--x", "x", "--dyad", "dyad", "--role", "role")
    assert out["n_dyads"] == 114
    assert any("left out" in w for w in out["warnings"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(pd.read_csv(MISSING), y="y", x="x", dyad="dyad", role="role")
    assert out["warnings"] == res.warnings


def test_method_mlm_with_role(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(
        capsys, DIST, "--y", "y", "--x", "x", "--dyad", "dyad", "--role", "role", "--method", "mlm"
    )
    assert out["estimation"] == "REML"
    assert out["tests"] == []


def test_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, DIST, "--y", "y", "--x", "x", "--dyad", "dyad", "--role", "role")
    assert code == 0
    assert "actor" in out and "k = partner / actor" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--x", "x", "--dyad", "dyad", "--role", "role"], 2, "--y is required"),
        (["--y", "y", "--dyad", "dyad", "--role", "role"], 2, "--x is required"),
        (["--y", "y", "--x", "x", "--role", "role"], 2, "--dyad is required"),
        (["--y", "y", "--x", "x", "--dyad", "dyad"], 2, "--indistinguishable"),
        (["--y", "y", "--x", "x", "--dyad", "dyad", "--role", "role", "--indistinguishable"],
         2, "exclude each other"),
        (["--y", "y", "--x", "x", "--dyad", "dyad", "--role", "role", "--method", "gls"],
         2, "--method"),
        (["--y", "y", "--x", "length", "--dyad", "dyad", "--role", "role"], 1,
         "same value for both members"),
        (["--y", "y", "--x", "xx", "--dyad", "dyad", "--role", "role"], 1, "not in the data"),
    ],
)  # fmt: skip
def test_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    got, out, err = _run(capsys, DIST, *args)
    assert got == code
    assert out == ""
    assert err.startswith("dyadlab: error:")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "options",
    [
        ["--role", "gender"],
        ["--indistinguishable"],
        ["--indistinguishable", "--method", "sem"],
        ["--role", "gender", "--bootstrap", "50", "--seed", "1"],
    ],
)
def test_acitelli_table_is_readable(
    options: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dyadlab.data.datasets import load_acitelli

    path = tmp_path / "acitelli.csv"
    load_acitelli().to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        code, out, err = _run(
            capsys, path, "--y", "satisfaction", "--x", "other_pos", "--dyad", "cuplid", *options
        )
    assert code == 0, err
    low = out.lower()
    assert "nan" not in low and "none" not in low, out
    assert "k = partner / actor" in out
    assert "pattern" in out.split("k = partner / actor")[1]
    if "sem" in options:
        assert "adjusted for indistinguishable members (Olsen & Kenny 2006)" in out
        assert "saturated: p and RMSEA not defined" in out
