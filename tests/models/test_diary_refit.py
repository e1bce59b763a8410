"""DiaryResult.refit and .simulate (issue 21): many refits of one diary model at once.

The batched path (sufficient statistics, all replications together) must give the
engine's fit of each replication; refitting the original outcome must give the original
fit; a parametric bootstrap from a known model must recover it.
"""

from __future__ import annotations

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, DyadlabWarning, OptionError
from dyadlab.models import _diary_refit as dr

KEYS = {"y": "y", "x": "x", "dyad": "dyad", "person": "person", "time": "time"}


def _engine(res: dl.ModelResult, outcomes: np.ndarray) -> tuple[np.ndarray, ...]:
    model = dr._model(res)
    return dr._refit_engine(model, dr._outcomes(model, outcomes))


@pytest.mark.parametrize("role", ["role", None])
def test_refit_of_the_original_outcome_is_the_original_fit(role: str | None) -> None:
    df = dl.simulate_diary(40, 12, rng=5)
    res = dl.diary(df, **KEYS, role=role)
    again = res.refit(df["y"].to_numpy())
    assert again.batched
    est = res.estimates
    assert again.beta[0] == pytest.approx(est["estimate"].to_numpy(), abs=1e-7)
    assert again.se[0] == pytest.approx(est["se"].to_numpy(), rel=1e-6)
    assert again.loglik[0] == pytest.approx(res.fit["loglik"], abs=1e-6)
    assert [lab["effect"] for lab in again.labels] == est["effect"].tolist()


@pytest.mark.parametrize("role", ["role", None])
def test_batched_refits_equal_the_engine_fit_of_each_replication(role: str | None) -> None:
    # whole couple-days missing: couples with different numbers of days
    df = dl.simulate_diary(50, 10, rng=6)
    df = df[~df["time"].isin([3, 7]) | (df["dyad"] % 3 != 0)]
    res = dl.diary(df, **KEYS, role=role)
    y = res.simulate(4, rng=2)
    batched = res.refit(y)
    assert batched.batched
    beta, se, ll, conv = _engine(res, y)
    assert conv.all() and batched.converged.all()
    assert batched.beta == pytest.approx(beta, abs=1e-6)
    assert batched.se == pytest.approx(se, rel=1e-5)
    assert batched.loglik == pytest.approx(ll, abs=1e-6)


def test_models_outside_the_batched_case_are_refitted_by_the_engine() -> None:
    df = dl.simulate_diary(25, 8, rng=7)
    df["c"] = np.random.default_rng(0).normal(size=len(df))
    res = dl.diary(df, **KEYS, role="role", covariates="c")
    again = res.refit(df["y"].to_numpy())
    assert not again.batched
    assert again.beta[0] == pytest.approx(res.estimates["estimate"].to_numpy(), abs=1e-6)
    assert again.loglik[0] == pytest.approx(res.fit["loglik"], abs=1e-6)


def test_a_person_day_without_the_partner_is_refitted_by_the_engine() -> None:
    df = dl.simulate_diary(25, 8, rng=8)
    df.loc[df.index[5], "y"] = np.nan  # the partner's row of that day stays in the fit
    with pytest.warns(DyadlabWarning, match="1 missing outcome"):
        res = dl.diary(df, **KEYS, role="role")
    again = res.refit(df["y"].fillna(0.0).to_numpy())
    assert not again.batched
    assert again.beta[0] == pytest.approx(res.estimates["estimate"].to_numpy(), abs=1e-6)


def test_parametric_bootstrap_recovers_the_fitted_model() -> None:
    df = dl.simulate_diary(60, 14, rng=9)
    res = dl.diary(df, **KEYS, role="role")
    boot = res.refit(res.simulate(400, rng=3))
    assert boot.converged.all()
    est = res.estimates["estimate"].to_numpy()
    se = res.estimates["se"].to_numpy()
    # the bootstrap mean is the fitted value within Monte Carlo error (4 MC SEs), and the
    # spread of the estimates is what the standard errors say (within 15 %)
    mc_se = boot.beta.std(axis=0) / np.sqrt(400)
    assert np.all(np.abs(boot.beta.mean(axis=0) - est) < 4 * mc_se)
    assert boot.beta.std(axis=0) == pytest.approx(se, rel=0.15)
    table = boot.table()
    assert len(table) == 400 * len(est)
    assert list(table.columns) == ["replication", "effect", "predictor", "role", "estimate", "se"]


def test_simulated_outcomes_are_missing_where_a_row_is_not_in_the_fit() -> None:
    df = dl.simulate_diary(20, 6, rng=10)
    df.loc[df.index[3], "y"] = np.nan
    with pytest.warns(DyadlabWarning, match="1 missing outcome"):
        res = dl.diary(df, **KEYS, role="role")
    y = res.simulate(3, rng=1)
    assert y.shape == (3, len(df))
    assert np.isnan(y[:, 3]).all()
    assert np.isfinite(np.delete(y, 3, axis=1)).all()
    again = res.refit(y)  # the row left out may hold anything
    assert again.converged.all()


