"""dl.apim_mediation: APIMeM estimates and defined effects equal lavaan; bootstrap CIs."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, DyadlabWarning, OptionError
from dyadlab.models import _mediation_fit
from tests.reference.fixtures import (
    DATA_WARNINGS_EXPECTED,
    assert_close_est,
    assert_close_se,
    cases,
)

pytestmark = DATA_WARNINGS_EXPECTED  # reference data with missing values: dyads left out

CASES = cases("mediation")
DIST = [c for c in CASES if "role" in c.args]
POOLED = [c for c in CASES if "role" not in c.args]


def _aligned(res, case):
    e = case.expected
    if "role" in case.args:
        keys = list(zip(e["effect"], e["role"], strict=True))
        return res.estimates.set_index(["effect", "role"]).loc[keys], e
    return res.estimates.set_index("effect").loc[e["effect"]], e


@pytest.mark.parametrize("case", CASES, ids=str)
def test_paths_and_defined_effects_equal_lavaan(case):
    res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    rows, e = _aligned(res, case)
    assert len(rows) == len(res.estimates) == (28 if "role" in case.args else 14)
    assert_close_est(rows["estimate"], e["estimate"], case)
    assert_close_se(rows["se"], e["se"], case)
    assert_close_est(rows["statistic"], e["z"], case, "z")
    assert_close_est(rows["p"], e["p"], case, "p")
    assert res.n_dyads == e["n_dyads"]
    assert_close_est(
        [res.fit["loglik"], res.fit["aic"], res.fit["bic"], res.fit["n_params"]],
        [e["loglik"], e["aic"], e["bic"], e["npar"]],
        case,
        "fit",
    )


@pytest.mark.parametrize("case", POOLED, ids=str)
def test_indistinguishable_chisq_equals_lavaan(case):
    res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    e = case.expected
    assert res.distinguishable is False and res.roles == []
    assert res.estimates["role"].isna().all()
    assert_close_est(
        [res.fit["chisq"], res.fit["df"], res.fit["chisq_p"]],
        [e["chisq"], e["df"], e["chisq_p"]],
        case,
        "chi-square",
    )


@pytest.mark.parametrize("case", DIST, ids=str)
def test_residual_covariances_equal_lavaan(case):
    res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    vc = res.variance_components
    roles = res.roles
    lookup = {}
    for short in ("m", "y"):
        var = vc[vc["name"] == f"residual_variance_{short}"].set_index("role")["estimate"]
        cov = vc.loc[vc["name"] == f"residual_covariance_{short}", "estimate"].item()
        big = short.upper()
        lookup[(f"{big}1", f"{big}1")] = var[roles[0]]
        lookup[(f"{big}2", f"{big}2")] = var[roles[1]]
        lookup[(f"{big}1", f"{big}2")] = cov
    r = case.expected["residual"]
    got = [lookup[(lhs, rhs)] for lhs, rhs in zip(r["lhs"], r["rhs"], strict=True)]
    assert_close_est(got, r["estimate"], case, "residual (co)variance")


@pytest.mark.parametrize("case", POOLED, ids=str)
def test_indistinguishable_residual_covariances_equal_lavaan(case):
    res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    vc = res.variance_components.set_index("name")["estimate"]
    lookup = {}
    for short in ("m", "y"):
        big = short.upper()
        lookup[(f"{big}1", f"{big}1")] = vc[f"residual_variance_{short}"]
        lookup[(f"{big}1", f"{big}2")] = vc[f"residual_covariance_{short}"]
    r = case.expected["residual"]
    got = [lookup[(lhs, rhs)] for lhs, rhs in zip(r["lhs"], r["rhs"], strict=True)]
    assert_close_est(got, r["estimate"], case, "residual (co)variance")


def test_indistinguishable_does_not_depend_on_member_order():
    case = POOLED[0]
    data = case.data
    flipped = data.iloc[np.arange(len(data)).reshape(-1, 2)[:, ::-1].ravel()]
    a = dl.apim_mediation(data, **case.args, bootstrap=300, rng=4).estimates
    b = dl.apim_mediation(flipped, **case.args, bootstrap=0).estimates
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-10)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-10)
    ind = a[a["effect"].str.startswith("indirect")]
    assert (ind["ci_low"] < ind["estimate"]).all() and (ind["estimate"] < ind["ci_high"]).all()


def test_missing_values_are_counted_not_silent():
    case = next(c for c in DIST if "missing" in c.name)
    with pytest.warns(DyadlabWarning, match="2 dyads left out") as record:
        res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    assert [str(w.message) for w in record] == res.warnings
    assert res.extra["n_dyads_dropped"] == 2
    assert any("2 dyads left out" in w for w in res.warnings)


def test_a_dyad_of_three_is_named():
    df = _frame()
    df = pd.concat([df, df.iloc[[0]]], ignore_index=True)
    with pytest.raises(DyadicDataError, match=r"apim_mediation\(\).*first: 0"):
        dl.apim_mediation(df, x="x", m="m", y="y", dyad="couple", bootstrap=0)


def test_a_member_without_a_row_is_counted():
    df = _frame().drop(index=[5])
    with pytest.warns(DyadlabWarning, match="1 dyad left out"):
        res = dl.apim_mediation(df, x="x", m="m", y="y", dyad="couple", role="role", bootstrap=0)
    assert res.n_dyads == 29
    assert any("1 dyad left out" in w and "first: 2" in w for w in res.warnings)
    assert res.n_obs == 2 * res.n_dyads


def test_bootstrap_percentile_cis_cover_and_are_reproducible():
    case = CASES[0]
    a = dl.apim_mediation(case.data, **case.args, bootstrap=1000, rng=3)
    b = dl.apim_mediation(case.data, **case.args, bootstrap=1000, rng=3)
    pd.testing.assert_frame_equal(a.estimates, b.estimates)
    est = a.estimates
    indirect = est[est["effect"].str.startswith(("indirect", "total"))]
    assert (indirect["ci_low"] < indirect["estimate"]).all()
    assert (indirect["estimate"] < indirect["ci_high"]).all()
    # percentile intervals are not the symmetric Wald ones
    wald = dl.apim_mediation(case.data, **case.args, bootstrap=0).estimates
    w = wald[wald["effect"].str.startswith("indirect")]
    assert not np.allclose(w["ci_low"], est.loc[w.index, "ci_low"])
    # and bootstrap SDs are close to the delta-method SEs for this sample size
    assert a.extra["bootstrap"]["resamples"] == 1000


def test_bootstrap_draws_equal_a_refit_of_the_resample():
    g = np.random.default_rng(0)
    x, m, y = (g.normal(size=(40, 2)) for _ in range(3))
    draws, failed = _mediation_fit.bootstrap_effects(x, m, y, 5, np.random.default_rng(9))
    idx = np.random.default_rng(9).integers(0, 40, size=(5, 40))
    one = _mediation_fit.fit(x[idx[2]], m[idx[2]], y[idx[2]])
    assert failed == 0
    np.testing.assert_allclose(draws[2, :12], one.paths, rtol=1e-10)
    np.testing.assert_allclose(draws[2, 12:], _mediation_fit.effects(one.paths), rtol=1e-10)


def test_pooled_bootstrap_draws_equal_a_refit_of_the_resample():
    g = np.random.default_rng(1)
    x, m, y = (g.normal(size=(40, 2)) for _ in range(3))
    draws, _ = _mediation_fit.bootstrap_effects(x, m, y, 4, np.random.default_rng(5), pooled=True)
    idx = np.random.default_rng(5).integers(0, 40, size=(4, 40))
    one = _mediation_fit.fit_pooled(x[idx[3]], m[idx[3]], y[idx[3]])
    assert draws.shape == (4, 14)
    np.testing.assert_allclose(draws[3, :6], one.paths, rtol=1e-10)
    np.testing.assert_allclose(draws[3, 6:], _mediation_fit.effects(one.paths, True), rtol=1e-10)


def test_bootstrap_of_5000_resamples_is_vectorised_and_fast():
    case = CASES[0]
    data = case.data
    t0 = time.perf_counter()
    dl.apim_mediation(data, **case.args, bootstrap=5000, rng=1)
    assert time.perf_counter() - t0 < 10  # loose bound on a shared 2-core machine


def test_effect_names_and_roles():
    case = DIST[1]
    res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    est = res.estimates
    assert set(est["role"]) == {"partner_a", "partner_b"}
    assert set(est.loc[est["effect"].str.startswith("b_"), "predictor"]) == {"support"}
    row = est.set_index(["effect", "role"])
    # the indirect effects sum to the totals
    for r in res.roles:
        tia = row.loc[("total_indirect_actor", r), "estimate"]
        parts = (
            row.loc[("indirect_actor_actor", r), "estimate"]
            + row.loc[("indirect_partner_partner", r), "estimate"]
        )
        assert tia == pytest.approx(parts)
        total = row.loc[("total_actor", r), "estimate"]
        assert total == pytest.approx(tia + row.loc[("direct_actor", r), "estimate"])


def test_to_dict_is_json_and_input_unchanged():
    case = DIST[1]
    data = case.data
    before = data.copy()
    res = dl.apim_mediation(data, **case.args, bootstrap=200, rng=2)
    pd.testing.assert_frame_equal(data, before)
    d = json.loads(res.to_json())
    assert d["model"] == "apim_mediation"
    assert d["bootstrap"]["resamples"] == 200
    assert len(d["estimates"]) == 28
    assert "indirect_actor_actor" in res.summary()


def _frame(n=30, seed=0):
    g = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "couple": np.repeat(np.arange(n), 2),
            "role": np.tile(["a", "b"], n),
            "x": g.normal(size=2 * n),
            "m": g.normal(size=2 * n),
            "y": g.normal(size=2 * n),
        }
    )


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        ({"bootstrap": 10}, OptionError, "at least 100"),
        ({"bootstrap": 1.5}, OptionError, "integer"),
        ({"level": 1.0}, OptionError, "level"),
        ({"m": "x"}, OptionError, "three different"),
        ({"y": "yy"}, DyadicDataError, "'yy'"),
        ({"rng": "seed"}, OptionError, "rng"),
    ],
)
def test_bad_arguments(kw, error, match):
    args = dict(x="x", m="m", y="y", dyad="couple", role="role", bootstrap=0)
    with pytest.raises(error, match=match):
        dl.apim_mediation(_frame(), **{**args, **kw})


def test_role_that_does_not_split_a_dyad_names_it():
    df = _frame()
    df.loc[1, "role"] = "a"
    with pytest.raises(DyadicDataError, match="first: 0"):
        dl.apim_mediation(df, x="x", m="m", y="y", dyad="couple", role="role", bootstrap=0)


def test_too_few_complete_dyads():
    df = _frame(n=8)
    df.loc[df["couple"] < 4, "m"] = np.nan
    with pytest.raises(DyadicDataError, match="at least 6"):
        dl.apim_mediation(df, x="x", m="m", y="y", dyad="couple", role="role", bootstrap=0)


@pytest.mark.parametrize("which", ["distinguishable", "indistinguishable"])
def test_plot_draws_the_path_diagram(which, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    case = DIST[0] if which == "distinguishable" else POOLED[0]
    res = dl.apim_mediation(case.data, **case.args, bootstrap=0)
    fig = res.plot()
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert sum("tension" in t for t in texts) == 2  # X of both members
    a_actor = res.estimates.loc[res.estimates["effect"] == "a_actor", "estimate"].iloc[0]
    assert any(t.startswith(f"{a_actor:.2f}") for t in texts)
    ax.figure.savefig(tmp_path / "paths.png")
    plt.close(ax.figure)


def test_an_exact_fit_is_a_variance_at_its_boundary():
    df = _frame()
    df["y"] = df["x"] + 0.5 * df["m"] + 1.0  # an exact function: residual variance zero
    with pytest.warns(ConvergenceWarning, match="residual variance of 'y'.*is zero"):
        res = dl.apim_mediation(df, x="x", m="m", y="y", dyad="couple", role="role", bootstrap=0)
    assert sum("is zero" in w for w in res.warnings) == 2  # both roles
