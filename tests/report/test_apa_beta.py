"""The β column of the APA tables: b × SD(x) / SD(y), as lavaan's std.all (issue 19).

Reference: tests/reference/apim_standardized.R (lavaan ``standardizedSolution``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.data.datasets import load_acitelli
from dyadlab.exceptions import DyadlabWarning
from dyadlab.report.apa_table import apa_table, standardized_effects
from tests.reference.fixtures import TOL_EST, Case, cases


@pytest.mark.parametrize("case", cases("apim_standardized"), ids=str)
def test_beta_equals_lavaan_std_all(case: Case) -> None:
    data = case.data
    res = dl.apim(data, **case.args, method="sem")
    table = apa_table(res, data=data)
    assert "β" in [c.header for c in table.columns]
    shown = {
        (r.raw["effect"], r.raw["role"]): r for g in table.groups for r in g.rows if "beta" in r.raw
    }
    expected = case.expected["effects"]
    assert len(shown) == len(expected) == 4
    for row in expected:
        got = shown[(row["effect"], row["role"])]
        for key in ("estimate", "beta"):
            np.testing.assert_allclose(
                got.raw[key], row[key], atol=TOL_EST, rtol=TOL_EST, err_msg=case.provenance
            )
        assert got.cells["beta"] == f"{row['beta']:.2f}".replace("-", "\u2212")
    assert any(n.startswith("β = b × SD(x) / SD(y)") for n in table.notes)


def test_beta_pooled_for_indistinguishable_and_absent_where_it_does_not_apply() -> None:
    data = load_acitelli()
    res = dl.apim(data, y="satisfaction", x="tension", dyad="cuplid")
    beta = standardized_effects(res, data)
    b = res.estimates.set_index("effect").loc["actor", "estimate"]
    assert beta[("actor", "tension", None)] == pytest.approx(
        b * data["tension"].std() / data["satisfaction"].std(), rel=1e-12
    )
    assert "(pooled over both members)" in " ".join(apa_table(res, data=data).notes)
    tb = dl.nonindependence(data, variables=["satisfaction"], dyad="cuplid", role="gender")
    assert standardized_effects(tb, data) == {}
    assert "β" not in [c.header for c in apa_table(res).columns]  # no data, no β


def test_diary_beta_in_the_analysis_report() -> None:
    from dyadlab.report.analysis import analysis_sections

    df = dl.simulate_diary(20, 6, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        rep = analysis_sections(
            df, dyad="dyad", person="person", role="role", time="time", y="y", x="x"
        )
    diary = next(s for s in rep.sections if s.title == "Diary APIM").apa[0]
    rows = {(r.raw["effect"], r.raw.get("role")): r.raw for g in diary.groups for r in g.rows}
    wife = df[df["role"] == "wife"]
    husband = df[df["role"] == "husband"]
    expected = rows[("partner", "wife")]["estimate"] * husband["x"].std() / wife["y"].std()
    assert rows[("partner", "wife")]["beta"] == pytest.approx(expected, rel=1e-12)
    assert isinstance(rep.results["diary"].estimates, pd.DataFrame)
