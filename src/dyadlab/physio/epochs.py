"""Epoch VPA (fixed bins or per stimulus) and standardise within person.

A beat belongs to the epoch that holds its systolic peak. An epoch's VPA is the mean
amplitude of its kept beats; its ``percent_rejected`` is the share of its beats that
QC or the edit log rejected. Within-person standardisation (z-scores over a person's
epochs) is the usual way to compare VPA across women, whose raw amplitudes are not on
one scale.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"person": [1, 1, 2, 2], "vpa": [1.0, 3.0, 10.0, 30.0]})
>>> standardize(f, "vpa", by="person")["vpa_z"].round(3).tolist()
[-0.707, 0.707, -0.707, 0.707]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError

if TYPE_CHECKING:
    from dyadlab.physio._vpa import VPAResult

__all__ = ["epoch_vpa", "standardize"]

EPOCH_COLUMNS = [
    "epoch",
    "start_s",
    "end_s",
    "label",
    "vpa",
    "n_beats",
    "n_rejected",
    "percent_rejected",
]


def epoch_vpa(
    result: VPAResult,
    *,
    step: float | None = 1.0,
    stimuli: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Mean amplitude of kept beats per epoch, with the share of beats rejected.

    Parameters
    ----------
    result : VPAResult
        From :func:`~dyadlab.physio.vpa`.
    step : float, optional
        Width of fixed bins in seconds, starting at ``result.start`` (default 1 s).
    stimuli : DataFrame, optional
        Instead of bins: one row per stimulus with ``start_s``, ``end_s`` and
        optionally ``label``.

    Returns
    -------
    DataFrame
        ``epoch, start_s, end_s, label, vpa, n_beats, n_rejected, percent_rejected``;
        ``vpa`` is NaN for an epoch without kept beats.
    """
    beats = result.beats
    if stimuli is not None:
        missing = [c for c in ("start_s", "end_s") if c not in stimuli.columns]
        if missing:
            raise DyadicDataError(
                f"epoch_vpa(): stimuli needs columns 'start_s' and 'end_s'; missing {missing}."
            )
        starts = stimuli["start_s"].to_numpy(dtype=float)
        ends = stimuli["end_s"].to_numpy(dtype=float)
        labels = (
            stimuli["label"].astype(str).tolist()
            if "label" in stimuli.columns
            else [None] * len(starts)
        )
    else:
        if step is None or step <= 0:
            raise DyadicDataError(f"epoch_vpa(): step={step!r} must be a positive number of s.")
        length = len(result.filtered) / result.sampling_rate
        count = int(np.ceil(length / step - 1e-9))
        starts = result.start + step * np.arange(count)
        ends = starts + step
        labels = [None] * count
    peak = beats["peak_s"].to_numpy()
    amp = beats["amplitude"].to_numpy()
    rej = beats["rejected"].to_numpy(dtype=bool)
    rows = []
    for k, (a, b, lab) in enumerate(zip(starts, ends, labels, strict=True)):
        inside = (peak >= a) & (peak < b)
        kept = inside & ~rej
        n = int(inside.sum())
        rows.append(
            {
                "epoch": k,
                "start_s": float(a),
                "end_s": float(b),
                "label": lab,
                "vpa": float(amp[kept].mean()) if kept.any() else np.nan,
                "n_beats": n,
                "n_rejected": int((inside & rej).sum()),
                "percent_rejected": 100.0 * float((inside & rej).sum()) / n if n else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=EPOCH_COLUMNS)


def standardize(data: pd.DataFrame, value: str, *, by: str) -> pd.DataFrame:
    """Add ``<value>_z``: ``value`` as z-scores within each level of ``by`` (a person).

    Uses the person's mean and SD (ddof = 1) over her non-missing epochs; a person with
    fewer than two values or zero SD gets NaN.
    """
    for col in (value, by):
        if col not in data.columns:
            raise DyadicDataError(f"standardize(): column {col!r} is not in the data.")
    out = data.copy()
    grouped = out.groupby(by, sort=False)[value]
    mean = grouped.transform("mean")
    sd = grouped.transform("std").replace(0.0, np.nan)
    out[f"{value}_z"] = (out[value] - mean) / sd
    return out
