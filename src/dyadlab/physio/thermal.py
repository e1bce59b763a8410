"""Thermography: region-of-interest temperatures on the analysis grid.

A thermal camera's software (FLIR ResearchIR, Optris PIX Connect, a lab's own ROI
tracker) exports one row per frame: a timestamp and the mean temperature of each region
of interest (labia or penis, and a control region such as the thigh). Frames come at
irregular times (dropped frames, variable rates), so :func:`thermal_roi` averages the
frames whose timestamps fall in each epoch — not a sampling rate — and gives each
region's change from a baseline window, the usual genital-arousal measure in °C
(Kukkonen et al. 2007). Temperatures outside a plausible skin range (default 20–42 °C:
the tracker lost the region, or the camera recalibrated) are left out and counted,
never silently averaged in.

NeuroKit2 has no thermography step, so this small function is dyadlab's own.

Examples
--------
>>> import pandas as pd
>>> frames = pd.DataFrame({"t": [0.0, 0.4, 1.1, 1.6, 2.2, 2.9],
...                        "labia": [33.0, 33.2, 33.1, 80.0, 34.0, 34.2]})
>>> out = thermal_roi(frames, time="t", rois=["labia"], baseline=(0, 1))
>>> out[["start_s", "labia", "labia_change", "labia_frames"]].round(2).values.tolist()
[[0.0, 33.1, 0.0, 2.0], [1.0, 33.1, 0.0, 1.0], [2.0, 34.1, 1.0, 2.0]]
>>> out.attrs["rejected"]
{'labia': 1}

References
----------
Kukkonen, T. M., Binik, Y. M., Amsel, R., & Carrier, S. (2007). Thermography as a
physiological measure of sexual arousal in both men and women. *Journal of Sexual
Medicine, 4*(1), 93–105.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric
from dyadlab.exceptions import DyadicDataError

__all__ = ["thermal_roi"]

_FUNC = "thermal_roi"


def thermal_roi(
    data: pd.DataFrame,
    *,
    time: str,
    rois: Sequence[str],
    step: float = 1.0,
    baseline: tuple[float, float] | None = None,
    plausible: tuple[float, float] = (20.0, 42.0),
    start: float = 0.0,
    end: float | None = None,
) -> pd.DataFrame:
    """Mean temperature of each region per epoch, and its change from a baseline.

    Parameters
    ----------
    data : DataFrame
        One row per frame: ``time`` (seconds) and one column per region (°C).
    time : str
        The frame timestamps, in seconds.
    rois : sequence of str
        The region columns.
    step : float
        Epoch length in seconds (the analysis grid).
    baseline : (float, float), optional
        Window in seconds; ``<roi>_change`` is the epoch mean minus the mean of the
        epochs that lie wholly inside it.
    plausible : (float, float)
        Temperatures outside this range are left out (counted in ``attrs["rejected"]``).
    start, end : float
        The grid runs from ``start`` to ``end`` (default: past the last frame).

    Returns
    -------
    DataFrame
        ``start_s, end_s`` and per region ``<roi>`` (mean °C, NaN where no valid frame
        fell in the epoch), ``<roi>_frames`` (valid frames averaged) and, with a
        baseline, ``<roi>_change``. ``attrs["rejected"]`` counts implausible values per
        region and ``attrs["empty_epochs"]`` the epochs without a valid frame.

    Raises
    ------
    DyadicDataError
        Missing or non-numeric columns, no region named, a step that is not positive,
        timestamps that go backwards, or a baseline window without a whole epoch.
    """
    names = list(rois)
    if not names:
        raise DyadicDataError(f"{_FUNC}(): rois is empty; name the region columns, e.g. ['labia'].")
    check_columns(data, [time, *names], func=_FUNC)
    check_numeric(data, [time, *names], func=_FUNC)
    if not step > 0:
        raise DyadicDataError(f"{_FUNC}(): step={step!r} must be a positive number of seconds.")
    low, high = plausible
    if not low < high:
        raise DyadicDataError(
            f"{_FUNC}(): plausible={plausible!r} must be (low, high) with low < high."
        )
    t = data[time].to_numpy(dtype=float)
    if np.isnan(t).any():
        raise DyadicDataError(
            f"{_FUNC}(): {int(np.isnan(t).sum())} frame(s) have no {time!r}; give every frame "
            "its timestamp."
        )
    if len(t) == 0:
        raise DyadicDataError(f"{_FUNC}(): the data hold no frame.")
    if np.any(np.diff(t) < 0):
        at = int(np.argmax(np.diff(t) < 0)) + 1
        raise DyadicDataError(
            f"{_FUNC}(): {time!r} goes backwards at row {at} ({t[at - 1]:g} → {t[at]:g} s); "
            "sort the frames by time, or split recordings that restarted their clock."
        )
    stop = float(t[-1]) + step if end is None else float(end)
    n = int(np.floor((stop - start) / step + 1e-9))
    if n < 1:
        raise DyadicDataError(
            f"{_FUNC}(): the grid from {start:g} to {stop:g} s holds no whole epoch of {step:g} s."
        )
    starts = start + step * np.arange(n)
    out = pd.DataFrame({"start_s": starts, "end_s": starts + step})
    base = None
    if baseline is not None:
        base = (out["start_s"] >= baseline[0]) & (out["end_s"] <= baseline[1])
        if not base.any():
            raise DyadicDataError(
                f"{_FUNC}(): no whole epoch lies in the baseline window {baseline!r} s."
            )
    epoch = np.floor((t - start) / step + 1e-9).astype(int)
    inside = (epoch >= 0) & (epoch < n)
    rejected: dict[str, int] = {}
    empty: dict[str, int] = {}
    for roi in names:
        v = data[roi].to_numpy(dtype=float)
        bad = ~np.isnan(v) & ((v < low) | (v > high))
        rejected[roi] = int(bad.sum())
        ok = inside & ~np.isnan(v) & ~bad
        counts = np.bincount(epoch[ok], minlength=n)
        sums = np.bincount(epoch[ok], weights=v[ok], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[roi] = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        out[f"{roi}_frames"] = counts
        empty[roi] = int((counts == 0).sum())
        if base is not None:
            ref = out.loc[base, roi].mean()
            if np.isnan(ref):
                raise DyadicDataError(
                    f"{_FUNC}(): region {roi!r} has no valid frame in the baseline window "
                    f"{baseline!r} s; choose another window or check the tracker."
                )
            out[f"{roi}_change"] = out[roi] - ref
    out.attrs["rejected"] = rejected
    out.attrs["empty_epochs"] = empty
    out.attrs["plausible"] = (float(low), float(high))
    return out
