"""Put signals on one analysis grid: resampling, held-value ratings and epoch means.

Continuous subjective ratings (a slider moved now and then) are a step function: each
value holds until the next one. :func:`bin_ratings` gives the time-weighted mean of
that step function in each bin, so a value held for 0.3 s of a 1 s bin counts 30 %.
:func:`resample` puts a recording's channels on a common rate.

Examples
--------
>>> import pandas as pd
>>> r = pd.DataFrame({"t": [0.0, 0.5, 2.0], "rating": [0.0, 10.0, 20.0]})
>>> bin_ratings(r, time="t", value="rating", step=1.0, end=3.0)["rating"].tolist()
[5.0, 10.0, 20.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import signal as sps

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio.recording import Recording

__all__ = ["bin_ratings", "held_mean", "resample"]


def held_mean(times: np.ndarray, values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Time-weighted mean over ``[edges[i], edges[i+1])`` of the step function that
    holds ``values[k]`` from ``times[k]`` to ``times[k+1]`` (the last value holds on).

    Bins before the first time are NaN.

    Examples
    --------
    >>> held_mean(np.array([0.0, 1.0]), np.array([2.0, 4.0]), np.array([0.0, 2.0]))
    array([3.])
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    e = np.asarray(edges, dtype=float)
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    knots = np.concatenate([t, [max(e[-1], t[-1]) + 1.0]])
    area = np.concatenate([[0.0], np.cumsum(v * np.diff(knots))])
    integral = np.interp(e, knots, area)  # exact: the integral is piecewise linear
    out = np.diff(integral) / np.diff(e)
    out[e[1:] <= t[0]] = np.nan
    partial = (e[:-1] < t[0]) & (e[1:] > t[0])
    out[partial] = integral[1:][partial] / (e[1:][partial] - t[0])
    return np.asarray(out, dtype=float)


def bin_ratings(
    data: pd.DataFrame,
    *,
    time: str,
    value: str,
    step: float = 1.0,
    start: float = 0.0,
    end: float | None = None,
) -> pd.DataFrame:
    """Continuous ratings (timestamped slider values) as held-value means per bin.

    Parameters
    ----------
    data : DataFrame
        One row per slider value: ``time`` (seconds) and ``value``.
    step : float
        Bin width in seconds (the analysis grid).
    start, end : float
        The grid runs from ``start`` to ``end`` (default: the last time + one step).

    Returns
    -------
    DataFrame
        ``time_s`` (bin start) and the binned ``value`` column.
    """
    for col in (time, value):
        if col not in data.columns:
            raise DyadicDataError(f"bin_ratings(): column {col!r} is not in the data.")
    if step <= 0:
        raise DyadicDataError(f"bin_ratings(): step={step!r} must be a positive number of seconds.")
    frame = data[[time, value]].dropna()
    if frame.empty:
        raise DyadicDataError("bin_ratings(): no rating has both a time and a value.")
    t = frame[time].to_numpy(dtype=float)
    v = frame[value].to_numpy(dtype=float)
    stop = float(t.max() + step) if end is None else float(end)
    edges = start + step * np.arange(int(np.floor((stop - start) / step + 1e-9)) + 1)
    return pd.DataFrame({"time_s": edges[:-1], value: held_mean(t, v, edges)})


def resample(recording: Recording, rate: float, channels: Sequence[str] | None = None) -> Recording:
    """The recording's channels on one common ``rate`` (polyphase anti-aliased filter).

    Channels are resampled with :func:`scipy.signal.resample_poly` when the ratio of the
    rates is rational with small terms, else by linear interpolation on their times.
    """
    names = list(channels) if channels is not None else recording.channels
    if rate <= 0:
        raise DyadicDataError(f"resample(): rate={rate!r} must be positive.")
    signals, times = {}, {}
    for c in names:
        x, t, fs = recording.signal(c), recording.time(c), recording.rate(c)
        up, down = _ratio(rate, fs)
        if up * down <= 10_000 and np.all(np.isfinite(x)):
            y = sps.resample_poly(x, up, down) if up != down else x.copy()
        else:
            grid = t[0] + np.arange(int(np.floor((t[-1] - t[0]) * rate)) + 1) / rate
            y = np.interp(grid, t, x)
        signals[c] = y
        times[c] = t[0] + np.arange(len(y)) / rate
    return Recording(
        signals=signals,
        sampling_rates=dict.fromkeys(names, float(rate)),
        units={c: recording.units.get(c, "") for c in names},
        times=times,
        events=recording.events.copy(),
        clock=recording.clock,
        source=recording.source,
        info=dict(recording.info),
    )


def _ratio(target: float, source: float) -> tuple[int, int]:
    from fractions import Fraction

    frac = Fraction(target / source).limit_denominator(1000)
    return frac.numerator, frac.denominator
