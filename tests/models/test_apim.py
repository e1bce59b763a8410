"""dl.apim(): behaviour, bad input, k and its bootstrap, moderation, plots."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, DyadlabWarning, OptionError
from dyadlab.models import _bootstrap as bs
from dyadlab.models._apim_fit import pattern_of
from dyadlab.models._result import ESTIMATE_COLUMNS
from dyadlab.models._sem import apim_spec, fit_sem


def _sim(n: int = 80, seed: int = 0, roles: tuple[object, object] = ("w", "h")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    e = rng.normal(size=(n, 2)) + 0.5 * rng.normal(size=(n, 1))
    y = np.column_stack([0.5 * x[:, 0] + 0.3 * x[:, 1], 0.4 * x[:, 1] + 0.2 * x[:, 0]]) + e
    return pd.DataFrame(
        {
            "couple": np.repeat(np.arange(n), 2),
            "role": list(roles) * n,
            "x": x.ravel(),
            "y": y.ravel(),
            "years": np.repeat(rng.uniform(1, 20, n), 2),
        }
    )


def test_roles_are_strings_as_in_the_data() -> None:
    df = _sim(roles=(-1, 1))
    res = dl.apim(df, y="y", x="x", dyad="couple", role="role")
    assert res.roles == ["-1", "1"]
    assert set(res.estimates["role"]) == {"-1", "1"}
    assert list(res.estimates.columns) == ESTIMATE_COLUMNS


def test_partner_effect_role_is_the_outcome_persons_role() -> None:
    # only the wife's outcome depends on the husband's x
    rng = np.random.default_rng(1)
    n = 400
    x = rng.normal(size=(n, 2))  # column 0 = wife, 1 = husband
    y = np.column_stack([0.8 * x[:, 1], np.zeros(n)]) + 0.1 * rng.normal(size=(n, 2))
    df = pd.DataFrame(
        {
            "d": np.repeat(np.arange(n), 2),
            "r": ["wife", "husband"] * n,
            "x": x.ravel(),
            "y": y.ravel(),
        }
    )
    est = dl.apim(df, y="y", x="x", dyad="d", role="r").estimates.set_index(["effect", "role"])
    assert est.loc[("partner", "wife"), "estimate"] == pytest.approx(0.8, abs=0.02)
    assert est.loc[("partner", "husband"), "estimate"] == pytest.approx(0.0, abs=0.02)


@pytest.mark.parametrize("method", ["mlm", "sem"])
def test_indistinguishable_estimates_do_not_depend_on_member_order(method: str) -> None:
    df = _sim(n=50, seed=12)
    swapped = df.iloc[np.arange(len(df)).reshape(-1, 2)[:, ::-1].ravel()]
    a = dl.apim(df, y="y", x="x", dyad="couple", method=method).estimates
    b = dl.apim(swapped, y="y", x="x", dyad="couple", method=method).estimates
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-4)


def test_distinguishable_estimates_do_not_depend_on_row_order() -> None:
    df = _sim(n=50, seed=13)
    shuffled = df.sample(frac=1.0, random_state=1)
    a = dl.apim(df, y="y", x="x", dyad="couple", role="role").estimates
    b = dl.apim(shuffled, y="y", x="x", dyad="couple", role="role").estimates
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-6, atol=1e-8)


def test_default_methods() -> None:
    df = _sim()
    assert dl.apim(df, y="y", x="x", dyad="couple", role="role").estimation == "ML"
    res = dl.apim(df, y="y", x="x", dyad="couple")
    assert res.estimation == "REML"
    assert not res.distinguishable
    assert res.estimates["role"].isna().all()


def test_input_frame_is_unchanged() -> None:
    df = _sim()
    before = df.copy()
    dl.apim(df, y="y", x="x", dyad="couple", role="role", moderator="years")
    pd.testing.assert_frame_equal(df, before)


def test_constant_within_dyad_predictor_is_an_error() -> None:
    df = _sim()
    with pytest.raises(DyadicDataError, match="same value for both members"):
        dl.apim(df, y="y", x="years", dyad="couple", role="role")


def test_mixed_study_as_distinguishable_names_the_dyads() -> None:
    df = _sim()
    df.loc[df["couple"].isin([3, 7]), "role"] = "w"
    with pytest.raises(DyadicDataError, match=r"first: 3, 7"):
        dl.apim(df, y="y", x="x", dyad="couple", role="role")


def test_fewer_than_ten_dyads_warns() -> None:
    df = _sim(n=8)
    with pytest.warns(DyadlabWarning, match="Only 8 dyads"):
        res = dl.apim(df, y="y", x="x", dyad="couple", method="mlm")
    assert any("Only 8 dyads" in w for w in res.warnings)


def test_missing_rows_are_counted_and_reported() -> None:
    df = _sim()
    df.loc[[0, 5, 9], "y"] = np.nan
    df.loc[[20], "x"] = np.nan
    with pytest.warns(DyadlabWarning):
        res = dl.apim(df, y="y", x="x", dyad="couple", method="mlm")
    # rows 0, 5, 9 (outcome) and 20, 21 (own x, partner's x) are left out
    assert res.n_obs == len(df) - 5
    assert res.extra["n_rows_dropped"] == 5
    assert any("5 persons" in w for w in res.warnings)
    with pytest.warns(DyadlabWarning, match="missing predictor"):
        sem = dl.apim(df, y="y", x="x", dyad="couple", role="role")
    assert sem.n_dyads == 79


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "gls"}, "method"),
        ({"level": 1.5}, "level"),
        ({"bootstrap": -1}, "bootstrap"),
        ({"missing": "pairwise"}, "missing"),
    ],
)
def test_bad_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(OptionError, match=match):
        dl.apim(_sim(), y="y", x="x", dyad="couple", **kwargs)


def test_unknown_column_names_the_closest() -> None:
    with pytest.raises(DyadicDataError, match="'years'"):
        dl.apim(_sim(), y="y", x="yaers", dyad="couple")


def test_to_dict_is_json_and_has_the_contract_keys() -> None:
    res = dl.apim(_sim(), y="y", x="x", dyad="couple", role="role", bootstrap=200, rng=3)
    out = json.loads(json.dumps(res.to_dict()))
    for key in [
        "model",
        "n_dyads",
        "n_obs",
        "distinguishable",
        "roles",
        "estimation",
        "estimates",
        "k",
        "tests",
        "variance_components",
        "fit",
        "warnings",
    ]:
        assert key in out
    assert {"loglik", "aic", "bic", "n_params", "converged"} <= set(out["fit"])
    assert {t["name"] for t in out["tests"]} == {
        "equal_actor_effects",
        "equal_partner_effects",
        "equal_roles",
    }
    assert [k["role"] for k in out["k"]] == ["h", "w"]


def test_bootstrap_true_means_5000_resamples() -> None:
    res = dl.apim(_sim(n=30), y="y", x="x", dyad="couple", role="role", bootstrap=True, rng=1)
    assert {k["n_boot"] for k in res.extra["k"]} == {5000}


def test_non_convergence_is_warned_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from dyadlab.models import _apim_fit

    real = _apim_fit.fit_mixed

    def stuck(*args: object, **kwargs: object) -> object:
        return dataclasses.replace(real(*args, **kwargs), converged=False)  # type: ignore[arg-type]

    monkeypatch.setattr(_apim_fit, "fit_mixed", stuck)
    with pytest.warns(DyadlabWarning, match="did not converge"):
        res = dl.apim(_sim(), y="y", x="x", dyad="couple")
    assert res.fit["converged"] is False
    assert any("did not converge" in w for w in res.warnings)


def test_k_is_partner_over_actor() -> None:
    res = dl.apim(_sim(), y="y", x="x", dyad="couple", role="role")
    est = res.estimates.set_index(["effect", "role"])["estimate"]
    for k in res.extra["k"]:
        assert k["estimate"] == pytest.approx(
            est[("partner", k["role"])] / est[("actor", k["role"])]
        )
        assert k["ci_method"] == "delta"  # always an interval, without a bootstrap too
        assert k["ci_low"] < k["estimate"] < k["ci_high"]


def test_batched_bootstrap_equals_refits() -> None:
    """The batched least-squares refits equal lavaan-style ML refits on resampled dyads."""
    df = _sim(n=60, seed=4)
    rng = np.random.default_rng(0)
    w = bs.resample_weights(60, 3, rng)
    wide = df.pivot(index="couple", columns="role", values=["y", "x"])
    y = wide["y"][["h", "w"]].to_numpy()
    x = wide["x"][["h", "w"]].to_numpy()
    coef = bs.batched_ols(np.column_stack([np.ones(60), x]), y, w)
    spec = apim_spec(2, [[0, 1], [1, 0]], term_groups=["actor", "partner"])
    for i in range(3):
        fit = fit_sem(np.column_stack([y, x]), spec, weights=w[i])
        # b1_0 = actor of member 1 (h): coefficient of x_h in the equation of y_h
        assert fit.theta[0] == pytest.approx(coef[i, 1, 0], rel=1e-6)
        assert fit.theta[3] == pytest.approx(coef[i, 1, 1], rel=1e-6)


def test_k_bootstrap_intervals_cover_the_estimate_and_are_reproducible() -> None:
    df = _sim(n=100, seed=2)
    a = dl.apim(df, y="y", x="x", dyad="couple", role="role", bootstrap=500, rng=7)
    b = dl.apim(df, y="y", x="x", dyad="couple", role="role", bootstrap=500, rng=7)
    assert a.extra["k"] == b.extra["k"]
    for k in a.extra["k"]:
        assert k["ci_low"] < k["estimate"] < k["ci_high"]
        assert k["bca_low"] < k["bca_high"]
        assert k["n_boot"] == 500
    assert "k = partner / actor" in a.summary()


def test_indistinguishable_sem_batched_bootstrap_equals_refits() -> None:
    from dyadlab.models._apim_design import prepare
    from dyadlab.models._apim_fit import sem_indistinguishable

    des = prepare(_sim(n=60, seed=5), y="y", x=["x"], dyad="couple", func="apim")
    out = sem_indistinguishable(des, level=0.95)
    assert out.refit_batch is not None and out.refit is not None
    w = bs.resample_weights(60, 2, np.random.default_rng(1))
    batch = out.refit_batch(w)
    for i in range(2):
        one = out.refit(w[i])
        ok = np.isfinite(batch[i])
        np.testing.assert_allclose(batch[i][ok], one[ok], rtol=1e-5, atol=1e-7)


def test_fiml_batched_bootstrap_equals_refits() -> None:
    from dyadlab.models._apim_design import prepare
    from dyadlab.models._apim_fit import sem_distinguishable

    df = _sim(n=70, seed=6)
    df.loc[[1, 4, 9, 30, 31, 57], "y"] = np.nan  # dyad 15: both outcomes missing
    des = prepare(df, y="y", x=["x"], dyad="couple", role="role", func="apim")
    out = sem_distinguishable(des, level=0.95)
    assert any("no outcome" in w for w in out.warnings)
    assert out.refit_batch is not None and out.refit is not None
    w = bs.resample_weights(out.n_units, 3, np.random.default_rng(4))
    batch = out.refit_batch(w)
    for i in range(3):
        np.testing.assert_allclose(batch[i], out.refit(w[i]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("role", ["role", None])
def test_batched_gls_bootstrap_equals_refits(
    role: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batched refits (all resamples at once) equal the engine's fits of the resampled
    data (each dyad repeated as often as it is drawn)."""
    from dyadlab.models import _apim_fit
    from dyadlab.models._apim_design import prepare
    from dyadlab.models._apim_fit import mlm

    def one_by_one(*args: object) -> None:
        pytest.fail("the batched refits did not reproduce the fit")

    monkeypatch.setattr(_apim_fit, "_refit_rows", one_by_one)
    df = _sim(n=60, seed=9)
    df.loc[[2, 7, 50], "y"] = np.nan  # singletons of both roles
    des = prepare(df, y="y", x=["x"], dyad="couple", role=role, func="apim")
    out = mlm(des, level=0.95)
    assert out.refit_batch is not None and out.refit is not None
    w = bs.resample_weights(out.n_units, 3, np.random.default_rng(3))
    batch = out.refit_batch(w)
    for i in range(3):
        np.testing.assert_allclose(batch[i], out.refit(w[i]), rtol=1e-5, atol=1e-7)


