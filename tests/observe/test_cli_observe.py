"""``dyadlab observe agreement|icc|sequential`` print the functions' JSON."""

from __future__ import annotations

import json

import pandas as pd

from dyadlab.cli import main


def test_observe_commands_json(tmp_path, capsys):
    codes = tmp_path / "codes.csv"
    pd.DataFrame(
        {"unit": [1, 1, 2, 2, 3, 3, 4, 4], "coder": ["A", "B"] * 4, "code": list("xxyyxyyy")}
    ).to_csv(codes, index=False)
    argv = ["observe", "agreement", str(codes), "--unit", "unit", "--coder", "coder"]
    assert main([*argv, "--code", "code", "--method", "cohen", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["estimates"][0]["effect"] == "cohen_kappa"
    assert abs(out["estimates"][0]["estimate"] - 0.5) < 1e-12

    ratings = tmp_path / "ratings.csv"
    pd.DataFrame(
        {"t": [1, 1, 2, 2, 3, 3], "r": ["a", "b"] * 3, "v": [1.0, 2.0, 3.0, 3.5, 5.0, 5.5]}
    ).to_csv(ratings, index=False)
    assert (
        main(
            [
                "observe",
                "icc",
                str(ratings),
                "--target",
                "t",
                "--rater",
                "r",
                "--value",
                "v",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [r["effect"] for r in out["estimates"]] == [
        "ICC1",
        "ICC2",
        "ICC3",
        "ICC1k",
        "ICC2k",
        "ICC3k",
    ]

    events = tmp_path / "events.csv"
    pd.DataFrame(
        {"couple": [1] * 5 + [2] * 5, "code": list("ababbabbaa"), "onset": list(range(10))}
    ).to_csv(events, index=False)
    assert (
        main(
            [
                "observe",
                "sequential",
                str(events),
                "--session",
                "couple",
                "--code",
                "code",
                "--order",
                "onset",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "observe_sequential"
    assert len(out["table"]) == 3 * 4


def test_observe_errors_one_line(tmp_path, capsys):
    codes = tmp_path / "codes.csv"
    pd.DataFrame({"unit": [1, 1, 2], "coder": ["A", "B", "A"], "code": list("xyx")}).to_csv(
        codes, index=False
    )
    assert (
        main(
            [
                "observe",
                "agreement",
                str(codes),
                "--unit",
                "unit",
                "--coder",
                "coder",
                "--code",
                "code",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unit 2" in err
    assert main(["observe", "agreement", str(codes), "--unit", "unit"]) == 2


def test_observe_sequential_structural_zeros(tmp_path, capsys):
    events = tmp_path / "events.csv"
    pd.DataFrame({"couple": [1] * 9, "code": list("abcabcbac")}).to_csv(events, index=False)
    base = ["observe", "sequential", str(events), "--session", "couple", "--code", "code"]
    assert main([*base, "--structural-zeros", "diagonal", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tests"][0]["df"] == (3 - 1) ** 2 - 3
    pooled = [r for r in out["table"] if r["session"] is None and r["given"] == r["target"]]
    assert len(pooled) == 3 and all(r["expected"] == 0 for r in pooled)
    assert main([*base, "--structural-zeros", "a->a, b->b", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tests"][0]["df"] == 4 - 2
    assert main([*base, "--structural-zeros", "a-b"]) == 2  # a usage error
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GIVEN->TARGET" in err
