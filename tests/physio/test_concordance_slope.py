"""The multilevel concordance slope reproduces nlme::lme (tests/reference/physio.R)."""

from __future__ import annotations

import pytest

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio import concordance_slope, simulate_concordance
from tests.reference.fixtures import assert_close_est, assert_close_se, cases


@pytest.mark.parametrize("case", cases("physio_slope"), ids=str)
def test_concordance_slope_matches_nlme(case) -> None:  # type: ignore[no-untyped-def]
    res = concordance_slope(case.data, **case.args)
    est = res.estimates
    assert_close_est(est["estimate"], case.expected["estimate"], case)
    assert_close_se(est["se"], case.expected["se"], case)
    assert_close_est(est["df"], case.expected["df"], case, "df")
    assert_close_est(res.fit["loglik"], case.expected["loglik"], case, "loglik")
    vc = res.variance_components.set_index("name")["estimate"]
    got = [vc["sd_intercept"], vc["sd_slope"], vc["cor_intercept_slope"], vc["sd_residual"]]
    want = [case.expected[k] for k in ("sd_intercept", "sd_slope", "cor", "sd_residual")]
    assert_close_est(got, want, case, "variance components")
    assert "nlme::lme" in res.to_dict()["reproduces"]


def test_too_few_persons() -> None:
    d = simulate_concordance(n_dyads=1, n_epochs=20, rng=0)
    with pytest.raises(DyadicDataError, match="at least 3 persons; there are 2"):
        concordance_slope(
            d, subjective="subjective", genital="genital", person="person", time="epoch"
        )


# simulated: one slope for every person, so the slope's variance ends at its boundary
@pytest.mark.filterwarnings("ignore::dyadlab.exceptions.ConvergenceWarning")
def test_method_is_the_deprecated_name_of_estimator() -> None:
    d = simulate_concordance(n_dyads=4, n_epochs=30, r=0.5, rng=2)
    keys = {"subjective": "subjective", "genital": "genital", "person": "person"}
    keys |= {"dyad": "dyad", "time": "epoch"}
    new = concordance_slope(d, **keys, estimator="ML")
    with pytest.warns(FutureWarning, match='method= is deprecated for REML/ML; use estimator="ML'):
        old = concordance_slope(d, **keys, method="ML")
    assert old.to_dict() == new.to_dict()
    assert new.estimation == "ML" and new.to_dict()["call"]["estimator"] == "ML"
