"""dl.truth_bias(): recovery of known parameters, exclusions, bad input, result contract."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
import dyadlab.models.truth_bias as tb_module
from dyadlab.exceptions import DyadicDataError, DyadlabError, DyadlabWarning, OptionError
from dyadlab.models._result import ESTIMATE_COLUMNS

matplotlib.use("Agg")

KEYS = {"judgment": "judgment", "truth": "truth", "dyad": "dyad", "person": "person"}


def _quiet(data: pd.DataFrame, **kwargs: object) -> tb_module.TruthBiasResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return dl.truth_bias(data, **{**KEYS, **kwargs})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def diary() -> pd.DataFrame:
    return dl.simulate_truth_bias(
        120, 14, truth_force=(0.6, 0.4), assumed_similarity=(0.1, 0.3),
        directional_bias=(0.5, -0.2), random_sd=(0.4, 0.2, 0.2), rng=11,
    )  # fmt: skip


@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    """30 couples, 14 days, clearly non-zero person effects: a quick, well-posed fit."""
    return dl.simulate_truth_bias(30, 14, random_sd=(0.5, 0.3, 0.3), rng=5)


@pytest.fixture(scope="module")
def diary_fit(diary: pd.DataFrame) -> tb_module.TruthBiasResult:
    return _quiet(diary, time="time", role="role")


def test_recovers_the_simulated_parameters(
    diary: pd.DataFrame, diary_fit: tb_module.TruthBiasResult
) -> None:
    truth = diary.attrs["truth"]
    est = diary_fit.estimates
    assert diary_fit.fit["converged"] and not diary_fit.warnings
    names = {"directional_bias": "directional_bias", "truth": "truth_force",
             "assumed_similarity": "assumed_similarity"}  # fmt: skip
    for row in est.itertuples():
        true = truth[names[row.effect]][row.role]
        assert abs(row.estimate - true) < 3.5 * row.se, (row.effect, row.role)
        assert row.ci_low < row.estimate < row.ci_high
    vc = diary_fit.variance_components.set_index("name")["estimate"]
    # simulated SDs 0.4 (bias) and 0.2 (slopes); person slopes are estimated from 14
    # days only, so their SDs vary a lot between samples (this one equals nlme's)
    assert vc["sd_directional_bias"].between(0.25, 0.55).all()
    slopes = vc[["sd_truth", "sd_assumed_similarity"]]
    assert (slopes < 0.4).all() and 0.1 < slopes.mean() < 0.3


def test_result_contract(diary: pd.DataFrame, diary_fit: tb_module.TruthBiasResult) -> None:
    assert diary_fit.model == "truth_bias"
    assert list(diary_fit.estimates.columns) == ESTIMATE_COLUMNS
    assert diary_fit.roles == ["husband", "wife"]
    assert diary_fit.estimates["predictor"].tolist() == (
        ["judgment"] * 2 + ["truth_partner"] * 2 + ["truth"] * 2
    )
    d = diary_fit.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["n_excluded"] == 0 and d["truth_mean"] == pytest.approx(diary["truth"].mean())
    assert "assumed_similarity" in diary_fit.summary()
    cov = np.asarray(d["random_covariance"]["matrix"])
    assert cov.shape == (6, 6) and np.allclose(cov, cov.T)
    assert d["random_covariance"]["names"][0] == "directional_bias[husband]"


def test_input_frame_is_not_changed(small: pd.DataFrame) -> None:
    before = small.copy()
    _quiet(small, time="time", role="role")
    pd.testing.assert_frame_equal(small, before)


def test_indistinguishable_pools_the_effects() -> None:
    df = dl.simulate_truth_bias(60, 10, random_sd=(0.4, 0.2, 0.2), distinguishable=False, rng=4)
    res = _quiet(df, time="time")
    assert res.distinguishable is False and res.roles == []
    assert res.estimates["role"].isna().all()
    assert res.estimates["effect"].tolist() == ["directional_bias", "truth", "assumed_similarity"]
    vc = res.variance_components
    assert vc["role"].isna().all()
    assert res.extra["random_covariance"]["names"][:2] == [
        "directional_bias[member 1]", "directional_bias[member 2]",
    ]  # fmt: skip


def test_role_alone_identifies_persons_over_time(small: pd.DataFrame) -> None:
    no_person = small.drop(columns="person")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        a = dl.truth_bias(no_person, judgment="judgment", truth="truth", dyad="dyad",
                          time="time", role="role")  # fmt: skip
    b = _quiet(small, time="time", role="role")
    np.testing.assert_allclose(a.estimates["estimate"], b.estimates["estimate"], rtol=1e-8)


def test_moderators_and_no_similarity(diary: pd.DataFrame) -> None:
    df = diary.copy()
    df["mood"] = np.random.default_rng(3).normal(size=len(df))
    res = _quiet(df, time="time", role="role", moderators=["mood"], similarity=False)
    effects = list(dict.fromkeys(res.estimates["effect"]))
    assert effects == ["directional_bias", "truth", "directional_bias:mood", "truth:mood"]
    mod = res.estimates[res.estimates["effect"] == "directional_bias:mood"]
    assert mod["predictor"].tolist() == ["mood", "mood"]
    assert len(res.extra["random_covariance"]["names"]) == 4
    # a pure-noise moderator: its effects are small
    assert (res.estimates.loc[res.estimates["effect"] == "truth:mood", "p"] > 1e-3).all()


def test_rows_without_partner_truth_are_left_out_and_counted(diary: pd.DataFrame) -> None:
    df = diary[diary["dyad"] < 30].copy()
    df.loc[df.index[:9], "truth"] = np.nan  # dyad 0: some truths missing
    lonely = df[(df["dyad"] == 5) & (df["role"] == "wife")].index
    df.loc[lonely, "truth"] = np.nan  # dyad 5: the wife never reports the truth
    df = df.drop(index=df.index[(df["dyad"] == 7) & (df["time"] == 3)][:1])  # no partner row
    with pytest.warns(DyadlabWarning) as record:
        res = dl.truth_bias(df, **KEYS, time="time", role="role")
    texts = [str(w.message) for w in record]
    assert res.extra["n_excluded"] > 0
    assert res.n_obs == len(df) - res.extra["n_excluded"]
    assert any(f"{res.extra['n_excluded']} rows were left out" in t for t in texts)
    assert any("one partner never reports 'truth' (first: 5)" in t for t in texts)
    assert res.extra["excluded"]["no partner row"] == 1
    assert res.warnings == texts
    assert res.n_dyads == df["dyad"].nunique() - 1  # dyad 5 has no complete row


def test_constant_truth_gives_no_estimates_and_not_converged(diary: pd.DataFrame) -> None:
    df = diary.head(300).copy()
    df["truth"] = 3.0
    with pytest.warns(DyadlabWarning, match="constant"):
        res = dl.truth_bias(df, **KEYS, time="time", role="role")
    assert res.fit["converged"] is False
    assert res.estimates.empty
    with pytest.raises(DyadlabError, match="nothing to plot"):
        res.plot()


def test_truth_missing_for_every_partner(diary: pd.DataFrame) -> None:
    df = diary.head(300).copy()
    df.loc[df["role"] == "husband", "truth"] = np.nan
    with pytest.warns(DyadlabWarning) as record:
        res = dl.truth_bias(df, **KEYS, time="time", role="role")
    assert any("nothing was fitted" in str(w.message) for w in record)
    assert res.fit["converged"] is False and res.extra["n_excluded"] == 300


def test_non_convergence_is_reported(small: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tb_module.fit_mixed

    def stalled(*args: object, **kwargs: object) -> object:
        fit = real(*args, **kwargs)  # type: ignore[arg-type]
        fit.converged = False
        fit.message = "ABNORMAL"
        return fit

    monkeypatch.setattr(tb_module, "fit_mixed", stalled)
    with pytest.warns(DyadlabWarning) as record:
        res = dl.truth_bias(small, **KEYS, time="time", role="role")
    assert any("did not converge (ABNORMAL)" in str(w.message) for w in record)
    assert res.fit["converged"] is False


def test_one_judgment_per_person_has_no_random_effects() -> None:
    from dyadlab.data.datasets import load_acitelli

    aci = load_acitelli()
    res = dl.truth_bias(aci, judgment="other_pos", truth="self_pos", dyad="cuplid",
                        role="gender")  # fmt: skip
    assert res.extra["random_covariance"] is None
    assert (res.estimates["df"] == res.n_obs - 6).all()
    assert res.roles == ["-1", "1"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"estimator": "OLS"}, OptionError, "estimator"),
        ({"level": 1.5}, OptionError, "level"),
        ({"truth": "truht"}, DyadicDataError, "truth"),
        ({"moderators": ["dyad"]}, DyadicDataError, "moderator"),
        ({"judgment": "role"}, DyadicDataError, "numeric"),
    ],
)
def test_bad_arguments(
    diary: pd.DataFrame, kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        dl.truth_bias(diary.head(100), **{**KEYS, "time": "time", "role": "role", **kwargs})  # type: ignore[arg-type]


def test_plot_returns_a_figure(diary_fit: tb_module.TruthBiasResult) -> None:
    import matplotlib.pyplot as plt

    fig = diary_fit.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Directional bias", "Truth force and assumed similarity"]
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["husband", "wife"]
    plt.close(fig)


def test_persons_with_few_judgments_are_kept_with_a_warning(small: pd.DataFrame) -> None:
    df = small
    sparse = (df["dyad"] == 3) & (df["role"] == "wife") & (df["time"] > 1)
    df = df[~sparse]  # dyad 3: the wife reports on two days only, so both have 2 rows
    with pytest.warns(DyadlabWarning) as record:
        res = dl.truth_bias(df, **KEYS, time="time", role="role")
    assert any("2 persons have fewer than 3 usable judgments" in str(w.message) for w in record)
    assert res.n_dyads == 30


def test_diary_without_person_or_role_is_refused(diary: pd.DataFrame) -> None:
    with pytest.raises(DyadicDataError, match="person"):
        dl.truth_bias(diary.drop(columns="person"), judgment="judgment", truth="truth",
                      dyad="dyad", time="time")  # fmt: skip


def test_html_report_includes_the_plot(
    diary_fit: tb_module.TruthBiasResult, tmp_path: pytest.TempPathFactory
) -> None:
    path = diary_fit.report(tmp_path / "tb.html")  # type: ignore[operator]
    html = path.read_text()
    assert "truth_bias" in html and "<img" in html
    assert "Assumed similarity" in html  # the APA table labels the effect


def test_role_that_does_not_split_a_dyad_is_refused(small: pd.DataFrame) -> None:
    df = small.copy()
    df.loc[df["dyad"] == 2, "role"] = "wife"
    with pytest.raises(DyadicDataError, match=r"first: 2\)"):
        dl.truth_bias(df, **KEYS, time="time", role="role")


def test_constant_moderator_cannot_be_estimated(small: pd.DataFrame) -> None:
    df = small.assign(site=2.0)
    with pytest.warns(DyadlabWarning, match="cannot all be estimated"):
        res = dl.truth_bias(df, **KEYS, time="time", role="role", moderators=["site"])
    assert res.fit["converged"] is False and res.estimates.empty


def test_one_occasion_with_time_is_fitted_without_random_effects() -> None:
    df = dl.simulate_truth_bias(100, 1, rng=5).assign(time=1)
    with pytest.warns(DyadlabWarning, match="single usable judgment"):
        with_time = dl.truth_bias(df, **KEYS, time="time", role="role")
    without = dl.truth_bias(df, **KEYS, role="role")
    assert with_time.extra["random_covariance"] is None
    np.testing.assert_allclose(with_time.estimates["estimate"], without.estimates["estimate"])
    assert with_time.fit["converged"]
