"""``dyadlab history sequences|wide``: the JSON contract and one-line errors."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadlabWarning

from .conftest import episodes


def test_sequences_json_is_the_contract(tmp_path, capsys):
    frame, truth = dl.history.simulate_episodes(8, rng=4)
    path = tmp_path / "episodes.csv"
    frame.to_csv(path, index=False)
    argv = ["history", "sequences", str(path), "--unit", "month"]
    assert main([*argv, "--until", truth.until.isoformat(), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"model", "dyadlab_version", "unit", "until", "sequences", "warnings"}
    assert out["model"] == "history_sequences" and out["unit"] == "month"
    assert {s["person"]: s["states"] for s in out["sequences"]} == truth.sequences
    assert {s["person"]: s["start"] for s in out["sequences"]} == truth.starts
    assert all(set(s) == {"person", "start", "states"} for s in out["sequences"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        expected = dl.history.sequences(path, until=truth.until).to_dict()
    assert out == expected
    assert out["warnings"]  # this simulation has imprecise dates

    assert main([*argv, "--until", truth.until.isoformat()]) == 0
    text = capsys.readouterr().out
    assert text.startswith("dyadlab history sequences — 8 persons")


def test_the_issue_example(tmp_path, capsys):
    path = tmp_path / "e.csv"
    episodes(
        ("p1", "romantic", "2019-02", "2019-05"),
        ("p1", "casual", "2019-03-10", "2019-03-20"),
        ("p1", "dating", "2019-01-31", "2019-01-31"),
    ).to_csv(path, index=False)
    assert main(["history", "sequences", str(path), "--until", "2020-01-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sequences"] == [
        {
            "person": "p1",
            "start": "2019-01",
            "states": ["dating", "romantic", "casual+romantic", "romantic", "romantic"],
        }
    ]
    assert out["warnings"] == []


@pytest.mark.parametrize(
    ("extra", "code", "fragment"),
    [
        (["--unit", "fortnight"], 2, "unit='fortnight' is not allowed"),
        (["--until", "soon"], 2, "until='soon'"),
    ],
)
def test_usage_errors(tmp_path, capsys, extra, code, fragment):
    path = tmp_path / "e.csv"
    episodes(("p", "casual", "2019", "2019")).to_csv(path, index=False)
    assert main(["history", "sequences", str(path), *extra]) == code
    err = capsys.readouterr().err
    assert err.startswith("dyadlab: error: ") and fragment in err
    assert len(err.strip().splitlines()) == 1


def test_data_error_is_one_line_naming_the_line(tmp_path, capsys):
    path = tmp_path / "e.csv"
    episodes(("p", "casual", "2019", "2019"), ("p", "casual", "2019-05", "2019-04")).to_csv(
        path, index=False
    )
    assert main(["history", "sequences", str(path), "--until", "2024-01-01"]) == 1
    err = capsys.readouterr().err
    assert "e.csv, line 3, column 'end'" in err and len(err.strip().splitlines()) == 1
    assert main(["history", "sequences", str(tmp_path / "none.csv")]) == 1
    assert "there is no file" in capsys.readouterr().err


def test_wide_command_writes_what_read_wide_reads(tmp_path, capsys):
    frame, truth = dl.history.simulate_episodes(6, rng=9, imprecise=0)
    path, out = tmp_path / "e.csv", tmp_path / "wide.csv"
    frame.to_csv(path, index=False)
    argv = ["history", "wide", str(path), "--out", str(out), "--until", truth.until.isoformat()]
    assert main(argv) == 0
    assert "6 persons" in capsys.readouterr().out
    assert dl.history.read_wide(out).as_dict() == truth.sequences
    assert pd.read_csv(out).columns[:2].tolist() == ["person", "start"]


def test_time_to_event_command(tmp_path, capsys):
    frame, truth = dl.history.simulate_episodes(40, rng=12)
    episodes_path, persons_path = tmp_path / "e.csv", tmp_path / "p.csv"
    frame.to_csv(episodes_path, index=False)
    persons = pd.DataFrame(
        {
            "person": [f"p{i}" for i in range(1, 41)],
            "birth": [f"{1996 + i % 4}-{1 + i % 12:02d}" for i in range(40)],
            "group": ["a", "b"] * 20,
        }
    )
    persons.to_csv(persons_path, index=False)
    argv = ["history", "time-to-event", str(episodes_path), "--persons", str(persons_path)]
    argv += ["--event", "first_romantic", "--until", truth.until.isoformat()]
    assert main([*argv, "--by", "group", "--covariate", "group", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "history_time_to_event"
    assert out["estimates"][0]["predictor"] == "groupb"
    assert out["tests"][0]["name"] == "logrank"
    ep = dl.history.read_episodes(frame, until=truth.until)
    data = dl.history.event_ages(
        dl.history.first_episodes(ep), persons, event="first_romantic", until=truth.until
    )
    expected = dl.history.time_to_event(data, covariates=["group"], by="group").to_dict()
    assert out == json.loads(json.dumps(expected))
    assert main(argv[:3]) == 2
    assert "--persons is required" in capsys.readouterr().err
    assert main([*argv[:5], "--event", "first_kiss"]) == 1
    assert "no milestone is called 'first_kiss'" in capsys.readouterr().err


def test_qdpx_command(tmp_path, capsys):
    frame, _ = dl.history.simulate_episodes(3, rng=3, imprecise=0)
    path = tmp_path / "e.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "notes.qdpx"
    assert main(["history", "qdpx", str(path), "--out", str(out), "--until", "2022-01-01"]) == 0
    assert dl.history.read_qdpx_notes(out)["note"].tolist() == frame["note"].tolist()


def test_results_are_strict_json_and_leave_their_input_alone():
    frame, truth = dl.history.simulate_episodes(10, rng=6)
    before = frame.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.history.sequences(frame, until=truth.until)
    json.dumps(res.to_dict(), allow_nan=False)
    pd.testing.assert_frame_equal(frame, before)
    data = pd.DataFrame(
        {
            "age": [14.0, 15.0, 16.0, 17.0, 14.5, 15.5, 16.5, 18.0],
            "event": [1, 0, 1, 1, 1, 1, 0, 0],
            "g": list("abababab"),
        }
    )
    copy = data.copy()
    tte = dl.history.time_to_event(data, by="g", covariates=["g"])
    json.dumps(tte.to_dict(), allow_nan=False)  # medians not reached are null, not NaN
    pd.testing.assert_frame_equal(data, copy)
