"""Sequential analysis against Griffin & Gottman (1990) and known identities.

Source: Griffin, W. A., & Gottman, J. M. (1990). Statistical methods for analyzing
family interaction. In G. R. Patterson (Ed.), Family social interaction (pp. 130–168),
p. 137: husband/wife lag-1 frequency table of codes H+, Ho, H−, W+, Wo, W−; its adjusted
residual Ho → Wo is 6.26 (the table is the example of LagSequential's ``sequential()``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadicDataError
from dyadlab.observe._lag_tables import _hat_diagonal, ipf_expected, table_statistics
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# the data leave rows out or have small cells on purpose: the DyadlabWarning saying so
# is expected here (tests/models/test_warning_policy.py checks it is issued)
pytestmark = DATA_WARNINGS_EXPECTED

CODES = ["H+", "Ho", "H-", "W+", "Wo", "W-"]
GRIFFIN_GOTTMAN = np.array(
    [
        [0, 0, 0, 0, 2, 2],
        [0, 10, 5, 5, 60, 20],
        [0, 9, 2, 1, 3, 0],
        [0, 3, 0, 1, 5, 0],
        [3, 54, 6, 2, 24, 8],
        [1, 24, 2, 1, 3, 12],
    ]
)


def _sequence_with_table(table: np.ndarray) -> list[int]:
    """An Eulerian walk whose lag-1 table is ``table`` (each pair becomes its own session)."""
    return [
        (i, j) for i in range(len(table)) for j in range(len(table)) for _ in range(table[i, j])
    ]


def test_griffin_gottman_adjusted_residual():
    pairs = _sequence_with_table(GRIFFIN_GOTTMAN)
    df = pd.DataFrame(
        {
            "session": np.repeat(np.arange(len(pairs)), 2),
            "code": [CODES[c] for p in pairs for c in p],
        }
    )
    res = dl.observe.sequential(df, session="session", code="code")
    pooled = res.table[res.table["session"].isna()].set_index(["given", "target"])
    assert len(pooled) == 36
    counts = pooled["count"].unstack().loc[sorted(CODES), sorted(CODES)]
    order = [sorted(CODES).index(c) for c in CODES]
    np.testing.assert_array_equal(counts.to_numpy()[np.ix_(order, order)], GRIFFIN_GOTTMAN)
    assert round(pooled.loc[("Ho", "Wo"), "adjusted_residual"], 2) == 6.26
    q = pooled.loc[("Ho", "Wo"), "yules_q"]
    a, b, c, d = 60, 40, 37, 131
    assert q == pytest.approx((a * d - b * c) / (a * d + b * c))
    assert pooled.loc[("Ho", "Wo"), "odds_ratio"] == pytest.approx(a * d / (b * c))


def test_per_session_tables_sum_to_pooled_and_lag2():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"couple": np.repeat([1, 2, 3], 50), "code": rng.choice(list("abc"), 150)})
    res = dl.observe.sequential(df, session="couple", code="code", lag=2)
    t = res.table
    per = t[t["session"].notna()].groupby(["given", "target"])["count"].sum()
    pooled = t[t["session"].isna()].set_index(["given", "target"])["count"]
    pd.testing.assert_series_equal(per.sort_index(), pooled.sort_index(), check_names=False)
    assert pooled.sum() == 3 * 48
    first = df[df.couple == 1]["code"].tolist()
    n_ab = sum(1 for i in range(48) if first[i] == "a" and first[i + 2] == "b")
    assert t[(t.session == 1) & (t.given == "a") & (t.target == "b")]["count"].item() == n_ab
    assert res.estimates["effect"].eq("yules_q").all() and len(res.estimates) == 9


def test_structural_zeros_ipf_margins_and_df():
    allowed = ~np.eye(6, dtype=bool)
    x = (GRIFFIN_GOTTMAN * allowed)[None]
    e = ipf_expected(x, allowed)
    np.testing.assert_allclose(e.sum(axis=2), x.sum(axis=2), atol=1e-8)
    np.testing.assert_allclose(e.sum(axis=1), x.sum(axis=1), atol=1e-8)
    assert (e[0][~allowed] == 0).all()
    # with no structural zeros, the hat-matrix residual is Haberman's formula
    full = np.ones((6, 6), dtype=bool)
    st = table_statistics(GRIFFIN_GOTTMAN[None])
    h = _hat_diagonal(st["expected"], full)
    resid = (GRIFFIN_GOTTMAN - st["expected"]) / np.sqrt(st["expected"] * (1 - h))
    np.testing.assert_allclose(resid, st["adjusted_residual"], rtol=1e-8)


def test_structural_zero_df_and_error():
    df = pd.DataFrame({"s": [1] * 8, "code": list("abcabcba")})
    res = dl.observe.sequential(df, session="s", code="code", structural_zeros="diagonal")
    assert res.tests[0]["df"] == (3 - 1) ** 2 - 3
    bad = pd.DataFrame({"s": [7] * 3, "code": list("aab")})
    with pytest.raises(DyadicDataError, match="session 7"):
        dl.observe.sequential(bad, session="s", code="code", structural_zeros="diagonal")
