"""dl.power.diary(family="binomial"): refits equal dl.diary's GLMM, size at effect 0, CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadlabWarning, OptionError
from dyadlab.models._diary_sim import DiaryParams, simulate, to_frame
from dyadlab.models._power_diary import _glmm_tests


@pytest.mark.parametrize("distinguishable", [True, False])
def test_each_refit_is_dl_diary_binomial(distinguishable: bool) -> None:
    params = DiaryParams(
        actor=(0.6, 0.4),
        partner=(0.3, 0.0),
        intercept=(-0.5, 0.2),
        sd_intercept=(1.0, 0.8),
        missing=0.1,
        family="binomial",
        distinguishable=distinguishable,
    )
    sim = simulate(params, couples=25, days=10, reps=3, rng=np.random.default_rng(5))
    ok, sig = _glmm_tests(sim, distinguishable, 0.05)
    assert ok.all() and sig.shape == (3, 6 if distinguishable else 3)
    for rep in range(3):
        frame = to_frame(sim, rep)
        assert set(frame["y"].unique()) == {0.0, 1.0}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DyadlabWarning)
            fit = dl.diary(
                frame,
                y="y",
                x="x",
                dyad="dyad",
                person="person",
                time="time",
                role="role" if distinguishable else None,
                center="none",
                family="binomial",
            )
        z = (fit.estimates["estimate"] / fit.estimates["se"]).to_numpy()
        # dl.diary orders rows intercepts, actor, partner (per role): as the refit's design
        assert len(z) == sig.shape[1]
        np.testing.assert_array_equal(np.abs(z) > 1.959963984540054, sig[rep])


def test_power_at_zero_effect_is_alpha_and_grows_with_the_effect() -> None:
    null = dl.power.diary(
        actor=0.0,
        partner=0.0,
        couples=[20],
        days=[7],
        replications=200,
        seed=3,
        distinguishable=False,
        family="binomial",
        progress=False,
    )
    row = null.grid[0]
    assert row["replications"] == 200
    for e in ("actor", "partner"):
        assert abs(row["power"][e] - 0.05) < 4 * math.sqrt(0.05 * 0.95 / 200)
    strong = dl.power.diary(
        actor=0.8,
        partner=0.4,
        couples=[20],
        days=[7],
        replications=100,
        seed=3,
        distinguishable=False,
        family="binomial",
        progress=False,
    )
    assert strong.grid[0]["power"]["actor"] > 0.9
    assert strong.grid[0]["power"]["partner"] > row["power"]["partner"] + 0.2
    out = strong.to_dict()
    assert out["family"] == "binomial" and "glmer" in out["method"]
    assert out["params"]["scale"] == "log-odds" and out["params"]["sd_residual"] is None
    # the latent-scale ICC 0.3 sets the random-intercept SD
    sd = out["params"]["sd_intercept"][0]
    assert sd**2 / (sd**2 + math.pi**2 / 3) == pytest.approx(0.3)
    assert "yes/no outcome" in strong.summary()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sd_residual": 1.0, "sd_intercept": 1.0}, "has no daily residual"),
        ({"ar1": 0.3}, "has no daily residual"),
        ({"family": "poisson"}, "family='poisson'"),
        ({"sd_intercept": -1.0}, "sd_intercept must be >= 0"),
    ],
)
def test_bad_input(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "actor": 0.5,
        "partner": 0.2,
        "couples": [20],
        "days": [7],
        "replications": 100,
        "family": "binomial",
    }
    args.update(kwargs)
    with pytest.raises(OptionError, match=message.replace("(", r"\(")):
        dl.power.diary(**args)  # type: ignore[arg-type]


def test_cli_family_binomial(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["power", "diary", "--actor", "0.5", "--partner", "0.2", "--couples", "10"]
    argv += ["--days", "5", "--replications", "100", "--seed", "2", "--indistinguishable"]
    assert main([*argv, "--family", "binomial", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    want = dl.power.diary(
        actor=0.5,
        partner=0.2,
        couples=[10],
        days=[5],
        replications=100,
        seed=2,
        distinguishable=False,
        family="binomial",
        progress=False,
    ).to_dict()
    assert out == json.loads(json.dumps(want))
    assert main([*argv, "--family", "poisson"]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "family" in err[0]
