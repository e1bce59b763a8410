"""Vaginal blood volume, heart rate and skin conductance on the analysis grid.

VBV is the slow (DC) component of the photoplethysmograph: low-passed without phase
shift and averaged per epoch, optionally as change from a baseline window. Heart rate
(from PPG or ECG) and skin conductance (tonic level, phasic responses) go through
NeuroKit2, which already does that job well; dyadlab only puts its output on the same
epoch grid as VPA and ratings.

Examples
--------
>>> import numpy as np
>>> dc = np.concatenate([np.full(1000, 2.0), np.full(1000, 3.0)])
>>> vbv(dc, 100, step=5.0, baseline=(0, 5))["change"].round(3).tolist()  # low-pass smooths the step
[0.0, 0.023, 0.977, 1.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import signal as sps

from dyadlab.exceptions import DyadicDataError

__all__ = ["epoch_means", "heart_rate", "skin_conductance", "vbv"]


def epoch_means(
    values: np.ndarray | pd.Series, sampling_rate: float, *, step: float = 1.0, start: float = 0.0
) -> pd.DataFrame:
    """Mean of a regularly sampled series in consecutive ``step``-second epochs.

    Returns ``start_s``, ``end_s`` and ``value`` (the last, partial epoch is dropped).

    Examples
    --------
    >>> epoch_means(np.arange(10.0), 2, step=2.0)["value"].tolist()
    [1.5, 5.5]
    """
    x = np.asarray(values, dtype=float).ravel()
    per = step * sampling_rate
    k = round(per)
    if k < 1 or abs(per - k) > 1e-6 * per:
        raise DyadicDataError(
            f"epoch_means(): step={step:g} s is not a whole number of samples at "
            f"{sampling_rate:g} Hz."
        )
    n = len(x) // k
    if n == 0:
        raise DyadicDataError(
            f"epoch_means(): the series ({len(x) / sampling_rate:g} s) is shorter than one "
            f"epoch of {step:g} s."
        )
    with np.errstate(all="ignore"):
        means = np.nanmean(x[: n * k].reshape(n, k), axis=1) if n else np.array([])
    starts = start + step * np.arange(n)
    return pd.DataFrame({"start_s": starts, "end_s": starts + step, "value": means})


def vbv(
    dc: np.ndarray | pd.Series,
    sampling_rate: float,
    *,
    cutoff: float = 0.5,
    step: float = 1.0,
    baseline: tuple[float, float] | None = None,
    start: float = 0.0,
) -> pd.DataFrame:
    """Vaginal blood volume per epoch from the DC channel.

    The DC signal is low-passed (Butterworth order 2, zero phase, ``cutoff`` Hz) and
    averaged per epoch. With ``baseline`` (seconds), ``change`` is the epoch mean minus
    the mean of the epochs inside the baseline window.

    Returns
    -------
    DataFrame
        ``start_s, end_s, vbv`` and, with a baseline, ``change``.
    """
    x = np.asarray(dc, dtype=float).ravel()
    fs = float(sampling_rate)
    if not 0 < cutoff < fs / 2:
        raise DyadicDataError(
            f"vbv(): cutoff={cutoff!r} must lie between 0 and sampling_rate / 2 = {fs / 2:g} Hz."
        )
    if len(x) < 3 * fs / cutoff:
        raise DyadicDataError(
            f"vbv(): the DC signal ({len(x) / fs:g} s) is too short for a {cutoff:g} Hz "
            f"low-pass; it needs at least {3 / cutoff:g} s."
        )
    sos = sps.butter(2, cutoff, btype="lowpass", fs=fs, output="sos")
    smooth = sps.sosfiltfilt(sos, x)
    out = epoch_means(smooth, fs, step=step, start=start).rename(columns={"value": "vbv"})
    if baseline is not None:
        inside = (out["start_s"] >= baseline[0]) & (out["end_s"] <= baseline[1])
        if not inside.any():
            raise DyadicDataError(
                f"vbv(): no whole epoch lies in the baseline window {baseline!r} s."
            )
        out["change"] = out["vbv"] - out.loc[inside, "vbv"].mean()
    return out


def heart_rate(
    signal: np.ndarray | pd.Series,
    sampling_rate: float,
    *,
    kind: str = "ppg",
    step: float = 1.0,
    start: float = 0.0,
) -> pd.DataFrame:
    """Heart rate (beats per minute) per epoch, from PPG or ECG through NeuroKit2.

    Uses ``nk.ppg_process`` or ``nk.ecg_process`` (their cleaning, peak detection and
    interpolated rate) and averages the rate per epoch: ``start_s, end_s, heart_rate``.

    Examples
    --------
    >>> import neurokit2 as nk
    >>> ppg = nk.ppg_simulate(duration=30, sampling_rate=100, heart_rate=70, random_state=1)
    >>> hr = heart_rate(ppg, 100, step=10.0)
    >>> bool(hr["heart_rate"].between(60, 80).all())
    True
    """
    import neurokit2 as nk

    if kind not in ("ppg", "ecg"):
        raise DyadicDataError(f"heart_rate(): kind={kind!r} is not allowed; choose 'ppg' or 'ecg'.")
    process = nk.ppg_process if kind == "ppg" else nk.ecg_process
    signals, _info = process(np.asarray(signal, dtype=float), sampling_rate=int(sampling_rate))
    rate = signals["PPG_Rate" if kind == "ppg" else "ECG_Rate"].to_numpy(dtype=float)
    return epoch_means(rate, sampling_rate, step=step, start=start).rename(
        columns={"value": "heart_rate"}
    )


def skin_conductance(
    signal: np.ndarray | pd.Series,
    sampling_rate: float,
    *,
    step: float = 1.0,
    start: float = 0.0,
) -> pd.DataFrame:
    """Tonic level, phasic component and SCR count per epoch through ``nk.eda_process``.

    Returns ``start_s, end_s, tonic, phasic, n_scr``.

    Examples
    --------
    >>> import neurokit2 as nk
    >>> eda = nk.eda_simulate(duration=30, sampling_rate=50, scr_number=3, random_state=1)
    >>> skin_conductance(eda, 50, step=10.0)["n_scr"].sum()
    np.int64(3)
    """
    import neurokit2 as nk

    signals, _info = nk.eda_process(
        np.asarray(signal, dtype=float), sampling_rate=int(sampling_rate)
    )
    tonic = epoch_means(signals["EDA_Tonic"].to_numpy(float), sampling_rate, step=step, start=start)
    phasic = epoch_means(signals["EDA_Phasic"].to_numpy(float), sampling_rate, step=step)
    peaks = epoch_means(signals["SCR_Peaks"].to_numpy(float), sampling_rate, step=step)
    per = round(step * sampling_rate)
    return pd.DataFrame(
        {
            "start_s": tonic["start_s"],
            "end_s": tonic["end_s"],
            "tonic": tonic["value"],
            "phasic": phasic["value"],
            "n_scr": np.rint(peaks["value"].to_numpy() * per).astype(np.int64),
        }
    )
