"""dl.power.apim: analytic power as APIMPower, vectorised Monte Carlo, grids, Dask."""

from __future__ import annotations

import json

import numpy as np
import pytest

import dyadlab as dl
from dyadlab.exceptions import OptionError
from dyadlab.models._power_mc import fit_distinguishable, fit_indistinguishable
from tests.reference.fixtures import (
    DATA_WARNINGS_EXPECTED,
    assert_close_est,
    assert_close_se,
    cases,
)

# few Monte Carlo replications on purpose (fast tests): the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = DATA_WARNINGS_EXPECTED

ANALYTIC = [c for c in cases("power_apim") if c.name.startswith("analytic_")]
PUBLISHED = [c for c in cases("power_apim") if c.name.startswith("published_")]
FIT = next(c for c in cases("power_apim") if c.name == "fit_one_dataset")


@pytest.mark.parametrize("case", ANALYTIC, ids=str)
def test_analytic_power_matches_the_formula_in_R(case):
    res = dl.power.apim(**case.args)
    row = res.curve[0]
    assert_close_est(
        [res.power["actor"], res.power["partner"]],
        [case.expected["actor"], case.expected["partner"]],
        case,
        "power",
    )
    assert_close_est(
        [row["ncp_actor"], row["ncp_partner"], row["df"]],
        [case.expected["ncp_actor"], case.expected["ncp_partner"], case.expected["df"]],
        case,
        "ncp",
    )


@pytest.mark.parametrize("case", ANALYTIC, ids=str)
def test_R_refits_agree_with_the_analytic_power(case):
    # R's lm()/gls() Monte Carlo (independent of dyadlab) within 3.5 MC standard errors
    mc = case.expected["montecarlo"]
    for eff in ("actor", "partner"):
        gap = abs(mc[eff] - case.expected[eff])
        assert gap < 3.5 * mc[f"mc_se_{eff}"] + 0.005, (case.name, eff, gap)


@pytest.mark.parametrize("case", PUBLISHED, ids=str)
def test_reproduces_published_apimpower_output(case):
    res = dl.power.apim(**case.args)
    row = res.curve[0]
    half = 0.5 * 10 ** -case.expected["decimals"] + 1e-9
    for eff in ("actor", "partner"):
        assert abs(res.power[eff] - case.expected[eff]) <= half, (eff, res.power[eff])
        assert abs(row[f"ncp_{eff}"] - case.expected[f"ncp_{eff}"]) <= half
    assert row["df"] == case.expected["df"]


def _fit_data():
    a = FIT.args
    return [np.asarray(a[k], dtype=float)[None, :] for k in ("x1", "x2", "y1", "y2")]


def test_analytic_power_of_a_large_study_is_a_number():
    # issue 21: scipy.special.nctdtr returned NaN for the far tail of a large ncp, so a
    # well-powered design (ncp 12.7 here) came out as NaN instead of 1.0
    res = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=2000, alpha=0.001)
    assert res.power["actor"] == pytest.approx(1.0, abs=1e-12)
    assert 0.999 < res.power["partner"] < 1.0
    assert "NaN" not in res.to_json()


def test_vectorised_refit_equals_lm():
    fit = fit_distinguishable(*_fit_data())
    exp = FIT.expected["lm"]
    keys = ["actor1", "partner1", "actor2", "partner2"]
    assert_close_est([fit[k][0] for k in keys], [exp[k] for k in keys], FIT)
    assert_close_se([fit[f"se_{k}"][0] for k in keys], [exp[f"se_{k}"] for k in keys], FIT)


def test_vectorised_refit_equals_nlme_gls_compound_symmetry():
    fit = fit_indistinguishable(*_fit_data())
    exp = FIT.expected["gls"]
    keys = ["intercept", "actor", "partner", "sigma2", "rho"]
    assert_close_est([fit[k][0] for k in keys], [exp[k] for k in keys], FIT)
    assert_close_se(
        [fit["se_actor"][0], fit["se_partner"][0]], [exp["se_actor"], exp["se_partner"]], FIT
    )
    assert float(fit["df"]) == exp["df"]


def test_refit_is_vectorised_over_replications():
    x1, x2, y1, y2 = _fit_data()
    rng = np.random.default_rng(3)
    stack = [np.vstack([v, rng.standard_normal(v.shape)]) for v in (x1, x2, y1, y2)]
    fit = fit_distinguishable(*stack)
    single = fit_distinguishable(*_fit_data())
    assert fit["actor1"].shape == (2,)
    assert fit["actor1"][0] == pytest.approx(single["actor1"][0])


@pytest.mark.parametrize("distinguishable", [True, False])
def test_montecarlo_agrees_with_analytic_within_mc_error(distinguishable):
    kw = dict(
        actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=[40, 80], distinguishable=distinguishable
    )
    ana = dl.power.apim(**kw)
    mc = dl.power.apim(**kw, method="montecarlo", replications=3000, rng=11)
    for a_row, m_row in zip(ana.curve, mc.curve, strict=True):
        for eff in ("actor", "partner"):
            # the analytic formula fixes X at its expected design; refits with random X
            # lose up to about 1.5 points of power, hence the 0.015 allowance
            assert abs(a_row[eff] - m_row[eff]) < 3 * m_row[f"{eff}_mc_se"] + 0.015


