"""dyadlab.diary(): behaviour, bad input, warnings, result contract, speed."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, DyadlabWarning, OptionError
from dyadlab.models._result import ESTIMATE_COLUMNS
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED, REPO

pytestmark = DATA_WARNINGS_EXPECTED

UNBAL = REPO / "tests" / "reference" / "data" / "diary_sim_unbalanced.csv"
KEYS = {"y": "y", "x": "x", "dyad": "couple", "person": "pid", "time": "day"}


@pytest.fixture
def unbalanced() -> pd.DataFrame:
    return pd.read_csv(UNBAL)


def test_result_contract_and_input_unchanged(unbalanced):  # type: ignore[no-untyped-def]
    before = unbalanced.copy()
    with pytest.warns(DyadlabWarning) as record:
        res = dl.diary(unbalanced, **KEYS, role="role")
    pd.testing.assert_frame_equal(unbalanced, before)
    assert [str(w.message) for w in record] == res.warnings  # one warning per message
    assert list(res.estimates.columns) == ESTIMATE_COLUMNS
    assert res.model == "diary" and res.estimation == "REML"
    assert res.roles == ["h", "w"]
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert "nlme::lme" in d["reproduces"]
    assert "dyadlab diary" in res.summary()
    # rows left out are counted by reason and reported
    assert res.extra["n_excluded"] == len(unbalanced) - res.n_obs
    assert sum(res.extra["excluded"].values()) == res.extra["n_excluded"]
    assert res.extra["excluded"]["no_partner_row"] > 0
    assert any("left out of the fit" in w for w in res.warnings)


def test_ml_and_reml_differ_and_report_method(unbalanced):  # type: ignore[no-untyped-def]
    reml = dl.diary(unbalanced, **KEYS, role="role")
    ml = dl.diary(unbalanced, **KEYS, role="role", estimator="ML")
    assert ml.estimation == "ML" and ml.call["estimator"] == "ML"
    assert 'method = "ML"' in ml.extra["reproduces"]
    assert ml.fit["loglik"] > reml.fit["loglik"]
    assert ml.variance_components["estimate"].iloc[0] < reml.variance_components["estimate"].iloc[0]


def test_indistinguishable_is_invariant_to_member_labels(unbalanced):  # type: ignore[no-untyped-def]
    data = unbalanced.drop(columns="role")
    a = dl.diary(data, **KEYS)
    swapped = data.assign(pid=data["pid"].str.replace("_1", "_9"))  # person 1 becomes member 2
    b = dl.diary(swapped, **KEYS)
    np.testing.assert_allclose(a.estimates["estimate"], b.estimates["estimate"], rtol=1e-6)
    assert a.fit["loglik"] == pytest.approx(b.fit["loglik"], rel=1e-9)


def test_single_occasion_person_is_kept_with_a_warning(unbalanced):  # type: ignore[no-untyped-def]
    extra = pd.DataFrame(
        {"couple": [999, 999], "pid": ["999_1", "999_2"], "role": ["w", "h"], "day": [1, 1],
         "x": [0.5, -0.2], "y": [3.0, 3.4]}
    )  # fmt: skip
    res = dl.diary(pd.concat([unbalanced, extra]), **KEYS, role="role")
    assert any("single occasion" in w for w in res.warnings)
    assert res.n_dyads == 37


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: pd.concat([d, d.iloc[[0]]]), "more than one row|duplicate|twice"),
        (lambda d: d.assign(role="w"), "must give the two persons of a dyad different roles"),
        (lambda d: d.assign(y=d["y"].astype(str).where(d.index > 3, "high")), "must be numeric"),
        (lambda d: d.rename(columns={"x": "xx"}), "column 'x' is not in the data"),
    ],
)
def test_bad_input_raises_naming_the_problem(unbalanced, change, message):  # type: ignore[no-untyped-def]
    with pytest.raises(DyadicDataError, match=message):
        dl.diary(change(unbalanced), **KEYS, role="role")


def test_dyad_of_three_persons_is_named(unbalanced):  # type: ignore[no-untyped-def]
    third = unbalanced[unbalanced["pid"] == "1_1"].assign(pid="1_3")
    with pytest.raises(DyadicDataError, match=r"exactly 2 persons per dyad.*first: 1\b"):
        dl.diary(pd.concat([unbalanced, third]), **KEYS)


def test_role_that_does_not_split_a_dyad(unbalanced):  # type: ignore[no-untyped-def]
    d = unbalanced.copy()
    d.loc[d["couple"] == 1, "role"] = "w"
    with pytest.raises(DyadicDataError, match=r"different roles.*first: \[1\]"):
        dl.diary(d, **KEYS, role="role")


def test_ar1_needs_integer_time(unbalanced):  # type: ignore[no-untyped-def]
    d = unbalanced.assign(day=unbalanced["day"] + 0.5 * (unbalanced["day"] % 2))
    with pytest.raises(DyadicDataError, match="whole-numbered"):
        dl.diary(d, **KEYS, role="role", residual="ar1")
    dl.diary(d, **KEYS, role="role", residual="cs")  # cs only matches occasions


def test_within_effect_needs_within_person_variance(unbalanced):  # type: ignore[no-untyped-def]
    d = unbalanced.copy()
    d["trait"] = d.groupby("pid")["x"].transform("mean")
    with pytest.raises(DyadicDataError, match="does not vary within persons"):
        dl.diary(d, **{**KEYS, "x": "trait"}, role="role", center="person")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"center": "grand"}, "center='grand' is not allowed"),
        ({"residual": "ar2"}, "residual='ar2'"),
        ({"estimator": "reml"}, "Did you mean 'REML'"),
        ({"estimator": "ML", "method": "REML"}, "disagree"),
        ({"level": 1.5}, "level=1.5 is out of range"),
    ],
)
def test_bad_options(unbalanced, kwargs, message):  # type: ignore[no-untyped-def]
    with pytest.raises(OptionError, match=message):
        dl.diary(unbalanced, **KEYS, role="role", **kwargs)


def test_boundary_variance_is_reported():
    rng = np.random.default_rng(5)
    df = dl.simulate_diary(40, 7, tau=0.0, rng=rng)  # no random intercepts at all
    with pytest.warns(ConvergenceWarning, match="boundary") as record:
        res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time", role="role")
    assert [str(w.message) for w in record] == res.warnings
    assert res.warnings and all("boundary" in w for w in res.warnings)


@pytest.mark.slow
def test_recovers_simulated_effects_with_random_slopes():
    df = dl.simulate_diary(150, 14, actor=0.4, partner=0.2, random_slopes=(0.2, 0.1), rng=7)
    # the simulated slopes are uncorrelated: a correlation may end at its boundary
    with pytest.warns(ConvergenceWarning, match="boundary"):
        res = dl.diary(
            df, y="y", x="x", dyad="dyad", person="person", time="time", role="role",
            random_slopes=True,
        )  # fmt: skip
    est = res.estimates.set_index(["effect", "role"])["estimate"]
    assert est.loc["actor"].to_numpy() == pytest.approx([0.4, 0.4], abs=0.06)
    assert est.loc["partner"].to_numpy() == pytest.approx([0.2, 0.2], abs=0.06)
    vc = res.variance_components.set_index("name")["estimate"]
    assert vc.loc["sd_actor_slope"].to_numpy() == pytest.approx([0.2, 0.2], abs=0.08)


def test_several_predictors_each_get_actor_and_partner_effects(unbalanced):  # type: ignore[no-untyped-def]
    d = unbalanced.assign(x2=np.random.default_rng(1).normal(size=len(unbalanced)))
    res = dl.diary(d, **{**KEYS, "x": ["x", "x2"]}, role="role")
    got = list(zip(res.estimates["effect"], res.estimates["predictor"], strict=True))
    assert got[2:] == [
        ("actor", "x"), ("actor", "x"), ("partner", "x"), ("partner", "x"),
        ("actor", "x2"), ("actor", "x2"), ("partner", "x2"), ("partner", "x2"),
    ]  # fmt: skip
    one = dl.diary(d, **KEYS, role="role")
    # x2 is noise: the effects of x hardly move
    np.testing.assert_allclose(
        res.estimates["estimate"][2:6], one.estimates["estimate"][2:6], atol=0.02
    )


def test_covariates_enter_per_role(unbalanced):  # type: ignore[no-untyped-def]
    d = unbalanced.assign(weekend=(unbalanced["day"] % 7 >= 5).astype(float))
    res = dl.diary(d, **KEYS, role="role", covariates="weekend")
    cov = res.estimates[res.estimates["effect"] == "covariate"]
    assert cov["role"].tolist() == ["h", "w"] and set(cov["predictor"]) == {"weekend"}


def test_plot_draws_one_panel_per_couple(unbalanced):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    res = dl.diary(unbalanced, **KEYS, role="role")
    fig = res.plot(max_dyads=4)
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_fit_is_fast_and_linear_enough():
    df = dl.simulate_diary(400, 28, rng=3)
    t0 = time.process_time()
    res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time", role="role")
    assert res.fit["converged"]
    assert time.process_time() - t0 < 3.0  # the benchmark asks 0.5 s for 2,000 couples


def test_tutorial_examples_run():
    """The examples of docs/tutorials/diary.md give the outputs shown there."""
    import doctest
    import warnings

    with warnings.catch_warnings():  # the page reads the messages from res.warnings
        warnings.simplefilter("ignore", DyadlabWarning)
        failed, attempted = doctest.testfile(
            str(REPO / "docs" / "tutorials" / "diary.md"),
            module_relative=False,
            optionflags=doctest.NORMALIZE_WHITESPACE,
            verbose=False,
        )
    assert attempted > 20
    assert failed == 0


def test_indistinguishable_random_slopes_report_each_correlation_once():
    df = dl.simulate_diary(60, 10, random_slopes=(0.2, 0.1), distinguishable=False, rng=7)
    with pytest.warns(ConvergenceWarning, match="at zero"):  # 2 slopes, 1 intercept simulated
        res = dl.diary(
            df, y="y", x="x", dyad="dyad", person="person", time="time", random_slopes=True
        )
    names = res.variance_components["name"].tolist()
    assert len(names) == len(set(names))
    assert sum(n.endswith("within person") for n in names) == 3
    assert sum(n.endswith("across partners") for n in names) == 6
    assert res.variance_components["role"].isna().all()


@pytest.mark.parametrize("model", ["diary", "truth_bias"])
def test_method_is_the_deprecated_name_of_estimator(model: str) -> None:
    if model == "diary":
        data = dl.simulate_diary(30, 7, rng=4)
        keys = {"y": "y", "x": "x", "dyad": "dyad", "person": "person", "time": "time"}
    else:
        data = dl.simulate_truth_bias(60, 14, random_sd=(0.5, 0.3, 0.3), rng=1)
        keys = {"judgment": "judgment", "truth": "truth", "dyad": "dyad", "person": "person"}
        keys["time"] = "time"
    fit = getattr(dl, model)
    with pytest.warns(FutureWarning, match='method= is deprecated for REML/ML; use estimator="?ML'):
        old = fit(data, **keys, role="role", method="ML")
    new = fit(data, **keys, role="role", estimator="ML")
    assert old.estimation == new.estimation == "ML"
    pd.testing.assert_frame_equal(old.estimates, new.estimates)
    assert old.to_dict()["call"] == new.to_dict()["call"]
    assert new.to_dict()["call"]["estimator"] == "ML" and "method" not in new.call
