"""Tests of dyadlab.nonindependence: R reference cases, bad input, missing values."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dyadlab as dl
from dyadlab.data.datasets import load_acitelli
from dyadlab.exceptions import DyadicDataError, DyadlabWarning, OptionError
from dyadlab.models._nonindependence_math import distinguishability_test
from dyadlab.models._result import ESTIMATE_COLUMNS
from tests.reference.fixtures import Case, assert_close_est, assert_close_se, cases

CASES = cases("nonindependence")


def _fit(case: Case) -> dl.ModelResult:
    with warnings.catch_warnings(record=True) as caught:  # dyads left out, as in R
        warnings.simplefilter("always")
        res = dl.nonindependence(case.data, **case.args)
    assert [str(w.message) for w in caught] == res.warnings  # each message is also warned
    return res


def _expected(case: Case) -> pd.DataFrame:
    return pd.DataFrame(case.expected["estimates"], columns=ESTIMATE_COLUMNS)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_estimates_match_r(case: Case) -> None:
    got = _fit(case).estimates
    exp = _expected(case)
    assert list(got["effect"]) == list(exp["effect"])
    assert list(got["predictor"]) == list(exp["predictor"])
    assert got["role"].isna().all()
    for column in ["estimate", "statistic", "p", "ci_low", "ci_high"]:
        assert_close_est(got[column], exp[column], case, what=column)
    has_se = exp["se"].notna()
    assert got["se"].notna().tolist() == has_se.tolist()
    assert_close_se(got.loc[has_se, "se"], exp.loc[has_se, "se"], case)
    assert got["df"].isna().tolist() == exp["df"].isna().tolist()
    if exp["df"].notna().any():  # indistinguishable dyads: no F test, so no df
        assert_close_est(got["df"].dropna(), exp["df"].dropna(), case, what="df")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_dyad_counts_match_r(case: Case) -> None:
    res = _fit(case)
    assert res.extra["n_dyads_used"] == case.expected["n_dyads_used"]
    n_total = res.n_dyads
    for name, n in case.expected["n_dyads_used"].items():
        assert res.extra["n_excluded_dyads"][name] == n_total - n
        assert (n < n_total) == any(w.startswith(f"{name}:") for w in res.warnings)


@pytest.mark.parametrize("case", [c for c in CASES if "role" in c.args], ids=str)
def test_distinguishability_matches_lavaan(case: Case) -> None:
    res = _fit(case)
    (exp,) = case.expected["tests"]
    (got,) = res.tests
    assert got["name"] == "distinguishability"
    assert got["df"] == exp["df"]
    assert got["n_dyads"] == exp["n_dyads"]
    assert_close_est(got["statistic"], exp["statistic"], case, what="chi-square")
    assert_close_est(got["p"], exp["p"], case, what="p")
    assert_close_est(got["loglik_saturated"], exp["loglik_saturated"], case, what="loglik")
    assert_close_est(
        got["loglik_indistinguishable"], exp["loglik_indistinguishable"], case, what="loglik"
    )
    assert res.roles == case.expected["roles"]
    assert res.distinguishable


@pytest.mark.parametrize("case", [c for c in CASES if "role" not in c.args], ids=str)
def test_icc_equals_gls_reml_and_pairwise_equals_gls_ml(case: Case) -> None:
    res = _fit(case)
    est = res.estimates.set_index(["effect", "predictor"])["estimate"]
    for name, rho in case.expected["gls_rho"].items():
        assert_close_est(est[("icc", name)], rho["rho_reml"], case, what="icc vs gls REML")
        assert_close_est(est[("pairwise_r", name)], rho["rho_ml"], case, what="r_p vs gls ML")
        assert res.extra["f_df"][name] == case.expected["f_df"][name]
    assert res.tests == []
    assert not res.distinguishable


@pytest.fixture
def acitelli() -> pd.DataFrame:
    return load_acitelli()


def _toy(n: int = 12, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=n)
    x = np.column_stack([g + rng.normal(size=n), g + rng.normal(size=n)])
    return pd.DataFrame(
        {
            "couple": np.repeat(np.arange(1, n + 1), 2),
            "pid": np.arange(2 * n),
            "role": ["w", "m"] * n,
            "x": x.ravel(),
            "z": rng.normal(size=2 * n),
        }
    )


def test_input_frame_is_left_unchanged() -> None:
    df = _toy()
    before = df.copy()
    dl.nonindependence(df, variables="x", dyad="couple", role="role", covariates="z")
    pd.testing.assert_frame_equal(df, before)


def test_row_order_does_not_matter() -> None:
    df = _toy()
    shuffled = df.sample(frac=1.0, random_state=3)
    for role in ("role", None):
        a = dl.nonindependence(df, variables="x", dyad="couple", role=role).estimates
        b = dl.nonindependence(shuffled, variables="x", dyad="couple", role=role).estimates
        pd.testing.assert_frame_equal(a, b)


def test_swapping_role_labels_keeps_r_and_test() -> None:
    df = _toy()
    swapped = df.assign(role=df["role"].map({"w": "m", "m": "w"}))
    a = dl.nonindependence(df, variables="x", dyad="couple", role="role")
    b = dl.nonindependence(swapped, variables="x", dyad="couple", role="role")
    assert a.estimates["estimate"].iloc[0] == pytest.approx(b.estimates["estimate"].iloc[0])
    assert a.tests[0]["statistic"] == pytest.approx(b.tests[0]["statistic"])


def test_exchangeable_sample_gives_zero_chi_square() -> None:
    rng = np.random.default_rng(7)
    w = rng.normal(size=(20, 4))
    both = np.vstack([w, w[:, [2, 3, 0, 1]]])  # every dyad also with partners swapped
    t = distinguishability_test(both)
    assert t.statistic == pytest.approx(0.0, abs=1e-9)
    assert t.df == 6
    assert t.p == pytest.approx(1.0)


def test_different_roles_are_detected() -> None:
    rng = np.random.default_rng(11)
    w = rng.normal(size=(200, 2)) * [1.0, 3.0] + [0.0, 2.0]
    t = distinguishability_test(w)
    assert t.df == 2
    assert t.p < 1e-6


def test_to_dict_is_the_json_contract(acitelli: pd.DataFrame) -> None:
    res = dl.nonindependence(
        acitelli, variables=["satisfaction", "tension"], dyad="cuplid", role="gender"
    )
    out = json.loads(json.dumps(res.to_dict()))
    assert out["model"] == "nonindependence"
    assert out["roles"] == ["-1", "1"]
    assert [e["effect"] for e in out["estimates"]] == ["pearson_r", "pearson_r"]
    assert set(out["estimates"][0]) == set(ESTIMATE_COLUMNS)
    assert out["tests"][0]["name"] == "distinguishability"
    assert {"statistic", "df", "p"} <= set(out["tests"][0])
    assert out["n_excluded_dyads"] == {"satisfaction": 0, "tension": 0}
    assert "distinguishability" in res.summary()


def test_single_member_dyads_are_left_out_and_reported() -> None:
    df = _toy()
    df = df[~((df["couple"] == 3) & (df["role"] == "m"))]
    with pytest.warns(DyadlabWarning, match="only one member"):
        res = dl.nonindependence(df, variables="x", dyad="couple", role="role")
    assert res.n_dyads == 11
    assert res.extra["n_incomplete_dyads"] == 1
    assert any("only one member" in w and "3" in w for w in res.warnings)


def test_missing_values_listwise_for_distinguishability_test() -> None:
    df = _toy()
    df["y"] = df["x"] * 0.5 + np.arange(len(df)) % 5
    df.loc[0, "x"] = np.nan
    df.loc[5, "y"] = np.nan
    with pytest.warns(DyadlabWarning, match="left out"):
        res = dl.nonindependence(df, variables=["x", "y"], dyad="couple", role="role")
    assert res.extra["n_excluded_dyads"] == {"x": 1, "y": 1}
    assert res.tests[0]["n_dyads"] == 10
    assert res.tests[0]["n_excluded_dyads"] == 2
    assert any(w.startswith("distinguishability: 2 of 12") for w in res.warnings)


def test_mixed_study_names_the_dyads_and_suggests_leaving_role_out() -> None:
    df = _toy()
    df.loc[df["couple"].isin([4, 9]), "role"] = "w"
    with pytest.raises(DyadicDataError, match=r"2 dyads do not \(first: 4, 9\).*Leave role out"):
        dl.nonindependence(df, variables="x", dyad="couple", role="role")
    res = dl.nonindependence(df, variables="x", dyad="couple")  # works without the role
    assert list(res.estimates["effect"]) == ["icc", "pairwise_r"]


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda d: d.assign(x="a"), "must be numeric"),
        (lambda d: d.assign(x=1.0), "is constant"),
        (lambda d: d.assign(x=np.where(d["role"] == "w", 2.0, d["x"])), "constant for role 'w'"),
        (lambda d: d.assign(x=np.where(d["couple"] > 2, np.nan, d["x"])), "2 complete dyads"),
        (lambda d: d.assign(couple=np.where(d["couple"] == 2, 1, d["couple"])), "more"),
        (lambda d: d.drop(columns="x"), "not in the data"),
    ],
)
def test_bad_data_raises_readable_error(change, pattern: str) -> None:  # type: ignore[no-untyped-def]
    df = change(_toy())
    with pytest.raises(DyadicDataError, match=pattern) as info:
        dl.nonindependence(df, variables="x", dyad="couple", role="role")
    assert str(info.value).startswith("nonindependence(): ")


def test_too_few_dyads_with_covariates() -> None:
    df = _toy(n=4)
    with pytest.raises(DyadicDataError, match="at least 5 are needed with 1 covariates"):
        dl.nonindependence(df, variables="x", dyad="couple", role="role", covariates="z")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"variables": []}, "variables is empty"),
        ({"variables": "x", "level": 1.5}, "level=1.5 is out of range"),
        ({"variables": ["x", "x"]}, "named twice"),
        ({"variables": "x", "covariates": "x"}, "named twice"),
        ({"variables": "couple"}, "is the dyad column"),
    ],
)
def test_bad_options_raise_option_error(kwargs: dict, pattern: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(OptionError, match=pattern):
        dl.nonindependence(_toy(), dyad="couple", **kwargs)


def test_level_changes_only_the_interval() -> None:
    df = _toy(n=30)
    a = dl.nonindependence(df, variables="x", dyad="couple", level=0.95).estimates
    b = dl.nonindependence(df, variables="x", dyad="couple", level=0.80).estimates
    pd.testing.assert_series_equal(a["estimate"], b["estimate"])
    assert (b["ci_high"] - b["ci_low"] < a["ci_high"] - a["ci_low"]).all()


def test_tutorial_examples_run() -> None:
    """The examples of docs/tutorials/nonindependence.md give the outputs shown there."""
    import doctest

    from tests.reference.fixtures import REPO

    failed, attempted = doctest.testfile(
        str(REPO / "docs" / "tutorials" / "nonindependence.md"),
        module_relative=False,
        optionflags=doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert attempted > 10
    assert failed == 0


@pytest.mark.parametrize("role", ["role", None])
def test_dyad_level_variable_is_refused(role: str | None) -> None:
    df = _toy()
    df["x"] = df["couple"] * 1.5 + 1
    with pytest.raises(DyadicDataError, match="same value for both partners"):
        dl.nonindependence(df, variables="x", dyad="couple", role=role)


@pytest.mark.parametrize("role", ["role", None])
def test_covariate_explaining_everything_is_refused(role: str | None) -> None:
    df = _toy()
    df["y"] = 2 * df["z"] + 1
    with pytest.raises(DyadicDataError, match="explain variable 'y' completely"):
        dl.nonindependence(df, variables="y", dyad="couple", role=role, covariates="z")


_pairs = st.integers(min_value=4, max_value=30).flatmap(
    lambda n: arrays(
        np.float64,
        (n, 2),
        elements=st.floats(-100, 100, allow_nan=False, allow_subnormal=False),
    )
)


@settings(max_examples=60, deadline=None)
@given(x=_pairs)
def test_pairwise_r_is_pearson_on_double_entry_data(x: np.ndarray) -> None:
    from dyadlab.models._nonindependence_math import icc_anova, pairwise_r

    assume(np.ptp(x) > 1e-3 and np.ptp(x[:, 0] - x[:, 1]) > 1e-3)
    both = np.vstack([x, x[:, ::-1]])
    expected = np.corrcoef(both[:, 0], both[:, 1])[0, 1]
    assert pairwise_r(x, None).estimate == pytest.approx(expected, abs=1e-9)
    swapped = x.copy()
    swapped[::2] = swapped[::2, ::-1]  # which member is "first" must not matter
    assert icc_anova(swapped, None).estimate == pytest.approx(icc_anova(x, None).estimate)
    assert -1 <= icc_anova(x, None).estimate <= 1


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(8, 40))
def test_chi_square_is_twice_the_loglik_difference(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n, 4)) @ rng.normal(size=(4, 4))
    t = distinguishability_test(w)
    assert t.statistic >= 0
    assert t.loglik_saturated >= t.loglik_indistinguishable - 1e-9
    assert t.statistic == pytest.approx(2 * (t.loglik_saturated - t.loglik_indistinguishable))
    # relabelling the roles (swapping the column blocks) leaves the test unchanged
    assert distinguishability_test(w[:, [2, 3, 0, 1]]).statistic == pytest.approx(t.statistic)


@pytest.mark.parametrize("case", [c for c in CASES if "anova_f" in c.expected], ids=str)
def test_icc_f_test_agrees_with_one_way_anova(case: Case) -> None:
    """F of ``anova(lm(y ~ factor(dyad)))``; the ICC's p is two-tailed (twice one tail)."""
    est = _fit(case).estimates.set_index(["effect", "predictor"])
    for name, aov in case.expected["anova_f"].items():
        row = est.loc[("icc", name)]
        if row["estimate"] >= 0:
            assert_close_est(row["statistic"], aov["f"], case, what="F")
            assert_close_est(row["p"], min(1.0, 2 * aov["p"]), case, what="p")
        else:
            assert_close_est(row["statistic"], 1 / aov["f"], case, what="1/F")
            assert_close_est(row["p"], min(1.0, 2 * (1 - aov["p"])), case, what="p")
