"""``dyadlab power apim``: the options and JSON of design.md, errors as one line."""

from __future__ import annotations

import json

import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadlabWarning

ARGS = ["power", "apim", "--actor", "0.3", "--partner", "0.15", "--r-x", "0.3", "--r-e", "0.3"]


def test_json_is_the_result_to_dict(capsys):
    assert main([*ARGS, "--dyads", "100", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=100).to_dict()
    assert out == json.loads(json.dumps(expected))
    assert out["model"] == "power_apim"
    assert set(out["power"]) == {"actor", "partner"}


def test_montecarlo_alpha_and_grid(capsys):
    argv = [
        *ARGS,
        "--dyads",
        "40",
        "--dyads",
        "80",
        "--alpha",
        "0.1",
        "--method",
        "montecarlo",
        "--replications",
        "200",
        "--seed",
        "3",
        "--json",
    ]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "montecarlo" and out["alpha"] == 0.1 and out["replications"] == 200
    assert out["dyads"] == [40, 80] and len(out["curve"]) == 2
    with pytest.warns(DyadlabWarning, match="Only 200 replications"):
        again = dl.power.apim(
            actor=0.3,
            partner=0.15,
            r_x=0.3,
            r_e=0.3,
            dyads=[40, 80],
            alpha=0.1,
            method="montecarlo",
            replications=200,
            rng=3,
        )
    assert out["power"] == again.power


def test_table_without_json(capsys):
    assert main([*ARGS, "--dyads", "100", "--indistinguishable"]) == 0
    out = capsys.readouterr().out
    assert "indistinguishable" in out and "power_apim" in out


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (
            ["power", "apim", "--partner", "0.1", "--r-x", "0.3", "--r-e", "0.3", "--dyads", "50"],
            "--actor is required",
        ),
        ([*ARGS], "--dyads is required"),
        ([*ARGS, "--dyads", "2"], "at least 4"),
        ([*ARGS, "--dyads", "50", "--method", "exact"], "--method"),
        ([*ARGS[:-1], "1.5", "--dyads", "50"], "r_e"),
    ],
)
def test_usage_errors_exit_2_with_one_line(capsys, argv, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("dyadlab: error: ") and match in err
    assert len(err.strip().splitlines()) == 1
