"""Agreement coefficients against published values and R psych fixtures.

Sources: Krippendorff (2011), "Computing Krippendorff's alpha-reliability" (4 coders ×
12 units: nominal .743, ordinal .815, interval .849, ratio .797) and the 3 × 15
reliability data of the Wikipedia article's worked example (nominal α = 0.691358,
interval α = 0.810845, also the values fast-krippendorff tests); Shrout & Fleiss (1979)
Table 2 (6 targets × 4 judges) and Table 4; psych::cohen.kappa / psych::ICC fixtures
from tests/reference/observe.R.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.observe._kappa import agreement_weights, cohen_kappa
from dyadlab.observe._krippendorff import difference_matrix, krippendorff_alpha
from tests.reference import fixtures as reference

# the data leave rows out or have small cells on purpose: the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = reference.DATA_WARNINGS_EXPECTED

NAN = np.nan
WIKI = [
    [NAN, NAN, NAN, NAN, NAN, 3, 4, 1, 2, 1, 1, 3, 3, NAN, 3],
    [1, NAN, 2, 1, 3, 3, 4, 3, NAN, NAN, NAN, NAN, NAN, NAN, NAN],
    [NAN, NAN, 2, 1, 3, 4, 4, NAN, 2, 1, 1, 3, 3, NAN, 4],
]
K2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def _long(matrix: list[list[float]]) -> pd.DataFrame:
    rows = [
        (u, f"c{c}", v)
        for c, coder in enumerate(matrix)
        for u, v in enumerate(coder)
        if not np.isnan(v)
    ]
    return pd.DataFrame(rows, columns=["unit", "coder", "code"])


@pytest.mark.parametrize(
    ("data", "level", "expected", "digits"),
    [
        (WIKI, "nominal", 0.691358, 6),
        (WIKI, "interval", 0.810845, 6),
        (K2011, "nominal", 0.743, 3),
        (K2011, "ordinal", 0.815, 3),
        (K2011, "interval", 0.849, 3),
        (K2011, "ratio", 0.797, 3),
    ],
)
def test_krippendorff_published(data, level, expected, digits):
    res = dl.observe.agreement(
        _long(data), unit="unit", coder="coder", code="code", method="krippendorff", level=level
    )
    assert res.estimates.shape == (1, 10)
    assert res.estimates.loc[0, "effect"] == "krippendorff_alpha"
    assert round(res.estimates.loc[0, "estimate"], digits) == expected
    assert res.estimates.loc[0, "ci_low"] < expected < res.estimates.loc[0, "ci_high"]


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_krippendorff_jackknife_equals_a_loop(level):
    d = np.array(K2011).T
    vals = np.unique(d[~np.isnan(d)])
    counts = np.stack([(d == v).sum(1) for v in vals], 1)
    _, se = krippendorff_alpha(counts, vals, level)
    keep = counts.sum(1) >= 2
    loo = [
        krippendorff_alpha(np.delete(counts[keep], i, axis=0), vals, level)[0]
        for i in range(keep.sum())
    ]
    m = len(loo)
    expected = np.sqrt((m - 1) / m * ((np.array(loo) - np.mean(loo)) ** 2).sum())
    assert se == pytest.approx(expected, rel=1e-10)
    assert difference_matrix(vals, counts.sum(0), level).shape == (5, 5)


def test_shrout_fleiss_table4():
    df = pd.DataFrame(
        [(t, j, v) for t, row in enumerate(SHROUT_FLEISS) for j, v in enumerate(row)],
        columns=["target", "judge", "rating"],
    )
    res = dl.observe.icc(df, target="target", rater="judge", value="rating")
    assert res.estimates["effect"].tolist() == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    # Shrout & Fleiss (1979), Table 4: .17 .29 .71 .44 .62 .91
    np.testing.assert_allclose(
        res.estimates["estimate"], [0.166, 0.290, 0.715, 0.443, 0.620, 0.909], atol=6e-4
    )


@pytest.mark.parametrize("case", reference.cases("observe")[:2], ids=str)
def test_cohen_matches_psych(case):
    res = dl.observe.agreement(case.data, **case.args, method="cohen")
    row = res.estimates.iloc[0]
    e = case.expected
    reference.assert_close_est([row["estimate"]], [e["kappa"]], case)
    reference.assert_close_est([row["se"] ** 2], [e["var_kappa"]], case, "variance")
    reference.assert_close_est([row["ci_low"], row["ci_high"]], [e["ci_low"], e["ci_high"]], case)
    weighted = dl.observe.agreement(case.data, **case.args, method="cohen", weights="quadratic")
    reference.assert_close_est([weighted.estimates.loc[0, "estimate"]], [e["weighted_kappa"]], case)


def test_icc_matches_psych():
    (case,) = [c for c in reference.cases("observe") if c.model == "observe_icc"]
    res = dl.observe.icc(case.data, **case.args)
    e = case.expected
    assert res.estimates["effect"].tolist() == e["effect"]
    for got, want in [
        ("estimate", "estimate"),
        ("statistic", "statistic"),
        ("p", "p"),
        ("ci_low", "ci_low"),
        ("ci_high", "ci_high"),
        ("df", "df1"),
    ]:
        reference.assert_close_est(res.estimates[got], e[want], case, got)


def test_weighted_variance_reduces_to_unweighted():
    rng = np.random.default_rng(3)
    table = rng.integers(1, 30, size=(4, 4))
    assert cohen_kappa(table, agreement_weights(4, "none")) == pytest.approx(cohen_kappa(table))


def test_fleiss_and_gwet_two_coders():
    # with two coders and no missing codes Fleiss' kappa is Scott's pi
    df = pd.DataFrame(
        {"unit": np.repeat(np.arange(6), 2), "coder": ["a", "b"] * 6, "code": list("xxyyxyyyxxyx")}
    )
    pi = dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="fleiss")
    po, px = 4 / 6, 6 / 12
    assert pi.estimates.loc[0, "estimate"] == pytest.approx((po - (px**2 + px**2)) / (1 - 0.5))
    ac1 = dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="gwet")
    # AC1 with two categories: pe = 2 π(1-π) = 0.5
    assert ac1.estimates.loc[0, "estimate"] == pytest.approx((po - 0.5) / 0.5)


def test_one_coder_only_names_unit_and_coder():
    df = pd.DataFrame({"unit": [1, 1, 2], "coder": ["A", "B", "A"], "code": ["x", "y", "x"]})
    with pytest.raises(DyadicDataError, match=r"unit 2, coded by coder 'A' only"):
        dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="cohen")
    with pytest.raises(OptionError, match="method"):
        dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="kappa")
    with pytest.raises(DyadicDataError, match="at least 2 coders"):
        dl.observe.agreement(df[df.coder == "A"], unit="unit", coder="coder", code="code")


def test_result_json_contract():
    res = dl.observe.agreement(
        _long(WIKI), unit="unit", coder="coder", code="code", method="krippendorff"
    )
    out = res.to_dict()
    assert out["model"] == "observe_agreement"
    assert [r["effect"] for r in out["estimates"]] == ["krippendorff_alpha"]
    assert out["n_coders"] == 3


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_replicates_equal_alpha_of_resampled_units(level):
    from dyadlab.observe._krippendorff import alpha_replicates

    rng = np.random.default_rng(3)
    counts = rng.integers(0, 3, (60, 4))
    counts = counts[counts.sum(axis=1) >= 2]
    values = np.array([1.0, 2.0, 4.0, 7.0])
    patterns, inverse = np.unique(counts, axis=0, return_inverse=True)
    draws = [rng.integers(0, len(counts), len(counts)) for _ in range(3)]
    weights = np.array([np.bincount(inverse.ravel()[d], minlength=len(patterns)) for d in draws])
    got = alpha_replicates(patterns, weights, values, level)
    want = [krippendorff_alpha(counts[d], values, level)[0] for d in draws]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_krippendorff_bootstrap_interval():
    df = _long(K2011)
    jack = dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="krippendorff")
    boot = dl.observe.agreement(
        df,
        unit="unit",
        coder="coder",
        code="code",
        method="krippendorff",
        ci="bootstrap",
        n_boot=4000,
        rng=7,
    )
    j, b = jack.estimates.iloc[0], boot.estimates.iloc[0]
    assert b["estimate"] == j["estimate"]
    assert b["ci_low"] < b["estimate"] < b["ci_high"] <= 1.0
    # a percentile interval, not estimate ± z·se
    assert b["ci_high"] - b["estimate"] != pytest.approx(b["estimate"] - b["ci_low"], rel=1e-3)
    assert b["se"] == pytest.approx(j["se"], rel=0.35)
    again = dl.observe.agreement(
        df,
        unit="unit",
        coder="coder",
        code="code",
        method="krippendorff",
        ci="bootstrap",
        n_boot=4000,
        rng=7,
    )
    pd.testing.assert_frame_equal(boot.estimates, again.estimates)
    assert "bootstrap" in boot.estimation
    with pytest.raises(OptionError, match="method='krippendorff' only"):
        dl.observe.agreement(
            df, unit="unit", coder="coder", code="code", method="gwet", ci="bootstrap"
        )
