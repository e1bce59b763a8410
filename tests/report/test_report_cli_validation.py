"""``dyadlab report`` checks its input as the model commands do (issue 20): one line on
stderr and exit 1 for bad data, exit 1 when no analysis could be fitted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main


def _run(
    tmp_path: Path, df: pd.DataFrame, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    args = ["report", str(data), "--dyad", "dyad", "--person", "person"]
    code = main([*args, *extra, "--out", str(tmp_path / "r.html")])
    out = capsys.readouterr()
    return code, out.out, out.err


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_non_numeric_outcome_is_one_line_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    df = dl.simulate_apim(30, rng=1)
    df["y"] = df["y"].astype(object)
    df.loc[3, "y"] = "high"
    code, _, err = _run(tmp_path, df, capsys, "--role", "role", "--y", "y", "--x", "x")
    assert code == 1
    line = _one_line_error(err)
    assert "'y' must be numeric" in line and "'high'" in line


def test_numbers_written_as_text_are_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    df = dl.simulate_apim(30, rng=1)
    df["y"] = df["y"].round(3).astype(str)
    code, out, _ = _run(tmp_path, df, capsys, "--role", "role", "--y", "y", "--x", "x")
    assert code == 0 and "apim" in out


def test_three_person_couple_is_named_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    df = dl.simulate_apim(30, rng=1)
    extra = df[df["dyad"] == 7].iloc[:1].copy()
    extra["person"] = "third"
    df = pd.concat([df, extra], ignore_index=True)
    code, _, err = _run(tmp_path, df, capsys, "--role", "role", "--y", "y", "--x", "x")
    assert code == 1
    line = _one_line_error(err)
    assert "1 dyad has more (first: 7)" in line


def test_nothing_fitted_exits_1_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    df = dl.simulate_apim(30, rng=1)
    df["c"] = 1.0
    code, _, err = _run(tmp_path, df, capsys, "--y", "y", "--x", "c")
    assert code == 1
    line = _one_line_error(err)
    assert "none of the analyses could be fitted" in line and "'c' is constant" in line
    assert (tmp_path / "r.html").exists()  # the report that says why is still written


def test_family_runs_the_diary_glmm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = dl.simulate_diary(30, 8, rng=2)
    df["y"] = (df["y"] > df["y"].median()).astype(int)
    code, out, err = _run(
        tmp_path,
        df,
        capsys,
        "--role",
        "role",
        "--time",
        "time",
        "--y",
        "y",
        "--x",
        "x",
        "--family",
        "binomial",
    )
    assert code == 0, err
    assert "diary_glmm" in out and "diary," not in out
    assert "Diary GLMM: y (binomial)" in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert (tmp_path / "figures").is_dir()


def test_family_without_time_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    df = dl.simulate_apim(20, rng=1)
    code, _, err = _run(tmp_path, df, capsys, "--y", "y", "--x", "x", "--family", "poisson")
    assert code == 2
    assert "diary outcome" in _one_line_error(err)


def test_missing_person_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    df = dl.simulate_apim(20, rng=1)
    df["person"] = df["person"].astype(object)
    df.loc[5, "person"] = np.nan
    code, _, err = _run(tmp_path, df, capsys, "--y", "y", "--x", "x")
    assert code == 1
    assert "'person'" in _one_line_error(err)