def test_bad_outcomes_are_refused_with_a_clear_message() -> None:
    df = dl.simulate_diary(15, 5, rng=11)
    res = dl.diary(df, **KEYS, role="role")
    with pytest.raises(OptionError, match="one column per row of the data"):
        res.refit(np.zeros((2, 3)))
    y = df["y"].to_numpy().copy()
    y[0] = np.nan
    with pytest.raises(DyadicDataError, match="missing or infinite at 1 of"):
        res.refit(y)
    with pytest.raises(OptionError, match="reps must be a whole number"):
        res.simulate(0)
    ar1 = dl.diary(df, **KEYS, role="role", residual="ar1")
    with pytest.raises(OptionError, match="residual='cs'"):
        ar1.simulate(2)


@pytest.mark.parametrize("role", ["role", None])
def test_the_default_fit_starts_at_the_engine_optimum(role: str | None) -> None:
    """dl.diary starts the engine at the optimum found from sufficient statistics: it
    is the optimum the engine reaches from its own start values."""
    from dyadlab.models._engine import fit_mixed
    from dyadlab.models._engine_covariance import Exchangeable, Unstructured
    from dyadlab.models._engine_residual import CompoundSymmetry, RowLayout

    df = dl.simulate_diary(80, 10, rng=12)
    res = dl.diary(df, **KEYS, role=role)
    model = dr._model(res)
    a = model.arrays
    start = dr.engine_start(a, model.predictors[0][0], "y", role is not None)
    assert start is not None
    layout = RowLayout(dyad=a["_dyad"], member=a["_member"], time=a["_time"])
    cov = Unstructured(2) if role else Exchangeable(1)
    cold = fit_mixed(
        model.X, a["y"], model.Z, layout, CompoundSymmetry(distinguishable=role is not None), cov
    )
    assert start == pytest.approx(cold.theta, abs=1e-4)
    assert res.fit["loglik"] == pytest.approx(cold.loglik, abs=1e-8)
    assert res.estimates["estimate"].to_numpy() == pytest.approx(cold.beta, abs=1e-8)
    assert res.fit["iterations"] < cold.iterations


def test_no_start_from_sufficient_statistics_without_both_partners() -> None:
    df = dl.simulate_diary(20, 6, rng=13)
    df.loc[df.index[3], "y"] = np.nan
    with pytest.warns(DyadlabWarning, match="1 missing outcome"):
        res = dl.diary(df, **KEYS, role="role")
    model = dr._model(res)
    assert dr.engine_start(model.arrays, model.predictors[0][0], "y", True) is None


@pytest.mark.parametrize("options", [{"residual": "ar1"}, {"estimator": "ML"}])
def test_engine_refits_steered_by_the_fits_curvature_equal_full_fits(
    options: dict[str, str],
) -> None:
    df = dl.simulate_diary(40, 10, rng=14)
    res = dl.diary(df, **KEYS, role="role", **options)
    outcomes = dl.diary(df, **KEYS, role="role").simulate(3, rng=4)
    again = res.refit(outcomes)
    assert not again.batched and again.converged.all()
    for r in range(3):
        full = dl.diary(df.assign(y=outcomes[r]), **KEYS, role="role", **options)
        assert again.beta[r] == pytest.approx(full.estimates["estimate"].to_numpy(), abs=1e-6)
        assert again.se[r] == pytest.approx(full.estimates["se"].to_numpy(), rel=1e-5)
        assert again.loglik[r] == pytest.approx(full.fit["loglik"], abs=1e-6)


def test_pair_statistics_equal_those_of_the_padded_arrays() -> None:
    """The refits' statistics (products over the pairs of rows) equal
    sufficient_stats of the couples padded to a common number of days."""
    from dyadlab.models._diary_fastfit import sufficient_stats
    from dyadlab.models._diary_sim import Simulated

    df = dl.simulate_diary(30, 8, rng=15)
    df = df[~df["time"].isin([2, 5]) | (df["dyad"] % 4 != 0)]  # couples with 6 or 8 days
    res = dl.diary(df, **KEYS, role="role")
    model = dr._model(res)
    pairs = dr._pairs(model.arrays)
    assert pairs is not None
    pair_dyad, day, days = pairs
    y = dr._outcomes(model, res.simulate(3, rng=5)).reshape(3, -1, 2)
    x = model.arrays[model.predictors[0][0]].reshape(-1, 2)
    couples = int(pair_dyad.max()) + 1
    xg = np.zeros((3, couples, days, 2))
    yg = np.zeros((3, couples, days, 2))
    keep = np.zeros((3, couples, days), dtype=bool)
    xg[:, pair_dyad, day], yg[:, pair_dyad, day], keep[:, pair_dyad, day] = x, y, True
    padded = sufficient_stats(Simulated(x=xg, y=yg, keep=keep), True)
    ours = dr._pair_stats(x, y, pair_dyad, True)
    assert sorted(padded.days.tolist()) == [6, 8]
    for name in ("within", "between", "n_couples", "days", "n_obs"):
        assert getattr(ours, name) == pytest.approx(getattr(padded, name), abs=1e-9), name
