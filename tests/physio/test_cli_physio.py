"""``dyadlab physio vpa|synchrony`` print the functions' JSON; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dyadlab.cli import main
from dyadlab.io import read_table
from dyadlab.physio import (
    EditLog,
    concordance,
    simulate_concordance,
    simulate_vpa,
    surrogate_test,
    synchrony,
    vpa,
)


def test_vpa_json_equals_the_function(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sig, _ = simulate_vpa(30, sampling_rate=250, rng=1)
    path = tmp_path / "s.csv"
    pd.DataFrame({"t": np.arange(len(sig)) / 250, "vpa_ac": sig}).to_csv(path, index=False)
    log = EditLog().reject(float(vpa(sig, 250).beats["peak_s"].iloc[4]))
    edits = log.save(tmp_path / "edits.json")
    argv = ["physio", "vpa", str(path), "--signal", "vpa_ac", "--rate", "250", "--json"]
    assert main([*argv, "--edits", str(edits)]) == 0
    out = json.loads(capsys.readouterr().out)
    want = json.loads(vpa(read_table(path)["vpa_ac"].to_numpy(), 250, edits=log).to_json())
    assert out["beats"] == want["beats"]
    assert out["model"] == "physio_vpa"
    assert out["beats"][4]["reason"] == "manual"
    assert main(argv[:-1]) == 0
    assert "band-pass 0.5–8 Hz" in capsys.readouterr().out


def test_synchrony_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    a = np.cumsum(rng.standard_normal(1200))
    b = np.roll(a, 7) + rng.standard_normal(1200)
    path = tmp_path / "c.csv"
    pd.DataFrame({"woman": a, "man": b}).to_csv(path, index=False)
    argv = [
        "physio",
        "synchrony",
        str(path),
        "--a",
        "woman",
        "--b",
        "man",
        "--rate",
        "10",
        "--window",
        "30",
        "--step",
        "5",
        "--max-lag",
        "5",
        "--lag-step",
        "0.1",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    want = synchrony(
        pd.read_csv(path)["woman"],
        pd.read_csv(path)["man"],
        10,
        window=30,
        step=5,
        max_lag=5,
        lag_step=0.1,
    ).to_dict()
    want = json.loads(json.dumps(want))
    # equal up to rounding (numpy's sums may differ in the last bit with memory layout)
    nums = np.array(out["wcc"], dtype=float)
    np.testing.assert_allclose(nums, np.array(want["wcc"], dtype=float), atol=1e-12)
    assert pd.DataFrame(out["windows"]).equals(pd.DataFrame(want["windows"])) or np.allclose(
        pd.DataFrame(out["windows"]).to_numpy(float), pd.DataFrame(want["windows"]).to_numpy(float)
    )
    for key in ("model", "convention", "settings", "lags_s", "fit"):
        assert out[key] == want[key]
    assert "positive lag means a leads" in out["convention"]


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (
            ["--signal", "vpa", "--rate", "10"],
            1,
            "column 'vpa' is not in s.csv. Did you mean 'vpa_ac'?",
        ),
        (["--signal", "vpa_ac"], 2, "--rate is required"),
        (["--signal", "vpa_ac", "--rate", "10"], 1, "band=(0.5, 8.0) must satisfy"),
        (["--signal", "vpa_ac", "--rate", "1000"], 1, "at least 2 s are needed"),
    ],
)
def test_vpa_bad_input_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: int, message: str
) -> None:
    path = tmp_path / "s.csv"
    pd.DataFrame({"vpa_ac": np.zeros(100)}).to_csv(path, index=False)
    assert main(["physio", "vpa", str(path), *extra]) == code
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_synchrony_shorter_than_a_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.csv"
    pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0)}).to_csv(path, index=False)
    argv = [
        "physio",
        "synchrony",
        str(path),
        "--a",
        "a",
        "--b",
        "b",
        "--rate",
        "10",
        "--window",
        "30",
        "--step",
        "5",
        "--max-lag",
        "5",
        "--lag-step",
        "0.1",
    ]
    assert main(argv) == 1
    assert "shorter than one window" in capsys.readouterr().err


def _sync_args(path: Path) -> list[str]:
    return [
        str(path),
        "--a",
        "woman",
        "--b",
        "man",
        "--rate",
        "10",
        "--window",
        "20",
        "--step",
        "10",
        "--max-lag",
        "3",
        "--lag-step",
        "0.5",
    ]


def test_surrogates_json_equals_the_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(0)
    a = np.convolve(rng.standard_normal(1300), np.ones(5), "valid")[:1200]
    b = np.roll(a, 10) + rng.standard_normal(1200)
    path = tmp_path / "c.csv"
    pd.DataFrame({"woman": a, "man": b}).to_csv(path, index=False)
    argv = ["physio", "surrogates", *_sync_args(path), "--method", "iaaft", "--n", "19"]
    assert main([*argv, "--seed", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    frame = pd.read_csv(path)
    want = surrogate_test(
        frame["woman"].to_numpy(),
        frame["man"].to_numpy(),
        10,
        window=20,
        step=10,
        max_lag=3,
        lag_step=0.5,
        method="iaaft",
        n=19,
        rng=1,
    )
    assert out["model"] == "physio_surrogates"
    assert out["method"] == "iaaft"
    assert out["n_surrogates"] == 19
    assert out["estimates"][0]["estimate"] == pytest.approx(want.observed, abs=1e-12)
    assert out["estimates"][0]["p"] == pytest.approx(want.p)
    assert out["surrogate_mean"] == pytest.approx(float(np.mean(want.surrogates)), abs=1e-12)
    assert want.p <= 0.1  # a leads b by 1 s: the real pair beats its surrogates
    assert main([*argv, "--seed", "1"]) == 0
    assert "iaaft surrogates" in capsys.readouterr().out
    assert main([*argv, "--method", "shuffle"]) == 1
    err = capsys.readouterr().err
    assert "method='shuffle' is not allowed" in err and "Traceback" not in err


def test_concordance_json_equals_the_function(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = simulate_concordance(n_dyads=6, n_epochs=60, r=0.5, lag=1, rng=3)
    path = tmp_path / "epochs.csv"
    data.to_csv(path, index=False)
    argv = [
        "physio",
        "concordance",
        str(path),
        "--subjective",
        "subjective",
        "--genital",
        "genital",
        "--person",
        "person",
        "--time",
        "epoch",
        "--dyad",
        "dyad",
        "--lag",
        "0",
        "--lag",
        "1",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    want = concordance(
        read_table(path),
        subjective="subjective",
        genital="genital",
        person="person",
        time="epoch",
        dyad="dyad",
        lags=[0, 1],
    )
    got = pd.DataFrame(out["estimates"]).set_index("effect")["estimate"]
    expect = want.estimates.set_index("effect")["estimate"]
    assert list(got.index) == list(expect.index) and len(got) > 0
    np.testing.assert_allclose(got.to_numpy(float), expect.to_numpy(float), rtol=1e-12)
    lags = want.lags.set_index("lag")["r"]
    assert lags[1] > lags[0]  # the simulated subjective trace lags the genital one by 1
    assert main([*argv[:7], *argv[9:]]) == 2
    assert "--person is required" in capsys.readouterr().err
