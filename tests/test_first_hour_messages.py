"""The smaller traps of issue 20, each with a test: messages name the dyads, persons and
columns; the demo prints no password without a server; a folder given as a data file;
"1 value is not"."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadicDataError, DyadlabWarning, FileFormatError
from dyadlab.io import read_table


def _warnings_of(fit: object) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return list(fit.warnings)  # type: ignore[attr-defined]


def test_a_dyad_of_one_person_is_named() -> None:
    df = dl.simulate_apim(40, rng=1)
    df = df.drop(index=df.index[(df["dyad"] == 7) & (df["role"] == "wife")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(df, y="y", x="x", dyad="dyad", role="role")
    (msg,) = [w for w in res.warnings if "one person" in w]
    assert msg.startswith("1 dyad has one person only (dyad 7)")


def test_persons_left_out_of_the_mlm_are_named() -> None:
    df = dl.simulate_apim(40, rng=1)
    df.loc[(df["dyad"] == 3) & (df["role"] == "husband"), "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(df, y="y", x="x", dyad="dyad", role="role", method="mlm")
    (msg,) = [w for w in res.warnings if "na.omit" in w]
    assert "1 person with a missing outcome" in msg and "dyad 3 (husband)" in msg


def test_sem_dyads_left_out_are_named() -> None:
    df = dl.simulate_apim(40, rng=1)
    df.loc[df["dyad"] == 5, "x"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(df, y="y", x="x", dyad="dyad", role="role")
    (msg,) = [w for w in res.warnings if "left out" in w]
    assert msg.startswith("1 dyad with a missing predictor") and "dyad 5" in msg


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_a_person_without_any_outcome_is_named(family: str) -> None:
    df = dl.simulate_diary(30, 6, rng=2)
    if family == "binomial":
        df["y"] = (df["y"] > df["y"].median()).astype(float)
    first = df.iloc[0]
    gone = (df["dyad"] == first["dyad"]) & (df["person"] == first["person"])
    df.loc[gone, "y"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.diary(
            df, y="y", x="x", dyad="dyad", person="person", time="time", role="role", family=family
        )
    (msg,) = [w for w in res.warnings if "left out of the fit" in w]
    assert "1 person has no outcome value at all" in msg
    assert f"of dyad {first['dyad']}" in msg


@pytest.mark.parametrize("family", ["gaussian", "binomial"])
def test_a_constant_predictor_is_named(family: str) -> None:
    df = dl.simulate_diary(20, 6, rng=1)
    if family == "binomial":
        df["y"] = (df["y"] > df["y"].median()).astype(float)
    df["c"] = 2.0
    with (
        warnings.catch_warnings(),
        pytest.raises(DyadicDataError, match=r"column 'c'; terms involved: .*actor c"),
    ):
        warnings.simplefilter("ignore", DyadlabWarning)
        dl.diary(
            df,
            y="y",
            x=["x", "c"],
            dyad="dyad",
            person="person",
            time="time",
            role="role",
            family=family,
        )


def test_a_folder_given_as_a_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    pd.DataFrame({"a": [1]}).to_csv(folder / "diary.csv", index=False)
    with pytest.raises(FileFormatError, match=r"is a folder, not a file.*It holds: diary\.csv"):
        read_table(folder)


def test_one_value_is_not_numeric_grammar() -> None:
    df = dl.simulate_apim(20, rng=1)
    df["y"] = df["y"].astype(object)
    df.loc[4, "y"] = "high"
    with pytest.raises(DyadicDataError, match=r"but 1 value is not \('high' in row 4\)"):
        dl.apim(df, y="y", x="x", dyad="dyad", role="role")
    df.loc[6, "y"] = "low"
    with pytest.raises(DyadicDataError, match=r"but 2 values are not"):
        dl.apim(df, y="y", x="x", dyad="dyad", role="role")


def test_demo_without_server_prints_no_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--no-serve", "--out", str(tmp_path), "--couples", "4", "--days", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Report:" in out
    assert "password" not in out.lower()
