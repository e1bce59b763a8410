"""Penile strain gauge calibration: mm per volt, R², Δmm from baseline."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio import calibrate_gauge, circumference_change


def test_calibration_recovers_a_known_line() -> None:
    volts = np.array([0.2, 0.6, 1.0, 1.4])
    noise = np.array([0.3, -0.2, -0.3, 0.2])
    mm = 70.0 + 40.0 * volts + noise
    cal = calibrate_gauge(volts, mm)
    slope, intercept = np.polyfit(volts, mm, 1)
    assert cal.mm_per_volt == pytest.approx(slope)
    assert cal.intercept_mm == pytest.approx(intercept)
    assert cal.mm_per_volt == pytest.approx(40.0, abs=1.0)
    r = np.corrcoef(volts, mm)[0, 1]
    assert cal.r_squared == pytest.approx(r**2)
    assert cal.to_dict()["n_points"] == 4
    np.testing.assert_allclose(cal.points["residual_mm"].sum(), 0, atol=1e-9)


def test_two_points_are_enough() -> None:
    cal = calibrate_gauge([0.5, 1.5], [90.0, 130.0])
    assert cal.mm_per_volt == pytest.approx(40.0)
    assert cal.r_squared == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("volts", "mm", "message"),
    [
        ([0.5], [90.0], "at least 2 known circumferences, got 1"),
        ([0.5, 0.5], [90.0, 100.0], "same voltage"),
        ([0.5, 0.7], [90.0], "2 readings but 1 circumferences"),
    ],
)
def test_bad_calibrations(volts: list[float], mm: list[float], message: str) -> None:
    with pytest.raises(DyadicDataError, match=message):
        calibrate_gauge(volts, mm)


def test_change_from_baseline() -> None:
    cal = calibrate_gauge([0.0, 1.0], [80.0, 120.0])
    v = np.concatenate([np.full(10, 0.5), np.full(10, 0.75)])
    d = circumference_change(v, cal, sampling_rate=5.0, baseline=(0.0, 2.0))
    np.testing.assert_allclose(d[:10], 0.0, atol=1e-9)
    np.testing.assert_allclose(d[10:], 10.0)
    with pytest.raises(DyadicDataError, match="holds no sample"):
        circumference_change(v, cal, sampling_rate=5.0, baseline=(100.0, 200.0))