def test_k_bootstrap_mlm_uses_weighted_refits() -> None:
    res = dl.apim(_sim(n=40), y="y", x="x", dyad="couple", bootstrap=50, rng=1)
    (k,) = res.extra["k"]
    assert k["role"] is None
    assert k["ci_low"] < k["ci_high"]


def test_bca_matches_percentile_for_a_symmetric_unbiased_statistic() -> None:
    rng = np.random.default_rng(0)
    boot = rng.normal(size=(20000, 1))
    jack = rng.normal(size=(50, 1)) * 1e-3
    lo, hi = bs.bca_interval(boot, np.array([0.0]), jack, 0.95)
    plo, phi = bs.percentile_interval(boot, 0.95)
    assert lo[0] == pytest.approx(plo[0], abs=0.03)
    assert hi[0] == pytest.approx(phi[0], abs=0.03)


@pytest.mark.parametrize(
    ("k", "lo", "hi", "name"),
    [
        (0.05, -0.3, 0.4, "actor-only"),
        (0.9, 0.6, 1.3, "couple"),
        (-0.8, -1.4, -0.5, "contrast"),
        (0.5, 0.3, 0.7, "mixed"),
        (0.5, -0.2, 1.2, "undetermined"),
        (5.0, None, None, "undetermined"),  # no interval, no pattern
        (0.1, None, None, "undetermined"),
    ],
)
def test_pattern_of(k: float, lo: float | None, hi: float | None, name: str) -> None:
    assert pattern_of(k, lo, hi)[0] == name


