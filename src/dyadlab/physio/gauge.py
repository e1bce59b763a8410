"""Penile strain gauge: per-session calibration (mm per volt) and change from baseline.

Before each session the gauge is placed on cones or rods of known circumference and
the voltage read at each; a least-squares line gives millimetres per volt, its
intercept and R². The session's signal in volts then becomes circumference in mm and
its change (Δmm) from the mean of a baseline window.

Examples
--------
>>> cal = calibrate_gauge([0.10, 0.52, 0.95], [85.0, 104.0, 125.0])
>>> round(cal.mm_per_volt, 1), round(cal.r_squared, 4)
(47.1, 0.9995)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError

__all__ = ["GaugeCalibration", "calibrate_gauge", "circumference_change"]


@dataclass(frozen=True)
class GaugeCalibration:
    """A strain gauge's calibration line: ``mm = intercept_mm + mm_per_volt * volts``.

    Attributes
    ----------
    mm_per_volt, intercept_mm : float
    r_squared : float
        Share of the circumferences' variance the line explains (1 with two points).
    points : DataFrame
        ``volts``, ``circumference_mm``, ``fitted_mm``, ``residual_mm``.
    """

    mm_per_volt: float
    intercept_mm: float
    r_squared: float
    points: pd.DataFrame

    def to_mm(self, volts: np.ndarray | Sequence[float]) -> np.ndarray:
        """Circumference in mm for signal values in volts."""
        return self.intercept_mm + self.mm_per_volt * np.asarray(volts, dtype=float)

    def to_dict(self) -> dict[str, float | int]:
        """The numbers to store with the session."""
        return {
            "mm_per_volt": self.mm_per_volt,
            "intercept_mm": self.intercept_mm,
            "r_squared": self.r_squared,
            "n_points": len(self.points),
        }


def calibrate_gauge(
    volts: Sequence[float] | np.ndarray, circumference_mm: Sequence[float] | np.ndarray
) -> GaugeCalibration:
    """Fit the calibration line from at least two known circumferences.

    Parameters
    ----------
    volts : sequence of float
        The gauge's reading on each calibration cone.
    circumference_mm : sequence of float
        The cones' circumferences in mm.

    Raises
    ------
    DyadicDataError
        With fewer than two points, unequal lengths, or readings that do not differ.
    """
    v = np.asarray(volts, dtype=float).ravel()
    c = np.asarray(circumference_mm, dtype=float).ravel()
    if len(v) != len(c):
        raise DyadicDataError(
            f"calibrate_gauge(): {len(v)} readings but {len(c)} circumferences; give one "
            "reading per calibration cone."
        )
    ok = np.isfinite(v) & np.isfinite(c)
    v, c = v[ok], c[ok]
    if len(v) < 2:
        raise DyadicDataError(
            f"calibrate_gauge(): a calibration needs at least 2 known circumferences, got "
            f"{len(v)}; record the gauge on a second cone (two points give mm per volt, "
            "three or more also a meaningful R²)."
        )
    if np.ptp(v) == 0:
        raise DyadicDataError(
            "calibrate_gauge(): every reading is the same voltage, so mm per volt cannot be "
            "estimated; check that the gauge is connected."
        )
    slope, intercept = np.polyfit(v, c, 1)
    fitted = intercept + slope * v
    ss_tot = float(np.sum((c - c.mean()) ** 2))
    r2 = 1.0 - float(np.sum((c - fitted) ** 2)) / ss_tot if ss_tot > 0 else float("nan")
    points = pd.DataFrame(
        {"volts": v, "circumference_mm": c, "fitted_mm": fitted, "residual_mm": c - fitted}
    )
    return GaugeCalibration(float(slope), float(intercept), r2, points)


def circumference_change(
    volts: np.ndarray | Sequence[float],
    calibration: GaugeCalibration,
    *,
    sampling_rate: float,
    baseline: tuple[float, float],
    start: float = 0.0,
) -> np.ndarray:
    """Δmm: circumference minus its mean over the ``baseline`` window (seconds).

    Examples
    --------
    >>> cal = calibrate_gauge([0.0, 1.0], [80.0, 120.0])
    >>> d = circumference_change([0.1, 0.1, 0.3], cal, sampling_rate=1, baseline=(0, 2))
    >>> d.round(6).tolist()
    [0.0, 0.0, 8.0]
    """
    mm = calibration.to_mm(volts)
    t = start + np.arange(len(mm)) / float(sampling_rate)
    inside = (t >= baseline[0]) & (t < baseline[1])
    if not inside.any():
        raise DyadicDataError(
            f"circumference_change(): the baseline window {baseline!r} s holds no sample of "
            f"a signal from {t[0]:g} to {t[-1]:g} s."
        )
    return np.asarray(mm - np.nanmean(mm[inside]), dtype=float)
