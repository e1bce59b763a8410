"""dl.diary(family=...): the dyadic GLMM's behaviour, bad input, warnings, CLI, plot, report."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, DyadlabWarning, OptionError
from dyadlab.models import _glmm_laplace
from dyadlab.models._glmm_family import FAMILIES
from dyadlab.models._glmm_laplace import Blocks, Cholesky, Exchangeable, GlmmProblem
from dyadlab.models._result import ESTIMATE_COLUMNS
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED, REPO

pytestmark = DATA_WARNINGS_EXPECTED

DATA = REPO / "tests" / "reference" / "data"
KEYS = {"y": "y", "x": "x", "dyad": "couple", "person": "pid", "time": "day"}


@pytest.fixture
def binary() -> pd.DataFrame:
    return pd.read_csv(DATA / "glmm_bin_unbalanced.csv")


def test_result_contract_ratios_and_input_unchanged(binary):  # type: ignore[no-untyped-def]
    before = binary.copy()
    res = dl.diary(binary, **KEYS, role="role", family="binomial")
    pd.testing.assert_frame_equal(binary, before)
    assert list(res.estimates.columns) == ESTIMATE_COLUMNS
    assert res.estimation == "Laplace" and res.estimates["df"].isna().all()
    d = res.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["family"] == "binomial" and d["link"] == "logit" and "lme4::glmer" in d["reproduces"]
    ratios = pd.DataFrame(d["odds_ratios"])
    assert len(ratios) == len(res.estimates)
    np.testing.assert_allclose(ratios["ratio"], np.exp(res.estimates["estimate"]))
    np.testing.assert_allclose(ratios["ci_low"], np.exp(res.estimates["ci_low"]))
    vc = res.variance_components
    assert vc["name"].tolist() == ["random_intercept_sd"] * 2 + ["random_intercept_correlation"]
    assert vc["role"].tolist()[:2] == ["h", "w"]
    assert "Odds ratios" in res.summary()
    assert set(res.fit) >= {"loglik", "aic", "bic", "n_params", "converged"}


def test_counts_report_rate_ratios_and_nb_dispersion() -> None:
    d = pd.read_csv(DATA / "glmm_nb.csv")
    with pytest.warns(DyadlabWarning, match="overdispersed"):
        pois = dl.diary(d, **KEYS, role="role", family="poisson")
    assert "rate_ratios" in pois.to_dict() and pois.tests[0]["name"] == "overdispersion"
    assert any("negative_binomial" in w for w in pois.warnings)
    nb = dl.diary(d, **KEYS, role="role", family="negative_binomial")
    assert "nb_dispersion" in nb.variance_components["name"].tolist()
    assert nb.fit["loglik"] > pois.fit["loglik"] + 100
    assert not any("overdispersed" in w for w in nb.warnings)


def test_simulated_truth_is_recovered() -> None:
    rng = np.random.default_rng(7)
    n, days = 400, 20
    u = rng.multivariate_normal([0, 0], [[1.0, 0.5], [0.5, 1.0]], size=n)
    x = rng.normal(size=(n, days, 2))
    eta = -0.3 + 0.7 * x + 0.3 * x[:, :, ::-1] + u[:, None, :]
    y = (rng.random((n, days, 2)) < special.expit(eta)).astype(int)
    df = pd.DataFrame(
        {
            "couple": np.repeat(np.arange(n), days * 2),
            "day": np.tile(np.repeat(np.arange(days), 2), n),
            "pid": np.tile([0, 1], n * days) + 2 * np.repeat(np.arange(n), days * 2),
            "x": x.ravel(),
            "y": y.ravel(),
        }
    )
    res = dl.diary(df, **KEYS, family="binomial")
    est = res.estimates.set_index("effect")["estimate"]
    assert est["actor"] == pytest.approx(0.7, abs=0.08)
    assert est["partner"] == pytest.approx(0.3, abs=0.08)
    vc = res.variance_components.set_index("name")["estimate"]
    assert vc["random_intercept_sd"] == pytest.approx(1.0, abs=0.15)
    assert vc["random_intercept_correlation"] == pytest.approx(0.5, abs=0.15)


@pytest.mark.parametrize(
    ("family", "change", "message"),
    [
        ("binomial", lambda d: d.assign(y=d["y"].where(d.index > 5, 2)), r"other value\(s\): 2"),
        ("binomial", lambda d: d.assign(y=d["y"].map({0: "no", 1: "yes"})), "'no'|'yes'"),
        ("poisson", lambda d: d.assign(y=d["y"].where(d.index > 3, -1)), "negative or not whole"),
        ("poisson", lambda d: d.assign(y=d["y"] + 0.5), "not whole: 1.5, 0.5"),
        ("negative_binomial", lambda d: d.assign(y="many"), "holds text: 'many'"),
    ],
)
def test_bad_outcomes_are_named(binary, family, change, message):  # type: ignore[no-untyped-def]
    with pytest.raises(DyadicDataError, match=message):
        dl.diary(change(binary), **KEYS, role="role", family=family)


@pytest.mark.parametrize(
    "options",
    [
        {"family": "gamma"},
        {"family": "binomial", "residual": "ar1"},
        {"family": "binomial", "random_slopes": True},
        {"family": "binomial", "nagq": 0},
        {"nagq": 5},
    ],
)
def test_bad_options(binary, options):  # type: ignore[no-untyped-def]
    with pytest.raises(OptionError):
        dl.diary(binary, **KEYS, role="role", **options)


def test_separation_names_the_persons_and_a_role(binary):  # type: ignore[no-untyped-def]
    d = binary.copy()
    d.loc[d["pid"] == "3_1", "y"] = 1
    with pytest.warns(DyadlabWarning, match="complete separation"):
        res = dl.diary(d, **KEYS, role="role", family="binomial")
    assert any("(3, '3_1')" in w and "= 1 on every day" in w for w in res.warnings)
    d.loc[d["role"] == "w", "y"] = 0  # a role without a single 1: the intercept diverges
    with pytest.warns(DyadlabWarning, match="drift toward infinity"):
        res = dl.diary(d, **KEYS, role="role", family="binomial")
    assert any("drift toward infinity" in w and "intercept w" in w for w in res.warnings)


def test_non_convergence_is_reported(binary, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(_glmm_laplace, "_MAXITER", 1)
    monkeypatch.setattr(_glmm_laplace, "_NEWTON_STEPS", 0)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = dl.diary(binary, **KEYS, role="role", family="binomial")
    assert res.fit["converged"] is False
    assert any("did not converge" in w for w in res.warnings)


@pytest.mark.parametrize(
    ("family", "structure"),
    [("binomial", Cholesky(2)), ("poisson", Exchangeable()), ("negative_binomial", Cholesky(2))],
)
def test_laplace_gradient_is_exact(family, structure):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    g = np.repeat(np.arange(40), 12)
    m = np.tile([0, 1], 240)
    X = np.column_stack([np.ones(480), rng.normal(size=480)])
    y = rng.poisson(1.0, 480).astype(float) if family != "binomial" else (rng.random(480) < 0.4)
    prob = GlmmProblem(X, np.asarray(y, float), Blocks(g, m), FAMILIES[family], structure)
    x0 = np.r_[
        [0.1, 0.3], structure.start() * 0.7 + 0.2, [0.5][: prob.n_par - 2 - structure.n_theta]
    ]
    _, grad = prob.laplace(x0)
    num = []
    for j in range(len(x0)):
        e = np.zeros_like(x0)
        e[j] = 1e-5
        num.append((prob.laplace(x0 + e, False)[0] - prob.laplace(x0 - e, False)[0]) / 2e-5)
    np.testing.assert_allclose(grad, num, rtol=1e-5, atol=1e-5)


def test_two_dimensional_quadrature_converges_to_the_integral() -> None:
    """AGQ over the partners' two random intercepts against direct numerical integration."""
    rng = np.random.default_rng(4)
    g = np.repeat(np.arange(3), 8)
    m = np.tile([0, 1], 12)
    X = np.ones((24, 1))
    y = (rng.random(24) < 0.5).astype(float)
    prob = GlmmProblem(X, y, Blocks(g, m), FAMILIES["binomial"], Cholesky(2))
    params = np.array([0.2, 1.5, 0.9, 1.1])
    lam = Cholesky(2).lam(params[1:])
    exact = 0.0
    for k in range(3):
        rows = g == k

        def integrand(u1: float, u0: float, rows: np.ndarray = rows) -> float:
            b = lam @ np.array([u0, u1])
            eta = 0.2 + b[m[rows]]
            lp = np.sum(y[rows] * eta - np.logaddexp(0, eta))
            return math.exp(lp - 0.5 * (u0 * u0 + u1 * u1)) / (2 * math.pi)

        exact += math.log(integrate.dblquad(integrand, -8, 8, -8, 8, epsabs=1e-13)[0])
    laplace = prob.agq(params, 1)
    agq = prob.agq(params, 15)
    assert abs(agq - exact) < 1e-6 < abs(laplace - exact)


