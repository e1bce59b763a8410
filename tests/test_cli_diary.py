"""The ``dyadlab diary`` command: JSON contract, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.models._result import ESTIMATE_COLUMNS
from tests.reference.fixtures import REPO

BAL = REPO / "tests" / "reference" / "data" / "diary_sim_balanced.csv"
UNBAL = REPO / "tests" / "reference" / "data" / "diary_sim_unbalanced.csv"
INDIST = REPO / "tests" / "reference" / "data" / "diary_sim_indist.csv"
KEYS = ["--y", "y", "--x", "x", "--dyad", "couple", "--person", "pid", "--time", "day"]
TOP_KEYS = [
    "model", "dyadlab_version", "n_dyads", "n_obs", "distinguishable", "roles", "estimation",
    "estimates", "n_excluded", "excluded", "n_persons", "residual", "center", "reproduces",
    "tests", "variance_components", "fit", "warnings", "call",
]  # fmt: skip


def _run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["diary", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_contract_equals_the_function(capsys):  # type: ignore[no-untyped-def]
    code, out, err = _run(capsys, UNBAL, *KEYS, "--role", "role", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert list(got) == TOP_KEYS
    assert got["model"] == "diary"
    assert got["roles"] == ["h", "w"]
    assert all(list(e) == ESTIMATE_COLUMNS for e in got["estimates"])
    assert [e["effect"] for e in got["estimates"]] == ["intercept"] * 2 + ["actor"] * 2 + [
        "partner"
    ] * 2
    assert set(got["fit"]) >= {"loglik", "aic", "bic", "n_params", "converged"}
    assert got["n_excluded"] > 0 and any("left out" in w for w in got["warnings"])
    import pandas as pd

    with pytest.warns(dl.DyadlabWarning, match="left out"):  # the CLI keeps them in the JSON
        res = dl.diary(
            pd.read_csv(UNBAL), y="y", x="x", dyad="couple", person="pid", time="day", role="role"
        )
    assert got == json.loads(res.to_json())


@pytest.mark.parametrize(
    ("extra", "effects"),
    [
        (["--indistinguishable"], ["intercept", "actor", "partner"]),
        (
            ["--indistinguishable", "--center", "person"],
            ["intercept", "actor_within", "partner_within", "actor_between", "partner_between"],
        ),
    ],
)
def test_indistinguishable_and_centering(capsys, extra, effects):  # type: ignore[no-untyped-def]
    code, out, err = _run(capsys, INDIST, *KEYS, *extra, "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["distinguishable"] is False
    assert [e["effect"] for e in got["estimates"]] == effects
    assert all(e["role"] is None for e in got["estimates"])


@pytest.mark.parametrize("residual", ["ar1", "kronecker"])
def test_residual_options_and_table_output(capsys, residual):  # type: ignore[no-untyped-def]
    code, out, err = _run(capsys, BAL, *KEYS, "--role", "role", "--residual", residual)
    assert code == 0, err
    assert out.startswith("dyadlab diary") and "ar1_phi" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--y", "y", "--x", "x", "--dyad", "couple", "--person", "pid", "--role", "role"], 2,
         "--time is required"),
        ([*KEYS], 2, "--role COLUMN"),
        ([*KEYS, "--role", "role", "--indistinguishable"], 2, "exclude each other"),
        ([*KEYS, "--role", "role", "--residual", "ar2"], 2, "residual='ar2' is not allowed"),
        ([*KEYS, "--role", "rol"], 1, "column 'rol' is not in the data"),
    ],
)  # fmt: skip
def test_errors_are_one_line(capsys, args, code, message):  # type: ignore[no-untyped-def]
    got, out, err = _run(capsys, BAL, *args)
    assert got == code
    assert out == ""
    assert err.startswith("dyadlab: error:") and message in err
    assert err.count("\n") == 1


def test_method_flag_is_a_deprecated_alias_of_estimator(capsys):  # type: ignore[no-untyped-def]
    args = [*KEYS, "--indistinguishable", "--json"]
    code, old, err = _run(capsys, INDIST, *args, "--method", "ml")
    assert code == 0 and "--method is deprecated for REML/ML; use --estimator" in err
    code, new, _ = _run(capsys, INDIST, *args, "--estimator", "ML")
    assert code == 0 and json.loads(old) == json.loads(new)
    assert json.loads(new)["estimation"] == "ML" and json.loads(new)["call"]["estimator"] == "ML"
