"""`dyadlab convert` and `dyadlab describe`: output, --json, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from dyadlab.cli import main
from dyadlab.data import to_dyad, to_pairwise
from dyadlab.data.datasets import load_acitelli


@pytest.fixture
def couples(tmp_path: Path) -> Path:
    path = tmp_path / "couples.csv"
    load_acitelli().to_csv(path, index=False)
    return path


@pytest.fixture
def diary(tmp_path: Path) -> Path:
    df = pd.DataFrame(
        {
            "couple": [1, 1, 1, 1, 2, 2, 2],
            "pid": [1, 1, 2, 2, 3, 3, 4],
            "sex": ["f", "f", "m", "m", "f", "f", "m"],
            "day": [1, 2, 1, 2, 1, 2, 1],
            "mood": [3.0, 4.0, None, 5.0, 2.0, 1.0, 4.0],
        }
    )
    path = tmp_path / "diary.csv"
    df.to_csv(path, index=False)
    return path


def assert_one_line_error(capsys: pytest.CaptureFixture[str], code: int, *parts: str) -> None:
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dyadlab: error: ")
    assert "Traceback" not in err
    for part in parts:
        assert part in lines[0]


@pytest.mark.parametrize("layout", ["pairwise", "dyad", "individual"])
def test_convert_writes_each_layout(couples, tmp_path, capsys, layout):
    out = tmp_path / f"out_{layout}.parquet"
    code = main(
        ["convert", str(couples), str(out), "--to", layout, "--dyad", "cuplid", "--role", "gender"]
    )
    stdout = capsys.readouterr().out
    assert code == 0
    assert f"({layout} format) to {out}" in stdout
    got = pd.read_parquet(out)
    individual = pd.read_csv(couples)
    expected = {
        "pairwise": to_pairwise(individual, dyad="cuplid", role="gender"),
        "dyad": to_dyad(individual, dyad="cuplid", role="gender"),
        "individual": individual,
    }[layout]
    pd.testing.assert_frame_equal(got, expected.reset_index(drop=True))


def test_convert_back_from_dyad_and_pairwise(diary, tmp_path, capsys):
    keys = ["--dyad", "couple", "--person", "pid", "--role", "sex", "--time", "day"]
    wide = tmp_path / "wide.csv"
    assert main(["convert", str(diary), str(wide), "--to", "dyad", *keys]) == 0
    assert "wrote 4 rows" in capsys.readouterr().out
    back = tmp_path / "back.csv"
    assert (
        main(["convert", str(wide), str(back), "--from", "dyad", "--to", "individual", *keys]) == 0
    )
    original = pd.read_csv(diary).sort_values(["couple", "sex", "day"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_csv(back), original)
    pairwise = tmp_path / "pairwise.csv"
    assert main(["convert", str(diary), str(pairwise), "--to", "pairwise", *keys]) == 0
    again = tmp_path / "again.csv"
    assert (
        main(
            [
                "convert",
                str(pairwise),
                str(again),
                "--from",
                "pairwise",
                "--to",
                "individual",
                *keys,
            ]
        )
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_csv(again), pd.read_csv(diary))


def test_convert_missing_column_names_the_closest(couples, tmp_path, capsys):
    code = main(
        ["convert", str(couples), str(tmp_path / "x.csv"), "--to", "dyad", "--dyad", "cupid"]
    )
    assert_one_line_error(capsys, code, "'cupid' is not in the data", "Did you mean 'cuplid'?")
    assert not (tmp_path / "x.csv").exists()


def test_convert_unreadable_format(tmp_path, capsys):
    path = tmp_path / "data.sav"
    path.write_text("this is not SPSS")
    code = main(["convert", str(path), str(tmp_path / "x.csv"), "--to", "dyad", "--dyad", "d"])
    assert_one_line_error(capsys, code, "data.sav")


def test_convert_empty_file(tmp_path, capsys):
    path = tmp_path / "empty.csv"
    path.write_text("")
    code = main(["convert", str(path), str(tmp_path / "x.csv"), "--to", "dyad", "--dyad", "d"])
    assert_one_line_error(capsys, code, "empty")


def test_convert_header_only_file(tmp_path, capsys):
    path = tmp_path / "header.csv"
    path.write_text("couple,x\n")
    code = main(
        ["convert", str(path), str(tmp_path / "x.csv"), "--to", "pairwise", "--dyad", "couple"]
    )
    assert_one_line_error(capsys, code, "data is empty (0 rows)")


def test_convert_bad_structure(tmp_path, capsys):
    path = tmp_path / "triad.csv"
    pd.DataFrame({"couple": [1, 1, 1], "x": [1, 2, 3]}).to_csv(path, index=False)
    code = main(["convert", str(path), str(tmp_path / "x.csv"), "--to", "dyad", "--dyad", "couple"])
    assert_one_line_error(capsys, code, "1 dyad has more (first: 1)")


def test_convert_usage_errors_exit_2(couples, tmp_path, capsys):
    code = main(["convert", str(couples), str(tmp_path / "x.csv"), "--to", "wide", "--dyad", "c"])
    err = capsys.readouterr().err
    assert code == 2 and "--to='wide' is not allowed" in err and "Traceback" not in err
    assert main(["convert", str(couples), str(tmp_path / "x.csv"), "--dyad", "c"]) == 2
    assert "--to is required" in capsys.readouterr().err
    assert main(["convert", str(couples), str(tmp_path / "x.csv"), "--to", "dyad"]) == 2
    assert "--dyad is required" in capsys.readouterr().err


def test_describe_table(couples, capsys):
    assert main(["describe", str(couples), "--dyad", "cuplid", "--role", "gender"]) == 0
    out = capsys.readouterr().out
    assert "dyads" in out and "148" in out and "296" in out
    assert "-1/1: 148" in out
    assert "Missing values per variable" in out and "satisfaction" in out


def test_describe_json(diary, capsys):
    code = main(
        [
            "describe",
            str(diary),
            "--dyad",
            "couple",
            "--person",
            "pid",
            "--role",
            "sex",
            "--time",
            "day",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    payload = json.loads(out)
    assert payload["n_dyads"] == 2 and payload["n_persons"] == 4 and payload["n_obs"] == 7
    assert payload["distinguishable"] is True
    assert payload["composition"] == {"f/m": 2}
    assert payload["occasions"] == {"min": 1.0, "median": 2.0, "max": 2.0, "n_times": 2.0}
    assert payload["missing_by_variable"] == {"mood": 1}
    assert payload["missing_worst_dyads"] == [{"dyad": 1, "n_missing": 1}]
    assert "dyadlab_version" in payload


def test_describe_keeps_incomplete_dyads(tmp_path, capsys):
    path = tmp_path / "incomplete.csv"
    pd.DataFrame({"couple": [1, 1, 2], "x": [1.0, 2.0, 3.0]}).to_csv(path, index=False)
    assert main(["describe", str(path), "--dyad", "couple", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["composition"] == {"2 persons": 1, "1 person": 1}


def test_describe_missing_column(couples, capsys):
    code = main(["describe", str(couples), "--dyad", "cuplid", "--role", "gendr"])
    assert_one_line_error(capsys, code, "'gendr' is not in the data", "Did you mean 'gender'?")


def test_describe_missing_file(tmp_path, capsys):
    code = main(["describe", str(tmp_path / "nope.csv"), "--dyad", "couple"])
    assert_one_line_error(capsys, code, "does not exist")
