"""The reference helpers fail on an empty or misaligned selection, not only on numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.reference.fixtures import (
    Case,
    assert_close_est,
    assert_close_se,
    assert_within_mc_error,
    cases,
)

CALL = "nlme::gls(y ~ x)"
CASE = Case("demo", "demo", CALL, f"{CALL}  [R 4.x; nlme]", "repo:none", {}, {})
EST = pd.DataFrame({"effect": ["actor", "partner"], "estimate": [0.5, 0.25]})


@pytest.mark.parametrize("check", [assert_close_est, assert_close_se])
def test_an_empty_selection_fails_against_a_number(check) -> None:  # type: ignore[no-untyped-def]
    empty = EST.loc[EST["effect"] == "actr", "estimate"]  # a typo selects nothing
    with pytest.raises(AssertionError, match=r"shape \(0,\), R has \(\)"):
        check(empty, 0.5, CASE)
    with pytest.raises(AssertionError, match="empty or misaligned"):
        check([], [], CASE)


@pytest.mark.parametrize("check", [assert_close_est, assert_close_se])
def test_a_shape_mismatch_fails(check) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AssertionError, match=r"shape \(2,\), R has \(3,\)"):
        check(EST["estimate"], [0.5, 0.25, 0.1], CASE)
    with pytest.raises(AssertionError, match="nlme::gls"):  # the failure names the R call
        check(EST["estimate"], [0.5], CASE)


def test_equal_values_pass_and_unequal_fail() -> None:
    assert_close_est(EST["estimate"], [0.5, 0.25], CASE)
    assert_close_se(EST["estimate"], [0.5, 0.25], CASE)
    assert_close_est(EST["estimate"], [0.5, 0.2501], CASE)  # within 1e-4
    with pytest.raises(AssertionError, match="differs from R"):
        assert_close_est(EST["estimate"], [0.5, 0.2502], CASE)
    with pytest.raises(AssertionError, match="differs from R"):
        assert_close_se(EST["estimate"], [0.5, 0.2504], CASE)  # 1e-3 relative is 2.5e-4
    with pytest.raises(AssertionError, match="differs from R"):
        assert_close_est([np.nan], [0.0], CASE)  # NaN never passes


def test_monte_carlo_helper_checks_shapes() -> None:
    assert_within_mc_error([0.8], [0.01], [0.81], [0.01], CASE)
    with pytest.raises(AssertionError, match="empty or misaligned"):
        assert_within_mc_error([], [], [0.8], [0.01], CASE)


def test_bundled_data_cases_need_no_shared_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Acitelli reference cases read the copy in the package, never ../shared."""
    monkeypatch.setenv("DYADLAB_SHARED_DIR", "/nonexistent")
    acitelli = [
        c
        for m in ("apim_sem", "apim_mlm", "nonindependence")
        for c in cases(m)
        if "acitelli" in c.data_spec
    ]
    assert acitelli and all(c.data_spec.startswith("repo:src/dyadlab/") for c in acitelli)
    assert len(acitelli[0].data) > 0  # reads without skipping
