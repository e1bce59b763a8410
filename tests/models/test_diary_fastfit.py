"""The batched REML fit of simulated diaries equals dl.diary on the same data."""

from __future__ import annotations

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.models._diary_fastfit import fit_batch, sufficient_stats, true_theta
from dyadlab.models._diary_sim import DiaryParams, simulate, to_frame
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

SETTINGS = [
    {},
    {"missing": 0.1, "dropout": 0.2, "ar1": 0.3, "x_icc": 0.3, "r_x": 0.2},
]


@DATA_WARNINGS_EXPECTED
@pytest.mark.parametrize("distinguishable", [True, False])
@pytest.mark.parametrize("extra", SETTINGS)
def test_batched_fit_equals_diary(distinguishable, extra):
    actor = (0.3, 0.2) if distinguishable else 0.3
    p = DiaryParams.standardised(actor, 0.15, distinguishable=distinguishable, **extra)
    sim = simulate(p, couples=30, days=10, reps=3, rng=np.random.default_rng(5))
    fit = fit_batch(sufficient_stats(sim, distinguishable), start=true_theta(p))
    assert fit.converged.all()
    n_effects = 6 if distinguishable else 3
    assert fit.beta.shape == (3, n_effects)
    for r in range(3):
        res = dl.diary(  # missing days and dropout: rows left out, with a warning
            to_frame(sim, r),
            y="y",
            x="x",
            dyad="dyad",
            person="person",
            time="time",
            role="role" if distinguishable else None,
        )
        est = res.estimates
        assert len(est) == n_effects
        np.testing.assert_allclose(fit.beta[r], est["estimate"], atol=1e-6)
        np.testing.assert_allclose(fit.se[r], est["se"], atol=1e-6)
        np.testing.assert_array_equal(fit.df[r], est["df"])


def test_variance_parameters_equal_diary():
    p = DiaryParams.standardised((0.3, 0.2), (0.15, 0.1))
    sim = simulate(p, couples=40, days=8, reps=1, rng=np.random.default_rng(9))
    fit = fit_batch(sufficient_stats(sim), start=true_theta(p))
    res = dl.diary(
        to_frame(sim), y="y", x="x", dyad="dyad", person="person", time="time", role="role"
    )
    vc = res.variance_components.set_index(["name", "role"])["estimate"]
    sd = np.exp(fit.theta[0])
    assert sd[0] == pytest.approx(vc[("sd_residual", "a")], abs=1e-5)
    assert sd[1] == pytest.approx(vc[("sd_residual", "b")], abs=1e-5)
    assert sd[3] == pytest.approx(vc[("sd_intercept", "a")], abs=1e-5)
    assert np.tanh(fit.theta[0, 2]) == pytest.approx(
        res.variance_components.query("name == 'residual_correlation'")["estimate"].iloc[0],
        abs=1e-5,
    )
