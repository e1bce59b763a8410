"""The batched REML fit of simulated diaries equals dl.diary on the same data."""

from __future__ import annotations

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.models._diary_fastfit import (
    engine_theta,
    fit_batch,
    reml_criterion,
    structures,
    sufficient_stats,
    true_theta,
)
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
    """The batched fit's parameters are the engine's: those of dl.diary's fit."""
    p = DiaryParams.standardised((0.3, 0.2), (0.15, 0.1))
    sim = simulate(p, couples=40, days=8, reps=1, rng=np.random.default_rng(9))
    fit = fit_batch(sufficient_stats(sim), start=true_theta(p))
    res = dl.diary(
        to_frame(sim), y="y", x="x", dyad="dyad", person="person", time="time", role="role"
    )
    vc = res.variance_components.set_index(["name", "role"])["estimate"]
    rho = res.variance_components.query("name == 'residual_correlation'")["estimate"].iloc[0]
    cor = res.variance_components.query("name == 'cor_intercepts'")["estimate"].iloc[0]
    sd_e = [vc[("sd_residual", "a")], vc[("sd_residual", "b")]]
    sd_u = [vc[("sd_intercept", "a")], vc[("sd_intercept", "b")]]
    expected = engine_theta(sd_e, rho, sd_u, cor, True)
    assert fit.theta[0] == pytest.approx(expected, abs=1e-5)
    assert -0.5 * fit.criterion[0] == pytest.approx(res.fit["loglik"], abs=1e-8)


@pytest.mark.parametrize("distinguishable", [True, False])
def test_criterion_is_the_engines_profiled_reml(distinguishable):
    """From sufficient statistics, the engine's profiled REML log-likelihood of the same
    data at any parameters (missing days: couples with different numbers of days)."""
    from dyadlab.models import _diary_refit as dr
    from dyadlab.models._engine import profiled_loglik
    from dyadlab.models._engine_residual import RowLayout

    p = DiaryParams.standardised(0.3, 0.15, distinguishable=distinguishable, missing=0.2)
    sim = simulate(p, couples=25, days=6, reps=1, rng=np.random.default_rng(3))
    role = "role" if distinguishable else None
    res = dl.diary(
        to_frame(sim), y="y", x="x", dyad="dyad", person="person", time="time", role=role
    )
    model = dr._model(res)
    a = model.arrays
    cov, residual = structures(distinguishable)
    (n, n_fixed), q = model.X.shape, model.Z.shape[1]
    layout = RowLayout(dyad=a["_dyad"], member=a["_member"], time=a["_time"])
    prepared = residual.prepare(np.column_stack([model.Z, model.X, a["y"]]), q, layout)
    stats = sufficient_stats(sim, distinguishable)
    assert len(stats.days) > 1
    rng = np.random.default_rng(4)
    for theta in true_theta(p) + rng.normal(scale=0.5, size=(3, len(true_theta(p)))):
        ll, _ = profiled_loglik(theta, prepared, cov, q, n_fixed, n, "REML")
        assert -0.5 * reml_criterion(theta[None, None], stats)[0, 0] == pytest.approx(ll, abs=1e-8)