def test_between_dyad_moderator_gives_interaction_rows_and_simple_slopes() -> None:
    res = dl.apim(_sim(), y="y", x="x", dyad="couple", role="role", moderator="years")
    effects = set(res.estimates["effect"])
    assert {"actor:years", "partner:years"} <= effects
    slopes = pd.DataFrame(res.extra["simple_slopes"])
    assert len(slopes) == 2 * 2 * 3  # roles x effects x (mean - SD, mean, mean + SD)
    est = res.estimates.set_index(["effect", "predictor", "role"])["estimate"]
    row = slopes[(slopes["effect"] == "actor") & (slopes["role"] == "w") & (slopes["at"] == "mean")]
    m = float(row["moderator_value"].iloc[0])
    expected = est[("actor", "x", "w")] + m * est[("actor:years", "x", "w")]
    assert float(row["estimate"].iloc[0]) == pytest.approx(expected)


def test_within_dyad_moderator_gets_actor_and_partner_main_effects() -> None:
    df = _sim()
    # a mixed study: every third couple is two women, every fifth two men
    df["female"] = (df["role"] == "w").astype(float)
    df.loc[df["couple"] % 3 == 0, "female"] = 1.0
    df.loc[df["couple"] % 5 == 0, "female"] = 0.0
    res = dl.apim(df, y="y", x="x", dyad="couple", moderator="female")
    est = res.estimates
    assert len(est[(est["predictor"] == "female")]) == 2
    assert {"actor:female", "partner:female"} <= set(est["effect"])