def test_montecarlo_type_one_error_is_alpha():
    res = dl.power.apim(
        actor=0.0,
        partner=0.0,
        r_x=0.4,
        r_e=0.4,
        dyads=30,
        method="montecarlo",
        replications=4000,
        rng=5,
    )
    for eff in ("actor", "partner"):
        assert abs(res.power[eff] - 0.05) < 4 * res.curve[0][f"{eff}_mc_se"]


def test_montecarlo_is_reproducible_with_rng():
    kw = dict(
        actor=0.2,
        partner=0.1,
        r_x=0.2,
        r_e=0.2,
        dyads=[30, 60],
        method="montecarlo",
        replications=500,
    )
    a = dl.power.apim(**kw, rng=1)
    b = dl.power.apim(**kw, rng=np.random.default_rng(2))
    assert a.power == dl.power.apim(**kw, rng=1).power
    assert a.power != b.power


class FakeClient:
    """Implements the two Client methods power.apim uses."""

    def __init__(self):
        self.mapped = 0

    def map(self, func, *columns, pure=True):
        tasks = list(zip(*columns, strict=True))
        self.mapped += len(tasks)
        return [func(*t) for t in tasks]

    def gather(self, futures):
        return list(futures)


def test_grid_runs_on_a_client_with_the_same_numbers():
    kw = dict(
        actor=0.3,
        partner=0.1,
        r_x=0.3,
        r_e=0.2,
        dyads=[20, 40, 60],
        method="montecarlo",
        replications=300,
        rng=4,
    )
    client = FakeClient()
    remote = dl.power.apim(**kw, client=client)
    assert client.mapped == 3
    assert remote.power == dl.power.apim(**kw).power


def test_client_without_map_is_an_option_error():
    with pytest.raises(OptionError, match="client"):
        dl.power.apim(
            actor=0.3,
            partner=0.1,
            r_x=0.3,
            r_e=0.2,
            dyads=[20, 40],
            method="montecarlo",
            replications=100,
            rng=1,
            client=object(),
        )


def test_grid_gives_a_curve_and_plots(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    res = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=[25, 50, 100, 200])
    assert res.dyads == [25, 50, 100, 200]
    assert np.all(np.diff(res.power["actor"]) > 0)
    d = res.to_dict()
    assert [row["dyads"] for row in d["curve"]] == [25, 50, 100, 200]
    fig = res.plot()
    assert len(fig.axes[0].lines) >= 2
    fig.savefig(tmp_path / "curve.png")
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_to_dict_contract_and_summary():
    res = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=100)
    d = json.loads(res.to_json())
    assert d["model"] == "power_apim"
    assert d["dyadlab_version"] == dl.__version__
    assert set(d["power"]) == {"actor", "partner"}
    assert d["method"] == "analytic" and d["dyads"] == 100 and d["alpha"] == 0.05
    assert {"r_x", "r_e", "actor", "partner", "distinguishable", "df", "ncp"} <= set(d)
    assert "curve" not in d
    assert "0.856" in res.summary()


def test_indistinguishable_uses_residual_correlation():
    kw = dict(actor=0.3, partner=0.15, r_x=0.3, dyads=60, distinguishable=False)
    low = dl.power.apim(**kw, r_e=-0.3).power["partner"]
    high = dl.power.apim(**kw, r_e=0.6).power["partner"]
    assert low != high
    same = dl.power.apim(**{**kw, "distinguishable": True}, r_e=-0.3).power
    assert same == dl.power.apim(**{**kw, "distinguishable": True}, r_e=0.6).power


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"r_x": 1.0}, "r_x"),
        ({"r_e": -1.2}, "r_e"),
        ({"dyads": 2}, "at least 4"),
        ({"dyads": [50, 2.5]}, "whole number"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"actor": 0.9, "partner": 0.5}, "residual variance"),
        ({"method": "exact"}, "analytic"),
        ({"method": "montecarlo", "replications": 5}, "replications"),
        ({"actor": float("nan")}, "finite"),
    ],
)
def test_bad_arguments_are_option_errors(kw, match):
    args = dict(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=100)
    with pytest.raises(OptionError, match=match):
        dl.power.apim(**{**args, **kw})


def test_grid_on_a_real_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    kw = dict(
        actor=0.3,
        partner=0.1,
        r_x=0.3,
        r_e=0.2,
        dyads=[20, 40],
        method="montecarlo",
        replications=300,
        rng=8,
    )
    cluster = distributed.LocalCluster(processes=False, n_workers=1, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        remote = dl.power.apim(**kw, client=client)
    assert remote.power == dl.power.apim(**kw).power


def _blocks(text):
    """Fenced blocks of a markdown text as (language, body) pairs."""
    out, lang, body = [], None, None
    for line in text.splitlines():
        if line.startswith("```"):
            if body is None:
                lang, body = line[3:].strip(), []
            else:
                out.append((lang, "\n".join(body)))
                body = None
        elif body is not None:
            body.append(line)
    return out


def test_tutorial_examples_run_and_print_what_the_page_shows(tmp_path, monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "power.md"
    blocks = _blocks(page.read_text())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    ran = 0
    for i, (lang, body) in enumerate(blocks):
        if lang != "python":
            continue
        exec(compile(body, f"power.md block {i}", "exec"), namespace)
        ran += 1
        printed = capsys.readouterr().out
        if i + 1 < len(blocks) and blocks[i + 1][0] == "" and printed:
            for line in blocks[i + 1][1].splitlines():
                assert line.strip() in printed, (i, line)
    assert ran >= 6
    import matplotlib.pyplot as plt

    plt.close("all")
