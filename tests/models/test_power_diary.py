"""dl.power.diary: size at effect 0, Dask equals local, bad input, plot, CLI JSON."""

from __future__ import annotations

import json
import math

import matplotlib
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import OptionError

matplotlib.use("Agg")


def test_power_at_zero_effect_is_alpha():
    res = dl.power.diary(
        actor=0.0, partner=0.0, couples=[30], days=[10], replications=2000, seed=3, progress=False
    )
    row = res.grid[0]
    assert row["replications"] == 2000
    for e in ("actor", "partner"):
        # both roles' tests pooled: 4000 tests, MC se of alpha about 0.0035
        assert abs(row["power"][e] - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 4000)


def test_indistinguishable_at_zero_effect_is_alpha():
    res = dl.power.diary(
        actor=0.0,
        partner=0.0,
        couples=[30],
        days=[10],
        replications=2000,
        seed=4,
        distinguishable=False,
        progress=False,
    )
    for e in ("actor", "partner"):
        assert abs(res.grid[0]["power"][e] - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 2000)


def test_grid_shape_and_monotone_power():
    res = dl.power.diary(
        actor=0.08,
        partner=0.04,
        couples=[20, 60],
        days=[7, 21],
        replications=200,
        seed=1,
        missing=0.1,
        dropout=0.1,
        ar1=0.2,
        progress=False,
    )
    cells = [(r["couples"], r["days"]) for r in res.grid]
    assert cells == [(20, 7), (20, 21), (60, 7), (60, 21)]
    power = {(r["couples"], r["days"]): r["power"]["actor"] for r in res.grid}
    assert power[(60, 21)] > power[(20, 7)] + 0.2
    out = json.loads(res.to_json())
    assert out["model"] == "power_diary"
    assert set(out["grid"][0]["power"]) == {"actor", "partner"}
    assert set(out["grid"][0]["mc_se"]) == {"actor", "partner"}


def test_same_seed_same_numbers_and_plot():
    kw = {"actor": 0.1, "partner": 0.05, "couples": [20], "days": [7], "replications": 100}
    a = dl.power.diary(**kw, seed=5, progress=False)
    b = dl.power.diary(**kw, seed=5, progress=False)
    assert a.grid == b.grid
    fig = a.plot()
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) >= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"actor": 0.9, "partner": 0.5}, "residual variance below zero"),
        ({"couples": []}, "couples is empty"),
        ({"days": []}, "days is empty"),
        ({"replications": 50}, "at least 100"),
        ({"r_e": 1.2}, "r_e=1.2 is out of range"),
        ({"sd_intercept": 0.5}, "give both sd_intercept and sd_residual"),
        ({"client": object()}, "no map()/gather()"),
    ],
)
def test_bad_input(kwargs, message):
    args = {"actor": 0.1, "partner": 0.05, "couples": [20], "days": [7], "replications": 100}
    args.update(kwargs)
    with pytest.raises(OptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dl.power.diary(**args)


def test_cli_json(capsys):
    argv = ["power", "diary", "--actor", "0.1", "--partner", "0.05", "--couples", "20"]
    argv += ["--couples", "30", "--days", "7", "--replications", "100", "--seed", "2", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    expected = dl.power.diary(
        actor=0.1, partner=0.05, couples=[20, 30], days=[7], replications=100, seed=2
    ).to_dict()
    assert out == json.loads(json.dumps(expected))
    assert [(r["couples"], r["days"]) for r in out["grid"]] == [(20, 7), (30, 7)]


def test_cli_bad_input_one_line(capsys):
    argv = ["power", "diary", "--actor", "0.1", "--partner", "0.05", "--couples", "20"]
    assert main([*argv, "--days", "7", "--replications", "10"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at least 100" in err[0]


def test_cli_bad_scheduler_is_one_line(capsys):
    argv = ["power", "diary", "--actor", "0.1", "--partner", "0.05", "--couples", "20"]
    assert main([*argv, "--days", "7", "--scheduler", "nonsense://x"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Dask scheduler" in err[0] and "--scheduler" in err[0]
