"""dyadlab.survey equals R's survey package (tests/reference/survey.R) to 1e-6 relative.

Every case of tests/reference/fixtures/survey.json builds the design R built
(``svydesign``) and runs the call R ran (``svymean``, ``svytotal``, ``svyratio``,
``svyby``, ``svyciprop``, ``svycontrast``, ``svyglm``, ``regTermTest``) on the
``api`` data and on simulated designs with lonely PSUs and missing values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import dyadlab as dl
from tests.reference import fixtures as reference
from tests.reference.fixtures import _same_shape

# the simulated designs leave respondents with a missing value out of a domain, as R
pytestmark = reference.DATA_WARNINGS_EXPECTED

RTOL = 1e-6
CASES = reference.cases("survey")


def assert_rel(got: Any, expected: Any, case: reference.Case, what: str) -> None:
    g, e = _same_shape(np.atleast_1d(got), np.atleast_1d(expected), case, what)
    # R's NaN (the "average" rule with no stratum to borrow from) must be NaN here too
    bad = ~((np.abs(g - e) <= RTOL * np.abs(e) + 1e-12) | (np.isnan(g) & np.isnan(e)))
    if bad.any():
        raise AssertionError(
            f"{case.name}: {what} differs from R\n got      {g!r}\n expected {e!r}\n"
            f" reference: {case.provenance}"
        )


def run(case: reference.Case) -> Any:
    spec = dict(case.args["design"])
    if "repweights" in spec:  # svrepdesign(): replicate weights given as columns
        spec.pop("lonely_psu")
        d = dl.survey.replicate_design(case.data, **spec)
    else:
        d = dl.survey.design(case.data, **spec)
    op = dict(case.args["op"])
    kind = op.pop("kind")
    if "replicates" in op:  # as.svrepdesign(): jackknife replicates of a Taylor design
        d = d.replicates(op["replicates"])
    if kind in ("mean", "total"):
        return getattr(d, kind)(op["var"], by=op.get("by"))
    if kind == "ratio":
        return d.ratio(op["var"], op["denominator"], by=op.get("by"))
    if kind == "proportion":
        return d.proportion(op["var"], by=op.get("by"), method=op["method"])
    if kind == "quantile":
        return d.quantile(op["var"], op["q"], by=op.get("by"))
    if kind == "chisq":
        return d.chisq(op["a"], op["b"])
    if kind in ("contrast", "joint"):
        res = d.mean(op["var"], by=op["by"])
        return res.contrast(op["weights"]) if kind == "contrast" else res
    return d.glm(op["y"], op["x"], family=op["family"])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_survey_matches_r(case: reference.Case) -> None:
    res = run(case)
    exp = case.expected
    kind = case.args["op"]["kind"]
    est = res.estimates
    if kind == "termtest":
        term = case.args["op"]["term"]
        test = next(t for t in res.tests if t["name"] == f"term:{term}")
        assert_rel(test["statistic"], exp["statistic"], case, "F")
        assert_rel(test["p"], exp["p"], case, "p")
        assert (test["df"], test["ddf"]) == (exp["df"], exp["ddf"]), case.provenance
        return
    if kind == "chisq":
        name = "rao_scott_F" if case.args["op"]["statistic"] == "F" else "rao_scott_chisq"
        test = next(t for t in res.tests if t["name"] == name)
        for key in exp:
            assert_rel(test[key], exp[key], case, f"{name} {key}")
        return
    if kind == "joint":
        assert_rel(est["estimate"], exp["estimate"], case, "estimate")
        assert_rel(res.vcov.ravel(order="F"), exp["vcov"], case, "joint covariance")
        return
    assert_rel(est["estimate"], exp["estimate"], case, "estimate")
    assert_rel(est["se"], exp["se"], case, "se")
    if "group" in exp:
        groups = list(np.atleast_1d(exp["group"]))  # one block of groups per variable
        assert list(est["group"]) == groups * (len(est) // len(groups)), case.provenance
    if "ci_low" in exp:
        assert_rel(est["ci_low"], exp["ci_low"], case, "ci_low")
        assert_rel(est["ci_high"], exp["ci_high"], case, "ci_high")
    if kind == "glm":
        assert list(est["effect"]) == list(np.atleast_1d(exp["effect"])), case.provenance
        assert_rel(est["statistic"], exp["statistic"], case, "t")
        assert_rel(est["p"], exp["p"], case, "p")
        assert_rel(est["df"], np.full(len(est), exp["df"]), case, "df")


def test_every_r_function_is_covered() -> None:
    calls = " ".join(c.call for c in CASES)
    for fn in (
        "svymean",
        "svytotal",
        "svyratio",
        "svyby",
        "svyciprop",
        "svycontrast",
        "svyglm",
        "regTermTest",
        "nest = TRUE",
        "fpc1 + fpc2",
    ):
        assert fn in calls, fn
    lonely = {c.args["design"]["lonely_psu"] for c in CASES}
    assert lonely == {"fail", "remove", "certainty", "adjust", "average"}
