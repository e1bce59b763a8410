"""Beat detection and beat quality control for pulse signals (the steps of ``vpa``).

Band-pass (zero phase), systolic peaks, onsets as the minimum between consecutive
peaks, amplitude = peak − onset, then three rules that mark beats as rejected: the
inter-beat interval, the amplitude against a rolling median in MADs, and jumps in the
raw signal (with the beats inside the filter's settling time around a jump).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import signal as sps

from dyadlab.exceptions import DyadicDataError


@dataclass(frozen=True)
class BeatSettings:
    """Every setting of beat detection and QC; stored with each result."""

    band: tuple[float, float] = (0.5, 8.0)
    order: int = 2
    min_ibi: float = 0.33
    max_ibi: float = 1.5
    min_distance: float = 0.25
    min_prominence: float = 0.3
    median_window: int = 15
    mad_threshold: float = 3.5
    min_scale: float = 0.05
    jump_ratio: float = 4.0
    jump_guard: float | None = None

    def guard(self) -> float:
        """Seconds after a jump whose beats are also rejected (default 1 / low cut-off)."""
        return 1.0 / self.band[0] if self.jump_guard is None else self.jump_guard


def bandpass(x: np.ndarray, fs: float, band: tuple[float, float], order: int) -> np.ndarray:
    """Zero-phase Butterworth band-pass (``sosfiltfilt``): no shift of peaks or onsets."""
    low, high = band
    if not 0 < low < high < fs / 2:
        raise DyadicDataError(
            f"vpa(): band={band!r} must satisfy 0 < low < high < sampling_rate / 2 "
            f"(= {fs / 2:g} Hz); lower the high cut-off or give the true sampling rate."
        )
    sos = sps.butter(order, [low, high], btype="bandpass", fs=fs, output="sos")
    return np.asarray(sps.sosfiltfilt(sos, x), dtype=float)


def find_systolic_peaks(filtered: np.ndarray, fs: float, s: BeatSettings) -> np.ndarray:
    """Local maxima at least ``min_distance`` s apart whose prominence reaches
    ``min_prominence`` × the median prominence of all candidates."""
    peaks, props = sps.find_peaks(
        filtered, distance=max(1, int(s.min_distance * fs)), prominence=0.0
    )
    if len(peaks) == 0:
        return np.asarray(peaks, dtype=int)
    prom = props["prominences"]
    keep = prom >= s.min_prominence * np.median(prom)
    return np.asarray(peaks[keep], dtype=int)


def onsets_between(filtered: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Index of the minimum of ``filtered`` between each pair of consecutive peaks."""
    out = np.empty(len(peaks) - 1, dtype=int)
    for i in range(1, len(peaks)):
        a, b = peaks[i - 1], peaks[i]
        out[i - 1] = a + int(np.argmin(filtered[a:b]))
    return out


def beat_table(
    raw: np.ndarray, filtered: np.ndarray, peaks: np.ndarray, fs: float, start: float
) -> pd.DataFrame:
    """One row per beat (every peak but the first): onset, peak, amplitude, IBI."""
    peaks = np.unique(peaks)
    if len(peaks) < 2:
        raise DyadicDataError(
            "vpa(): the signal has fewer than two pulse peaks, so no beat can be measured; "
            "check the channel (is it the AC pulse channel?) and the sampling rate."
        )
    onsets = onsets_between(filtered, peaks)
    p = peaks[1:]
    return pd.DataFrame(
        {
            "onset_s": start + onsets / fs,
            "peak_s": start + p / fs,
            "amplitude": filtered[p] - filtered[onsets],
            "ibi_s": np.diff(peaks) / fs,
            "_onset": onsets,
            "_peak": p,
        }
    )


def quality(
    beats: pd.DataFrame, raw: np.ndarray, missing: np.ndarray, fs: float, s: BeatSettings
) -> pd.Series:
    """The reasons each beat is rejected, joined by ``;`` (None for a kept beat)."""
    n = len(beats)
    reasons: list[list[str]] = [[] for _ in range(n)]

    def mark(mask: np.ndarray, why: str) -> None:
        for i in np.flatnonzero(mask):
            reasons[i].append(why)

    ibi = beats["ibi_s"].to_numpy()
    mark((ibi < s.min_ibi) | (ibi > s.max_ibi), "ibi")

    amp = beats["amplitude"].to_numpy()
    rolling = pd.Series(amp).rolling(s.median_window, center=True, min_periods=1)
    med = rolling.median().to_numpy()
    mad = (
        pd.Series(np.abs(amp - med))
        .rolling(s.median_window, center=True, min_periods=1)
        .median()
        .to_numpy()
    )
    scale = np.maximum(1.4826 * mad, s.min_scale * np.abs(med))
    mark(np.abs(amp - med) > s.mad_threshold * scale, "amplitude")

    # a beat spans from its onset to the next beat's onset (the last: to the signal's end)
    onset = beats["_onset"].to_numpy()
    step = np.abs(np.diff(raw, append=raw[-1]))
    per_beat = np.maximum.reduceat(step, onset)
    typical = float(np.median(per_beat)) or float(np.finfo(float).eps)
    jumped = per_beat > s.jump_ratio * typical
    mark(jumped, "jump")
    if jumped.any():
        jump_times = beats["onset_s"].to_numpy()[jumped]
        peak_s = beats["peak_s"].to_numpy()
        near = np.zeros(n, dtype=bool)
        for t in jump_times:  # a zero-phase filter spreads a jump both ways
            near |= (peak_s > t - s.guard()) & (peak_s <= t + s.guard() + s.max_ibi)
        mark(near & ~jumped, "near jump")

    if missing.any():
        mark(np.logical_or.reduceat(missing, onset), "missing")
    return pd.Series([";".join(r) if r else None for r in reasons], dtype=object)
