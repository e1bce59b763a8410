"""k = partner / actor: its delta-method SE against lavaan's ``k := p / a`` (and the same
formula on nlme::gls's vcov), and the pattern read only from k's interval.

Fixtures: tests/reference/apim_k.R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.data.datasets import load_acitelli
from dyadlab.exceptions import DyadlabWarning
from dyadlab.models._apim_fit import pattern_of
from tests.reference.fixtures import Case, assert_close_est, assert_close_se, cases


def _k(case: Case) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(case.data, **case.args)
    got = pd.DataFrame(res.extra["k"])
    got["role"] = got["role"].fillna("")
    exp = pd.DataFrame(case.expected["k"])
    exp["role"] = exp["role"].fillna("") if "role" in exp else ""
    merged = exp.merge(got, on=["role", "predictor"], how="left", suffixes=("_r", ""))
    assert len(got) == len(exp), f"{case.name}: {len(got)} k rows, R has {len(exp)}"
    return merged


@pytest.mark.parametrize("case", cases("apim_k"), ids=str)
def test_k_and_its_delta_se_match_r(case: Case) -> None:
    m = _k(case)
    assert_close_est(m["estimate"], m["estimate_r"], case, "k")
    assert_close_se(m["se"], m["se_r"], case, "se of k")
    assert (m["ci_method"] == "delta").all()
    if "ci_low_r" in m:  # lavaan's Wald interval of a defined parameter
        assert_close_se(m["ci_low"], m["ci_low_r"], case, "k ci_low")
        assert_close_se(m["ci_high"], m["ci_high_r"], case, "k ci_high")
    else:  # the MLM: k ± t(df) se
        from scipy import stats

        t = stats.t.ppf(0.975, m["df"])
        assert_close_se(m["ci_high"] - m["estimate"], t * m["se_r"], case, "k half-width")


def test_readme_example_does_not_call_a_significant_partner_effect_negligible() -> None:
    """Issue 20: the README's Acitelli example said 'the partner effect is negligible'
    for a partner effect of -0.162, p = .003."""
    res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
    text = res.summary()
    assert "negligible" not in text
    k = {r["role"]: r for r in res.extra["k"]}
    assert k["-1"]["estimate"] == pytest.approx(0.38865, abs=1e-5)
    assert k["-1"]["se"] == pytest.approx(0.15101, abs=1e-5)
    assert k["-1"]["pattern"] == "mixed"
    assert "tension [-1]: k = 0.389 (SE 0.151), 95% CI [0.093, 0.685] (delta method)" in text


def test_json_keeps_the_contract_keys_and_adds_se() -> None:
    res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
    for row in res.to_dict()["k"]:
        assert {"role", "estimate", "ci_low", "ci_high", "se", "pattern"} <= set(row)
        assert row["ci_low"] < row["estimate"] < row["ci_high"]


def test_bootstrap_interval_replaces_the_delta_interval_but_keeps_the_se() -> None:
    res = dl.apim(
        load_acitelli(),
        y="satisfaction",
        x="tension",
        dyad="cuplid",
        role="gender",
        bootstrap=300,
        rng=1,
    )
    for row in res.extra["k"]:
        assert row["ci_method"] == "bootstrap_percentile"
        assert row["se"] is not None and row["se"] > 0
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert "bootstrap percentile, 300 resamples" in res.summary()


@pytest.mark.parametrize(
    ("lo", "hi", "name"),
    [
        (-0.3, 0.4, "actor-only"),
        (0.6, 1.3, "couple"),
        (-1.4, -0.5, "contrast"),
        (0.3, 0.7, "mixed"),
        (-0.2, 1.2, "undetermined"),
        (-1.2, 1.2, "undetermined"),
        (None, None, "undetermined"),
        (np.nan, np.nan, "undetermined"),
    ],
)
def test_pattern_only_from_the_interval(lo: float | None, hi: float | None, name: str) -> None:
    assert pattern_of(0.1, lo, hi)[0] == name


def test_pattern_never_calls_an_effect_whose_interval_excludes_zero_negligible() -> None:
    # k's interval holds only 0, but the partner effect's own interval excludes 0
    name, text = pattern_of(0.1, -0.05, 0.3, actor_zero=False, partner_zero=False)
    assert name == "undetermined" and "negligible" not in text
    assert pattern_of(0.1, -0.05, 0.3, actor_zero=False, partner_zero=True)[0] == "actor-only"


def test_pattern_with_an_actor_effect_that_may_be_zero() -> None:
    assert pattern_of(5.0, 4.0, 6.0, actor_zero=True, partner_zero=False)[0] == "partner-only"
    assert pattern_of(5.0, 4.0, 6.0, actor_zero=True, partner_zero=True)[0] == "undetermined"


def test_simulated_couple_pattern_is_found_from_its_interval() -> None:
    """Known truth: actor = partner = 0.5 in both roles, 400 dyads."""
    df = dl.simulate_apim(400, actor=0.5, partner=0.5, rng=3)
    res = dl.apim(df, y="y", x="x", dyad="dyad", role="role")
    assert {k["pattern"] for k in res.extra["k"]} == {"couple"}
