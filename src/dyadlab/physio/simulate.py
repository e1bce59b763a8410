"""Simulated signals with known truth: pulse waves, artefacts, lagged ratings.

:func:`simulate_vpa` draws a photoplethysmograph AC signal whose every beat has a known
onset, peak and amplitude, so that :func:`~dyadlab.physio.vpa` can be checked against
the truth; :func:`inject_artifacts` adds spikes, dropouts and baseline steps at known
places; :func:`simulate_rating` gives a subjective trace that follows a genital series
with a known correlation and lag.

Examples
--------
>>> sig, truth = simulate_vpa(10, sampling_rate=200, rng=1)
>>> len(sig), list(truth.columns)
(2000, ['onset_s', 'peak_s', 'amplitude'])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["inject_artifacts", "simulate_rating", "simulate_vpa"]

_RISE = 0.3  # share of a beat from onset to systolic peak


def simulate_vpa(
    duration: float,
    *,
    sampling_rate: float = 1000.0,
    heart_rate: float = 70.0,
    hrv: float = 0.04,
    amplitude: float | Callable[[np.ndarray], np.ndarray] = 1.0,
    amplitude_sd: float = 0.05,
    noise: float = 0.01,
    rng: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """A pulse-wave signal whose beats have known onsets, peaks and amplitudes.

    Each beat rises from its onset (a trough at 0) to its systolic peak along a
    half cosine over the first 30 % of the beat and falls back along a half cosine, so
    per-beat amplitude = peak − onset exactly (before noise).

    Parameters
    ----------
    duration : float
        Seconds.
    heart_rate : float
        Mean beats per minute; inter-beat intervals vary with coefficient ``hrv``.
    amplitude : float or callable
        Mean amplitude, or a function of time (seconds) giving it.
    amplitude_sd : float
        Beat-to-beat relative variation of amplitude.
    noise : float
        SD of white noise added, in the signal's units.
    rng : int or Generator, optional
        Seed or generator.

    Returns
    -------
    signal : ndarray
    truth : DataFrame
        ``onset_s``, ``peak_s``, ``amplitude`` of every complete beat.
    """
    gen = np.random.default_rng(rng)
    n = round(duration * sampling_rate)
    mean_ibi = 60.0 / heart_rate
    count = int(duration / mean_ibi * 1.5) + 4
    ibis = mean_ibi * (1 + hrv * gen.standard_normal(count))
    onsets = np.concatenate([[0.0], np.cumsum(ibis)])
    onsets = onsets[onsets < duration]
    ends = np.append(onsets[1:], onsets[-1] + ibis[len(onsets) - 1])
    mean_amp = amplitude(onsets) if callable(amplitude) else np.full(len(onsets), amplitude)
    amps = np.asarray(mean_amp, dtype=float) * (1 + amplitude_sd * gen.standard_normal(len(onsets)))
    t = np.arange(n) / sampling_rate
    beat = np.clip(np.searchsorted(onsets, t, side="right") - 1, 0, len(onsets) - 1)
    phase = (t - onsets[beat]) / (ends[beat] - onsets[beat])
    rise = 0.5 * (1 - np.cos(np.pi * np.clip(phase / _RISE, 0, 1)))
    fall = 0.5 * (1 + np.cos(np.pi * np.clip((phase - _RISE) / (1 - _RISE), 0, 1)))
    shape = np.where(phase < _RISE, rise, fall)
    sig = amps[beat] * shape + noise * gen.standard_normal(n)
    complete = ends <= duration
    truth = pd.DataFrame(
        {
            "onset_s": onsets[complete],
            "peak_s": onsets[complete] + _RISE * (ends - onsets)[complete],
            "amplitude": amps[complete],
        }
    )
    return sig, truth


def inject_artifacts(
    signal: np.ndarray,
    *,
    sampling_rate: float,
    spikes: Sequence[float] = (),
    dropouts: Sequence[tuple[float, float]] = (),
    steps: Sequence[float] = (),
    size: float = 8.0,
) -> np.ndarray:
    """A copy of ``signal`` with artefacts at known times.

    ``spikes``: 10-ms spikes of ``size`` × the signal's SD at these seconds;
    ``dropouts``: (start, end) seconds where the sensor reads a flat 0;
    ``steps``: baseline shifts of ``size`` × SD from these seconds on.

    Examples
    --------
    >>> x = inject_artifacts(np.zeros(1000) + 1, sampling_rate=100, dropouts=[(2.0, 3.0)])
    >>> float(x[250])
    0.0
    """
    out = np.array(signal, dtype=float, copy=True)
    sd = float(np.std(out)) or 1.0
    for s in spikes:
        i = int(s * sampling_rate)
        out[i : i + max(1, int(0.01 * sampling_rate))] += size * sd
    for s in steps:
        out[int(s * sampling_rate) :] += size * sd
    for a, b in dropouts:
        out[int(a * sampling_rate) : int(b * sampling_rate)] = 0.0
    return out


def simulate_rating(
    genital: np.ndarray,
    *,
    r: float,
    lag: int = 0,
    rng: int | np.random.Generator | None = None,
) -> np.ndarray:
    """A subjective series correlating ``r`` with ``genital`` shifted by ``lag`` epochs.

    ``rating[t] = r * z(genital)[t - lag] + sqrt(1 - r²) * e[t]`` with standard normal
    ``e``: the rating follows the genital response ``lag`` epochs later. The first
    ``lag`` epochs use fresh noise.

    Examples
    --------
    >>> g = np.random.default_rng(0).standard_normal(5000)
    >>> s = simulate_rating(g, r=0.6, lag=2, rng=1)
    >>> round(float(np.corrcoef(g[:-2], s[2:])[0, 1]), 1)
    0.6
    """
    gen = np.random.default_rng(rng)
    g = np.asarray(genital, dtype=float)
    z = (g - g.mean()) / g.std()
    shifted = np.concatenate([gen.standard_normal(lag), z[: len(z) - lag]]) if lag else z
    return np.asarray(r * shifted + np.sqrt(1 - r**2) * gen.standard_normal(len(z)), dtype=float)
