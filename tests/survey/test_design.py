"""dl.survey.design and its estimates: bad input gets one clear message; nothing dropped."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, DyadlabWarning, OptionError
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# simulate_panel leaves values missing on purpose: the estimates say so with a warning
pytestmark = DATA_WARNINGS_EXPECTED


@pytest.fixture
def panel() -> pd.DataFrame:
    return dl.survey.simulate_panel(500, rng=11)


def _design(df: pd.DataFrame, **kw: object) -> dl.survey.SurveyDesign:
    args = {"weights": "weight", "strata": "stratum", "cluster": "psu", **kw}
    return dl.survey.design(df, **args)


def test_lonely_psu_fail_names_the_stratum_and_the_options(panel: pd.DataFrame) -> None:
    df = panel[~((panel["stratum"] == 3) & (panel["psu"] != 9))]
    with pytest.raises(DyadicDataError) as err:
        _design(df)
    msg = str(err.value)
    assert "stratum 3 has only one PSU" in msg
    for option in ("'remove'", "'certainty'", "'adjust'", "'average'"):
        assert option in msg
    assert _design(df, lonely_psu="remove").df == _design(panel).df - 3


@pytest.mark.parametrize("value", [0.0, -2.0])
def test_zero_or_negative_weights(panel: pd.DataFrame, value: float) -> None:
    panel.loc[[4, 7], "weight"] = value
    with pytest.raises(DyadicDataError, match=r"'weight' has 2 zero, negative.*rows 4, 7"):
        _design(panel)


def test_missing_weights(panel: pd.DataFrame) -> None:
    panel.loc[[5], "weight"] = np.nan
    with pytest.raises(DyadicDataError, match=r"weight column 'weight' has 1 missing values"):
        _design(panel)


def test_by_group_with_no_cases(panel: pd.DataFrame) -> None:
    panel.loc[panel["relationship"] == "man-man", "loneliness"] = np.nan
    d = _design(panel)
    with pytest.raises(DyadicDataError, match=r"'relationship' group 'man-man' has no respondents"):
        d.mean("loneliness", by="relationship")


def test_psus_crossing_strata_need_nest(panel: pd.DataFrame) -> None:
    panel["psu_in_stratum"] = (panel["psu"] - 1) % 4 + 1
    with pytest.raises(DyadicDataError, match="nest=True"):
        _design(panel, cluster="psu_in_stratum")
    nested = _design(panel, cluster="psu_in_stratum", nest=True)
    plain = _design(panel)
    assert nested.n_psu == plain.n_psu == 80
    a = nested.mean("loneliness").estimates["se"]
    b = plain.mean("loneliness").estimates["se"]
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_bad_options(panel: pd.DataFrame) -> None:
    with pytest.raises(OptionError, match=r"lonely_psu='fial' is not allowed.*Did you mean 'fail'"):
        _design(panel, lonely_psu="fial")
    with pytest.raises(DyadicDataError, match="column 'wieght' is not in the data"):
        _design(panel, weights="wieght")
    with pytest.raises(OptionError, match="family='binomial'"):
        _design(panel).glm("lonely_often", "age", family="binomial")
    with pytest.raises(DyadicDataError, match="only one primary sampling unit"):
        dl.survey.design(panel.assign(one=1), weights="weight", cluster="one")


def test_domains_keep_every_row_and_psu(panel: pd.DataFrame) -> None:
    """A domain SE uses all PSUs: equal to the full-sample SE of y·1{domain} ratio form."""
    d = _design(panel)
    with pytest.warns(DyadlabWarning, match="'loneliness' missing are outside") as caught:
        res = d.mean("loneliness", by="relationship")
    assert [str(w.message) for w in caught] == res.warnings  # issued once, and kept
    assert res.estimates["n"].sum() == panel["loneliness"].notna().sum()
    # the domain mean is the ratio of totals of y·1{g} and 1{g} over the whole design
    g = panel["relationship"] == "single"
    df = panel.assign(num=np.where(g, panel["loneliness"], 0.0), den=g.astype(float))
    df.loc[panel["loneliness"].isna(), ["num", "den"]] = 0.0
    ratio = _design(df).ratio("num", "den").estimates
    row = res.estimates[res.estimates["group"] == "single"]
    np.testing.assert_allclose(row["estimate"], ratio["estimate"], rtol=1e-12)
    np.testing.assert_allclose(row["se"], ratio["se"], rtol=1e-10)


def test_contrast_uses_the_joint_covariance(panel: pd.DataFrame) -> None:
    res = _design(panel).mean("depression", by="relationship")
    labels = res.labels()
    i, j = labels.index("single"), labels.index("man-woman")
    diff = res.contrast({"single": 1, "man-woman": -1}).estimates.iloc[0]
    v = res.vcov
    assert diff["estimate"] == pytest.approx(
        res.estimates["estimate"].iloc[i] - res.estimates["estimate"].iloc[j]
    )
    assert diff["se"] == pytest.approx(np.sqrt(v[i, i] + v[j, j] - 2 * v[i, j]))
    assert v[i, j] != 0.0  # groups share PSUs
    with pytest.raises(OptionError, match="'couples' is not an estimate here"):
        res.contrast({"couples": 1})


def test_result_contract(panel: pd.DataFrame) -> None:
    before = panel.copy()
    d = _design(panel)
    for res in (
        d.mean("loneliness", by="relationship"),
        d.total("lonely_often"),
        d.ratio("loneliness", "depression"),
        d.proportion("lonely_often", by="relationship", method="beta"),
        d.glm("depression", ["loneliness", "relationship"]),
    ):
        out = json.loads(res.to_json())
        assert out["estimates"] and set(out["estimates"][0]) >= {"effect", "group", "n", "se"}
        assert out["design"]["df"] == 60
        assert res.summary()
    pd.testing.assert_frame_equal(panel, before)


def test_suppression_flags(panel: pd.DataFrame) -> None:
    res = _design(panel).mean("loneliness", by="relationship")
    flags = res.suppression(min_n=30, max_rse=0.30).set_index("group")
    assert bool(flags.loc["other/unknown", "suppress"])  # about 15 respondents
    assert flags.loc["other/unknown", "reason"] == "n < 30"
    assert not bool(flags.loc["man-woman", "suppress"])
    assert (flags["rse"] == flags["se"] / flags["estimate"].abs()).all()


def test_glm_recovers_simulated_truth() -> None:
    rng = np.random.default_rng(7)
    n = 20000
    psu = rng.integers(0, 200, n)
    x = rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    eta = -0.5 + 0.8 * x
    df = pd.DataFrame(
        {
            "psu": psu,
            "s": psu // 10,
            "w": w,
            "x": x,
            "y": rng.binomial(1, 1 / (1 + np.exp(-eta))),
            "c": rng.poisson(np.exp(0.2 + 0.3 * x)),
        }
    )
    d = dl.survey.design(df, weights="w", strata="s", cluster="psu")
    b = d.glm("y", "x", family="quasibinomial").estimates
    assert abs(b["estimate"].iloc[1] - 0.8) < 4 * b["se"].iloc[1]
    p = d.glm("c", "x", family="poisson").estimates
    assert abs(p["estimate"].iloc[1] - 0.3) < 4 * p["se"].iloc[1]


def test_report_has_forest_plot_and_flags(panel: pd.DataFrame, tmp_path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    res = _design(panel).mean("loneliness", by="relationship")
    fig = res.plot()
    assert len(fig.axes[0].get_yticklabels()) == 5
    path = res.report(tmp_path / "loneliness.html")
    html = path.read_text(encoding="utf-8")
    assert "<img" in html or "<svg" in html
    assert "suppress" in html and "n &lt; 30" in html


def test_replicate_design_bad_input(panel: pd.DataFrame) -> None:
    rep = _design(panel).replicates("JKn")
    cols = pd.DataFrame(rep.repweights, columns=[f"rw{i}" for i in range(rep.n_replicates)])
    df = pd.concat([panel, cols], axis=1)
    with pytest.raises(OptionError, match="type='JKn' needs rscales="):
        dl.survey.replicate_design(df, weights="weight", repweights="rw[0-9]+", type="JKn")
    with pytest.raises(OptionError, match="type='Fay' needs rho="):
        dl.survey.replicate_design(df, weights="weight", repweights="rw[0-9]+", type="Fay")
    with pytest.raises(DyadicDataError, match="no column matches repweights='repwt'"):
        dl.survey.replicate_design(df, weights="weight", repweights="repwt", type="JK1")
    with pytest.raises(OptionError, match="type='JK1' is for unstratified designs"):
        _design(panel).replicates("JK1")
    again = dl.survey.replicate_design(
        df, weights="weight", repweights="rw[0-9]+", type="JKn", rscales=rep.rscales
    )
    np.testing.assert_allclose(
        again.mean("loneliness").estimates["se"], rep.mean("loneliness").estimates["se"]
    )


def test_glm_that_does_not_converge_issues_a_convergence_warning(
    panel: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dyadlab.survey import _glm

    real = _glm._irls
    monkeypatch.setattr(_glm, "_irls", lambda *a, **k: real(*a, **{**k, "max_iter": 1}))
    with pytest.warns(ConvergenceWarning, match=r"survey.glm\(\): the fit did not converge"):
        res = _design(panel).glm("lonely_often", ["loneliness"], family="quasibinomial")
    assert res.fit["converged"] is False
    assert any("did not converge (IRLS, 1 iterations)" in w for w in res.warnings)


def test_replicate_refits_that_do_not_converge_issue_a_convergence_warning(
    panel: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dyadlab.survey import _glm

    real = _glm._irls

    def one_step_for_replicates(*a: object, **k: object) -> object:
        return real(*a, **{**k, "max_iter": 1} if k.get("start") is not None else k)

    monkeypatch.setattr(_glm, "_irls", one_step_for_replicates)
    rep = _design(panel).replicates("JKn")
    with pytest.warns(ConvergenceWarning, match=r"replicate refits did not converge"):
        res = rep.glm("lonely_often", ["age"], family="quasibinomial")
    assert res.fit["converged"] is True  # the full-sample fit did
    note = [w for w in res.warnings if "replicate refits" in w]
    assert note and note[0].startswith("survey.glm(): ") and note[0] in res.to_dict()["warnings"]