def test_nagq_option_on_the_dyadic_model(binary):  # type: ignore[no-untyped-def]
    lap = dl.diary(binary, **KEYS, role="role", family="binomial")
    agq = dl.diary(binary, **KEYS, role="role", family="binomial", nagq=5)
    assert agq.estimation == "AGQ" and agq.extra["nagq"] == 5 and agq.fit["converged"]
    assert "nAGQ = 5" in agq.extra["reproduces"]
    np.testing.assert_allclose(agq.estimates["estimate"], lap.estimates["estimate"], atol=0.05)
    assert agq.fit["loglik"] != pytest.approx(lap.fit["loglik"], abs=1e-4)


def test_plot_and_report(binary, tmp_path):  # type: ignore[no-untyped-def]
    from dyadlab.report.glmm_section import glmm_sections

    res = dl.diary(binary, **KEYS, role="role", family="binomial", center="person")
    fig = res.plot()
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["actor_within x", "partner_within x", "actor_between x", "partner_between x"]
    assert len(fig.axes[0].lines) == 2  # one line per role
    with pytest.raises(OptionError, match="not a predictor"):
        res.plot(predictor="nope")
    out = res.report(tmp_path / "r.html")
    assert "data:image/png;base64" in out.read_text(encoding="utf-8")
    yes_no = binary.assign(y=binary["y"].map({0: "no", 1: "yes"}))
    rep = glmm_sections(yes_no, **KEYS, role="role")
    assert rep.sections[0].title == "Diary GLMM: y (binomial)"
    (table,) = rep.sections[0].apa  # the estimates with their odds ratios, one table
    assert [c.header for c in table.columns][:4] == ["b", "SE", "95% CI", "OR"]
    assert rep.sections[0].figures and rep.notes == ["y: yes = 1, no = 0"]


def test_cli_family_json_equals_the_function(capsys, binary):  # type: ignore[no-untyped-def]
    path = DATA / "glmm_bin_unbalanced.csv"
    args = ["--y", "y", "--x", "x", "--dyad", "couple", "--person", "pid", "--time", "day"]
    code = main(["diary", str(path), *args, "--role", "role", "--family", "binomial", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    got = json.loads(out)
    want = dl.diary(binary, **KEYS, role="role", family="binomial").to_dict()
    assert got["estimates"] == want["estimates"] and got["odds_ratios"] == want["odds_ratios"]
    code = main(["diary", str(path), *args, "--role", "role", "--family", "binomial"])
    out, err = capsys.readouterr()
    assert code == 0 and "Odds ratios" in out
    bad = path.parent / "glmm_pois.csv"
    code = main(["diary", str(bad), *args, "--role", "role", "--family", "binomial"])
    out, err = capsys.readouterr()
    assert code == 1 and "coded 0/1" in err and len(err.strip().splitlines()) == 1
