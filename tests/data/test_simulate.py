"""Simulators: shapes, seeds, recovery of the known parameters, and argument errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.data.simulate import simulate_apim, simulate_diary, simulate_truth_bias
from dyadlab.exceptions import OptionError

TOL = 0.035  # about 4 standard errors for the sample sizes used below


def _ols(y: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    X = np.column_stack([np.ones_like(y), *columns])
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _pairs(df: pd.DataFrame, column: str, n_times: int | None = None) -> np.ndarray:
    """Complete, ordered data -> (n_dyads, [n_times,] 2) array."""
    shape = (-1, 2) if n_times is None else (-1, n_times, 2)
    return df[column].to_numpy().reshape(shape)


# --- simulate_apim ----------------------------------------------------------------------


def test_apim_shape_ids_and_columns() -> None:
    df = simulate_apim(4, rng=1)
    assert df.columns.tolist() == ["dyad", "person", "role", "x", "y"]
    assert df["dyad"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4]
    assert df["person"].tolist() == list(range(1, 9))
    assert df["role"].tolist() == ["wife", "husband"] * 4
    assert df[["x", "y"]].notna().all().all()


def test_apim_indistinguishable_has_no_role_and_several_predictors() -> None:
    df = simulate_apim(5, distinguishable=False, n_predictors=3, rng=2)
    assert df.columns.tolist() == ["dyad", "person", "x1", "x2", "x3", "y"]
    truth = df.attrs["truth"]
    assert truth["roles"] is None
    assert truth["actor"] == {"x1": 0.4, "x2": 0.4, "x3": 0.4}
    assert {row["role"] for row in truth["effects"]} == {None}


@pytest.mark.parametrize("func", [simulate_apim, simulate_diary, simulate_truth_bias])
def test_same_seed_same_data_other_seed_other_data(func) -> None:
    args = (30,) if func is not simulate_diary else (30, 5)
    a = func(*args, rng=11)
    b = func(*args, rng=np.random.default_rng(11))
    c = func(*args, rng=12)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["truth"] == b.attrs["truth"]
    assert not np.allclose(a.iloc[:, -1], c.iloc[:, -1])


def test_apim_recovers_its_parameters() -> None:
    df = simulate_apim(
        20_000,
        actor=(0.5, 0.3),
        partner=(0.1, 0.25),
        intercept=(1.0, -0.5),
        r_x=0.35,
        r_e=0.45,
        sd_e=(1.0, 1.5),
        rng=3,
    )
    x, y = _pairs(df, "x"), _pairs(df, "y")
    assert np.corrcoef(x[:, 0], x[:, 1])[0, 1] == pytest.approx(0.35, abs=TOL)
    wife = _ols(y[:, 0], x[:, 0], x[:, 1])
    husband = _ols(y[:, 1], x[:, 1], x[:, 0])
    np.testing.assert_allclose(wife, [1.0, 0.5, 0.1], atol=TOL)
    np.testing.assert_allclose(husband, [-0.5, 0.3, 0.25], atol=TOL)
    resid = y - (
        np.array([1.0, -0.5]) + np.array([0.5, 0.3]) * x + np.array([0.1, 0.25]) * x[:, ::-1]
    )
    assert np.corrcoef(resid.T)[0, 1] == pytest.approx(0.45, abs=TOL)
    np.testing.assert_allclose(resid.std(axis=0), [1.0, 1.5], rtol=0.03)


def test_apim_per_predictor_effects() -> None:
    actor = [[0.5, -0.2], [0.3, 0.0]]
    df = simulate_apim(20_000, actor=actor, partner=0.0, r_x=0.0, n_predictors=2, rng=4)
    x1, x2, y = _pairs(df, "x1"), _pairs(df, "x2"), _pairs(df, "y")
    wife = _ols(y[:, 0], x1[:, 0], x2[:, 0], x1[:, 1], x2[:, 1])
    np.testing.assert_allclose(wife, [0.0, 0.5, -0.2, 0.0, 0.0], atol=TOL)
    assert df.attrs["truth"]["actor"]["x2"] == {"wife": -0.2, "husband": 0.0}


def test_apim_truth_rows_match_estimate_names() -> None:
    truth = pd.DataFrame(simulate_apim(3, actor=(0.5, 0.3), rng=1).attrs["truth"]["effects"])
    assert truth.columns.tolist() == ["effect", "predictor", "role", "value"]
    actor = truth[truth["effect"] == "actor"].set_index("role")["value"]
    assert actor.to_dict() == {"wife": 0.5, "husband": 0.3}
    assert len(truth) == 6


def test_apim_public_lazy_names() -> None:
    assert dl.simulate_apim is simulate_apim
    assert dl.simulate_diary is simulate_diary
    assert dl.simulate_truth_bias is simulate_truth_bias


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_dyads": 0}, r"simulate_apim\(\): n_dyads=0 is not allowed; it must be a whole"),
        ({"n_dyads": 2.5}, r"n_dyads=2.5 is not allowed"),
        ({"n_dyads": True}, r"n_dyads=True is not allowed"),
        ({"r_e": 1.0}, r"simulate_apim\(\): r_e=1.0 is out of range; it must lie in \(-1.0, 1.0\)"),
        ({"r_x": -1.2}, r"r_x=-1.2 is out of range"),
        ({"r_x": "high"}, r"r_x='high' is not allowed; give a correlation"),
        ({"sd_e": 0}, r"sd_e=0 is not allowed; give a positive number or a pair"),
        ({"actor": (0.1, 0.2, 0.3)}, r"actor=\(0.1, 0.2, 0.3\) is not allowed"),
        ({"intercept": "one"}, r"intercept='one' is not allowed"),
        ({"roles": ("a", "a")}, r"roles=\('a', 'a'\) is not allowed; give two different names"),
        ({"roles": "ab"}, r"roles='ab' is not allowed"),
        ({"n_predictors": 0}, r"n_predictors=0 is not allowed"),
        ({"rng": "seed"}, r"rng='seed' is not allowed; give an int seed"),
        ({"rng": -3}, r"rng=-3 is not allowed; a seed must be 0 or more"),
        (
            {"actor": (0.4, 0.2), "distinguishable": False},
            r"actor differs between the two members .*set distinguishable=True",
        ),
    ],
)
def test_apim_bad_arguments(kwargs, message) -> None:
    kwargs = {"n_dyads": 10, **kwargs}
    with pytest.raises(OptionError, match=message):
        simulate_apim(**kwargs)


# --- simulate_diary -------------------------------------------------------------------------


def test_diary_shape_and_order() -> None:
    df = simulate_diary(3, 4, rng=1)
    assert df.columns.tolist() == ["dyad", "person", "role", "time", "x", "y"]
    assert len(df) == 3 * 4 * 2
    first = df[df["dyad"] == 1]
    assert first["time"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert first["person"].tolist() == [1, 2] * 4
    assert first["role"].tolist() == ["wife", "husband"] * 4
    assert df.groupby(["dyad", "time"]).size().eq(2).all()


def test_diary_indistinguishable() -> None:
    df = simulate_diary(3, 4, distinguishable=False, rng=1)
    assert "role" not in df.columns
    with pytest.raises(OptionError, match="the variance in tau differs"):
        simulate_diary(3, 4, tau=[[1.0, 0.0], [0.0, 2.0]], distinguishable=False)


@pytest.mark.parametrize("share", [0.0, 0.1, 0.37])
def test_diary_missing_share_is_exact_and_unbalanced(share: float) -> None:
    df = simulate_diary(40, 10, missing=share, rng=5)
    n_rows = 40 * 10 * 2
    assert len(df) == n_rows - round(share * n_rows)
    assert df.attrs["truth"]["n_removed"] == round(share * n_rows)
    assert not df.duplicated(["person", "time"]).any()
    alone = df.groupby(["dyad", "time"]).size().eq(1).sum()
    assert (alone > 0) == (share > 0)


def test_diary_recovers_fixed_effects_x_structure_and_tau() -> None:
    n, days = 4_000, 20
    tau = [[0.6, 0.25], [0.25, 0.4]]
    df = simulate_diary(
        n,
        days,
        actor=(0.4, 0.25),
        partner=(0.1, 0.2),
        intercept=(2.0, 1.0),
        tau=tau,
        sigma=(1.0, 0.8),
        rho=0.3,
        x_icc=0.4,
        r_x=0.3,
        rng=6,
    )
    x, y = _pairs(df, "x", days), _pairs(df, "y", days)
    assert np.corrcoef(x[..., 0].ravel(), x[..., 1].ravel())[0, 1] == pytest.approx(0.3, abs=TOL)
    between = x.mean(axis=1).var(axis=0)  # icc * 1 + (1 - icc) / days
    np.testing.assert_allclose(between, 0.4 + 0.6 / days, atol=0.05)  # SE about 0.01
    wife = _ols(y[..., 0].ravel(), x[..., 0].ravel(), x[..., 1].ravel())
    husband = _ols(y[..., 1].ravel(), x[..., 1].ravel(), x[..., 0].ravel())
    np.testing.assert_allclose(wife, [2.0, 0.4, 0.1], atol=TOL)
    np.testing.assert_allclose(husband, [1.0, 0.25, 0.2], atol=TOL)
    fixed = np.array([2.0, 1.0]) + np.array([0.4, 0.25]) * x + np.array([0.1, 0.2]) * x[..., ::-1]
    resid = y - fixed
    person_means = resid.mean(axis=1)  # u + mean of e over days
    sigma = np.array([[1.0, 0.24], [0.24, 0.64]])
    np.testing.assert_allclose(np.cov(person_means.T), np.array(tau) + sigma / days, atol=0.06)
    within = resid - person_means[:, None, :]
    assert np.corrcoef(within[..., 0].ravel(), within[..., 1].ravel())[0, 1] == pytest.approx(
        0.3, abs=TOL
    )


def _residuals(df: pd.DataFrame, days: int) -> np.ndarray:
    """Residuals of a diary simulated with tau = 0, intercept 0 and no random slopes."""
    truth = df.attrs["truth"]
    x, y = _pairs(df, "x", days), _pairs(df, "y", days)
    a = np.array(list(truth["actor"].values()))
    p = np.array(list(truth["partner"].values()))
    return y - a * x - p * x[..., ::-1]


def test_diary_ar1_within_person_and_kronecker_cross_lags() -> None:
    days = 30
    df = simulate_diary(1_500, days, tau=0.0, rho=0.4, ar1=0.5, kronecker=True, rng=7)
    e = _residuals(df, days)
    lag1 = np.corrcoef(e[:, 1:, 0].ravel(), e[:, :-1, 0].ravel())[0, 1]
    assert lag1 == pytest.approx(0.5, abs=TOL)
    assert np.corrcoef(e[..., 0].ravel(), e[..., 1].ravel())[0, 1] == pytest.approx(0.4, abs=TOL)
    cross_lag1 = np.corrcoef(e[:, 1:, 0].ravel(), e[:, :-1, 1].ravel())[0, 1]
    assert cross_lag1 == pytest.approx(0.4 * 0.5, abs=TOL)
    np.testing.assert_allclose(e.std(axis=(0, 1)), [1.0, 1.0], rtol=0.03)  # stationary


def test_diary_ar1_alone_leaves_partners_independent() -> None:
    days = 30
    df = simulate_diary(1_500, days, tau=0.0, rho=0.0, ar1=-0.3, rng=8)
    e = _residuals(df, days)
    assert np.corrcoef(e[:, 1:, 1].ravel(), e[:, :-1, 1].ravel())[0, 1] == pytest.approx(
        -0.3, abs=TOL
    )
    assert np.corrcoef(e[..., 0].ravel(), e[..., 1].ravel())[0, 1] == pytest.approx(0.0, abs=TOL)


def test_diary_random_slopes_vary_between_persons() -> None:
    days = 40
    df = simulate_diary(
        800, days, tau=0.0, sigma=0.3, rho=0.0, x_icc=0.0, random_slopes={"actor": 0.3}, rng=9
    )
    x, y = _pairs(df, "x", days), _pairs(df, "y", days)
    own, other, out = x[..., 0], x[..., 1], y[..., 0]
    X = np.stack([np.ones_like(own), own, other], axis=-1)  # (dyad, day, 3)
    beta = np.linalg.solve(X.transpose(0, 2, 1) @ X, (X.transpose(0, 2, 1) @ out[..., None]))[
        ..., 0
    ]
    # slope SDs: actor sqrt(0.09 + sampling), partner only sampling (~0.05)
    assert beta[:, 1].std() == pytest.approx(np.sqrt(0.09 + 0.09 / days), abs=0.03)
    assert beta[:, 2].std() < 0.1
    assert beta[:, 1].mean() == pytest.approx(0.3, abs=TOL)
    assert df.attrs["truth"]["random_slopes"] == {"actor": 0.3, "partner": 0.0}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_dyads": 0}, r"simulate_diary\(\): n_dyads=0 is not allowed"),
        ({"n_days": 0}, r"n_days=0 is not allowed"),
        (
            {"rho": 1.0},
            r"simulate_diary\(\): rho=1.0 is out of range; it must lie in \(-1.0, 1.0\)",
        ),
        ({"rho": -1.5}, r"rho=-1.5 is out of range"),
        ({"ar1": 1.0}, r"ar1=1.0 is out of range"),
        ({"tau": [[1.0, 2.0], [2.0, 1.0]]}, r"tau=.* is not a positive semi-definite 2 x 2"),
        ({"tau": [[1.0, 0.2], [0.3, 1.0]]}, r"tau=.* is not symmetric"),
        ({"tau": [1.0, 2.0, 3.0]}, r"tau=.* is not a positive semi-definite"),
        ({"sigma": -1}, r"sigma=-1 is not allowed"),
        ({"x_icc": 1.5}, r"x_icc=1.5 is out of range; it must lie in \[0.0, 1.0\]"),
        ({"missing": 1.0}, r"missing=1.0 is out of range"),
        ({"missing": -0.1}, r"missing=-0.1 is out of range"),
        ({"rho": 0.3, "ar1": 0.4}, r"are both set, which needs kronecker=True"),
        ({"random_slopes": {"acter": 0.1}}, r"random_slopes names 'acter'; allowed: 'actor'"),
        ({"random_slopes": (0.1, -0.2)}, r"random_slopes=\(0.1, -0.2\) is not allowed"),
        ({"n_dyads": 1, "n_days": 1, "missing": 0.9}, r"would remove all 2 person-days"),
    ],
)
def test_diary_bad_arguments(kwargs, message) -> None:
    kwargs = {"n_dyads": 5, "n_days": 3, **kwargs}
    with pytest.raises(OptionError, match=message):
        simulate_diary(**kwargs)


# --- simulate_truth_bias ----------------------------------------------------------------


def test_truth_bias_columns() -> None:
    one = simulate_truth_bias(3, rng=1)
    assert one.columns.tolist() == ["dyad", "person", "role", "judgment", "truth"]
    many = simulate_truth_bias(3, 4, distinguishable=False, rng=1)
    assert many.columns.tolist() == ["dyad", "person", "time", "judgment", "truth"]
    assert len(many) == 3 * 4 * 2
    effects = pd.DataFrame(many.attrs["truth"]["effects"])
    assert effects["effect"].tolist() == ["directional_bias", "truth", "assumed_similarity"]


def test_truth_bias_recovers_the_west_kenny_model() -> None:
    df = simulate_truth_bias(
        20_000,
        truth_force=(0.6, 0.4),
        assumed_similarity=(0.2, 0.35),
        directional_bias=(0.3, -0.2),
        truth_mean=4.0,
        truth_sd=(1.0, 1.2),
        r_truth=0.4,
        r_error=0.25,
        rng=10,
    )
    judgment, truth = _pairs(df, "judgment"), _pairs(df, "truth")
    assert truth.mean() == pytest.approx(4.0, abs=TOL)
    assert np.corrcoef(truth.T)[0, 1] == pytest.approx(0.4, abs=TOL)
    centre = truth.mean()
    for j, expected in enumerate([(0.3, 0.6, 0.2), (-0.2, 0.4, 0.35)]):
        coef = _ols(judgment[:, j] - centre, truth[:, 1 - j] - centre, truth[:, j] - centre)
        np.testing.assert_allclose(coef, expected, atol=TOL)
    dev = truth - 4.0
    error = judgment - 4.0 - [0.3, -0.2] - [0.6, 0.4] * dev[:, ::-1] - [0.2, 0.35] * dev
    assert np.corrcoef(error.T)[0, 1] == pytest.approx(0.25, abs=TOL)


def test_truth_bias_occasions_icc_and_random_bias() -> None:
    occasions = 20
    df = simulate_truth_bias(
        3_000,
        occasions,
        truth_icc=0.6,
        random_sd={"directional_bias": 0.5},
        rng=12,
    )
    judgment, truth = _pairs(df, "judgment", occasions), _pairs(df, "truth", occasions)
    between = truth.mean(axis=1).var(axis=0)
    np.testing.assert_allclose(between, 0.6 + 0.4 / occasions, atol=0.07)  # SE about 0.016
    dev = truth  # truth_mean is 0
    error = judgment - 0.3 - 0.5 * dev[..., ::-1] - 0.2 * dev  # = delta + epsilon
    person_bias_var = error.mean(axis=1).var(axis=0)
    np.testing.assert_allclose(person_bias_var, 0.25 + 1.0 / occasions, atol=0.05)
    assert df.attrs["truth"]["random_sd"] == {
        "directional_bias": 0.5,
        "truth_force": 0.0,
        "assumed_similarity": 0.0,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_dyads": 0}, r"simulate_truth_bias\(\): n_dyads=0 is not allowed"),
        ({"n_occasions": 0}, r"n_occasions=0 is not allowed"),
        ({"r_error": -1.0}, r"r_error=-1.0 is out of range"),
        ({"r_truth": 1.0}, r"r_truth=1.0 is out of range"),
        ({"truth_icc": 2.0}, r"truth_icc=2.0 is out of range"),
        ({"random_sd": (0.1,)}, r"random_sd=\(0.1,\) is not allowed"),
        ({"error_sd": (1.0, 0.0)}, r"error_sd=\(1.0, 0.0\) is not allowed"),
        (
            {"truth_force": (0.5, 0.3), "distinguishable": False},
            r"truth_force differs between the two members",
        ),
    ],
)
def test_truth_bias_bad_arguments(kwargs, message) -> None:
    kwargs = {"n_dyads": 5, **kwargs}
    with pytest.raises(OptionError, match=message):
        simulate_truth_bias(**kwargs)


# --- the data layer accepts what the simulators make ----------------------------------


@pytest.mark.parametrize("distinguishable", [True, False])
def test_simulated_diary_is_valid_dyadic_data(distinguishable: bool) -> None:
    from dyadlab.data import DyadicData, to_pairwise

    df = simulate_diary(30, 6, missing=0.2, distinguishable=distinguishable, rng=13)
    role = "role" if distinguishable else None
    dd = DyadicData(df, dyad="dyad", person="person", role=role, time="time")
    assert dd.n_dyads == 30
    assert dd.distinguishable is distinguishable
    pairwise = to_pairwise(df, dyad="dyad", person="person", role=role, time="time")
    complete = simulate_diary(30, 6, distinguishable=distinguishable, rng=13)
    by_key = complete.set_index(["person", "time"])["x"]
    partner = pairwise["person"] + np.where(pairwise["person"] % 2 == 1, 1, -1)
    expected = by_key.reindex(pd.MultiIndex.from_arrays([partner, pairwise["time"]])).to_numpy()
    observed = df.set_index(["person", "time"])["x"]
    seen = pd.MultiIndex.from_arrays([partner, pairwise["time"]]).isin(observed.index)
    np.testing.assert_allclose(pairwise["x_partner"].to_numpy()[seen], expected[seen])
    assert (~seen).any()  # partners' removed days give missing partner values
    assert np.isnan(pairwise["x_partner"].to_numpy()[~seen]).all()


def test_simulated_apim_and_truth_bias_are_valid_dyadic_data() -> None:
    from dyadlab.data import DyadicData

    assert DyadicData(simulate_apim(20, rng=1), dyad="dyad", role="role").n_dyads == 20
    tb = simulate_truth_bias(20, 3, rng=1)
    assert DyadicData(tb, dyad="dyad", person="person", role="role", time="time").n_obs == 120