def test_collinear_terms_are_an_error() -> None:
    df = _sim()
    df["female"] = (df["role"] == "w").astype(
        float
    )  # splits every dyad: female_partner = 1 - female
    with pytest.raises(DyadicDataError, match="collinear"):
        dl.apim(df, y="y", x="x", dyad="couple", moderator="female")
    df["x2"] = 2 * df["x"]
    with pytest.raises(DyadicDataError, match="collinear"):
        dl.apim(df, y="y", x="x", dyad="couple", role="role", covariates=["x2"])


def test_covariates_person_and_dyad_level() -> None:
    df = _sim()
    df["age"] = np.random.default_rng(99).normal(40, 5, len(df))
    res = dl.apim(df, y="y", x="x", dyad="couple", role="role", covariates=["age", "years"])
    est = res.estimates
    assert len(est[est["predictor"] == "age"]) == 4  # actor + partner, per role
    assert len(est[est["predictor"] == "years"]) == 2  # dyad level: one per role
    assert len(res.extra["k"]) == 2  # covariates are not part of k


def test_listwise_drops_whole_dyads() -> None:
    df = _sim()
    df.loc[0, "y"] = np.nan
    with pytest.warns(DyadlabWarning, match="listwise"):
        res = dl.apim(df, y="y", x="x", dyad="couple", role="role", missing="listwise")
    assert res.n_dyads == 79


def test_indistinguishable_sem_reports_olsen_kenny_fit() -> None:
    res = dl.apim(_sim(), y="y", x="x", dyad="couple", method="sem")
    for key in ["chisq", "df", "rmsea", "cfi", "chisq_adjusted", "df_adjusted", "cfi_adjusted"]:
        assert key in res.fit
    assert res.fit["df"] == 6
    assert res.fit["df_adjusted"] == res.fit["df"] - res.fit["df_isat"]


def test_plots() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = dl.apim(_sim(), y="y", x="x", dyad="couple", role="role", moderator="years")
    fig = res.plot()
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    a = res.estimates.query("effect == 'actor' and predictor == 'x' and role == 'w'")
    assert f"{float(a['estimate'].iloc[0]):.2f}" in texts
    fig2 = res.plot_simple_slopes()
    assert fig2.axes[0].get_legend() is not None
    plain = dl.apim(_sim(), y="y", x="x", dyad="couple")
    with pytest.raises(OptionError, match="no moderator"):
        plain.plot_simple_slopes()
    plt.close("all")


def test_no_warning_leaks_for_clean_data() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = dl.apim(_sim(), y="y", x="x", dyad="couple", role="role")
    assert res.warnings == []
    assert res.fit["converged"] is True


def _gls_cases() -> list[object]:
    from tests.reference.fixtures import cases

    return [c for c in cases("apim_mlm") if "role" not in c.args and isinstance(c.call, str)]


@pytest.mark.parametrize("case", _gls_cases(), ids=str)
def test_r_call_is_the_nlme_call_of_the_reference(case) -> None:  # type: ignore[no-untyped-def]
    """``ApimResult.r_call`` writes the formula the R reference script fitted."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(case.data, **case.args)
    assert " ".join(res.r_call.split()) == " ".join(case.call.split())
