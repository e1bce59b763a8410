"""apim() on small, degenerate data: a DyadlabError or a fit with warnings, never a raw
numpy/scipy exception (LinAlgError, ZeroDivisionError, IndexError, ...)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadicDataError, DyadlabError, DyadlabWarning


def _fit(df: pd.DataFrame, **kw: object) -> dl.models.apim.ApimResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return dl.apim(df, y="y", dyad="dyad", person="person", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", ["role", None])
@pytest.mark.parametrize("method", ["sem", "mlm"])
def test_six_dyads_nearly_collinear_predictor_warns(role: str | None, method: str) -> None:
    df = dl.simulate_apim(6, rng=1)
    df["x2"] = df["x"] + np.random.default_rng(2).normal(scale=1e-7, size=len(df))
    res = _fit(df, x=["x", "x2"], role=role, method=method)
    assert any("nearly collinear" in w for w in res.warnings)
    if method == "sem":
        assert res.fit["converged"] is False
        assert any("did not converge" in w for w in res.warnings)


def test_singular_information_gives_nan_se_and_a_warning() -> None:
    df = dl.simulate_apim(6, rng=1)
    df["x2"] = df["x"] + np.random.default_rng(2).normal(scale=1e-6, size=len(df))
    res = _fit(df, x=["x", "x2"], method="sem")
    assert res.fit["converged"] is False
    assert any("information matrix is singular" in w for w in res.warnings)
    assert res.estimates["se"].isna().all()
    # no Wald test without standard errors; no absurd LR statistic either
    assert all(t["method"] != "wald" for t in res.tests)
    assert all(np.isfinite(t["statistic"]) and t["statistic"] < 1e12 for t in res.tests)


@pytest.mark.parametrize(
    ("n", "role", "method"),
    [(3, "role", "sem"), (2, None, "sem"), (2, None, "mlm"), (3, "role", "mlm")],
)
def test_too_few_dyads_is_a_clear_error(n: int, role: str | None, method: str) -> None:
    df = dl.simulate_apim(n, rng=1, n_predictors=2)
    with pytest.raises(DyadicDataError, match=r"only \d+ .*Add dyads"):
        _fit(df, x=["x1", "x2"], role=role, method=method)


def test_outcome_of_one_role_too_sparse_is_a_clear_error() -> None:
    df = dl.simulate_apim(8, rng=4)
    df.loc[(df["role"] == "wife") & (df["dyad"] > 2), "y"] = np.nan
    with pytest.raises(DyadicDataError, match="outcome values of the wife members"):
        _fit(df, x="x", role="role", method="sem")


def test_bootstrap_on_few_dyads_gives_intervals_or_none() -> None:
    df = dl.simulate_apim(5, rng=3)
    res = _fit(df, x="x", role="role", method="mlm", bootstrap=50, rng=1)
    for k in res.extra["k"]:
        assert k["ci_low"] is None or np.isfinite(k["ci_low"])


@st.composite
def small_frames(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, Any]]:
    n = draw(st.integers(2, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    df = dl.simulate_apim(n, rng=rng, n_predictors=draw(st.integers(1, 2)))
    xs = [c for c in df.columns if c.startswith("x")]
    if draw(st.booleans()):
        df["x_dup"] = df[xs[0]]
        xs.append("x_dup")
    if draw(st.booleans()):
        df["x_near"] = df[xs[0]] + rng.normal(scale=1e-8, size=len(df))
        xs.append("x_near")
    if draw(st.booleans()):
        df["x_const"] = 2.0
        xs.append("x_const")
    extra: dict[str, Any] = {}
    if draw(st.booleans()):  # a person- or dyad-level covariate
        person_level = draw(st.booleans())
        df["cov"] = rng.normal(size=len(df)) if person_level else np.repeat(rng.normal(size=n), 2)
        extra["covariates"] = "cov"
    if draw(st.booleans()):  # a between- or within-dyad moderator
        within = draw(st.booleans())
        df["mod"] = rng.normal(size=len(df)) if within else np.repeat(rng.normal(size=n), 2)
        extra["moderator"] = "mod"
    share = draw(st.sampled_from([0.0, 0.1, 0.3, 0.6]))
    for c in ["y", *xs, *extra.values()]:
        df.loc[rng.random(len(df)) < share, c] = np.nan
    if draw(st.booleans()) and draw(st.booleans()):
        df.loc[df.index[0], draw(st.sampled_from(["y", *xs]))] = draw(
            st.sampled_from([np.inf, -np.inf])
        )
    return df, {
        "x": xs,
        "role": draw(st.sampled_from(["role", None])),
        "method": draw(st.sampled_from(["sem", "mlm"])),
        "bootstrap": draw(st.sampled_from([0, 0, 30])),
        "missing": draw(st.sampled_from(["ml", "listwise"])),
        **extra,
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_frames())
def test_small_random_frames_fit_or_raise_dyadlab_error(
    case: tuple[pd.DataFrame, dict[str, Any]],
) -> None:
    df, options = case
    try:
        with np.errstate(all="raise"):  # numpy floating warnings may not leak either
            res = _fit(df, rng=1, **options)
    except DyadlabError:
        return
    res.summary()
    res.to_json()
    assert res.n_dyads >= 2


def test_cli_too_few_dyads_exits_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "few.csv"
    dl.simulate_apim(3, rng=1, n_predictors=2).to_csv(path, index=False)
    args = ["apim", str(path), "--y", "y", "--x", "x1", "--x", "x2", "--dyad", "dyad"]
    code = main([*args, "--role", "role"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("dyadlab: error: apim(): only 3 dyads")


@pytest.mark.parametrize("column", ["y", "x"])
def test_infinite_values_are_a_clear_error(column: str) -> None:
    df = dl.simulate_apim(20, rng=1)
    df.loc[3, column] = np.inf
    with pytest.raises(
        DyadicDataError, match=rf"column '{column}' has 1 infinite value\(s\) \(rows 3\)"
    ):
        _fit(df, x="x", role="role", method="sem")


def test_moment_rank_screen_defers_to_the_rows_when_nearly_collinear() -> None:
    from dyadlab.models._apim_fit import _check_rank, _well_conditioned

    rng = np.random.default_rng(4)
    x = rng.normal(size=(500, 2))
    assert _well_conditioned(x.mean(axis=0), np.cov(x.T, bias=True))
    x[:, 1] = x[:, 0] + 1e-5 * rng.normal(size=500)  # condition number about 1e5
    assert not _well_conditioned(x.mean(axis=0), np.cov(x.T, bias=True))
    design = np.column_stack([np.ones(500), x])
    assert _check_rank(design, ["intercept", "a", "b"]) is not None  # the rows warn
