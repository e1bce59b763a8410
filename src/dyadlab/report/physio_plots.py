"""Plots of both partners' physiology: signals with rejected beats, WCC heat map, forest.

* :func:`plot_vpa` — one pulse signal with its peaks and onsets, rejected beats shaded.
* :func:`plot_partners` — both partners' signals on one time axis (after
  :func:`~dyadlab.physio.align`), with events marked and rejected beats shaded.
* :func:`plot_wcc` — the windowed cross-correlation matrix as a heat map (window start ×
  lag) with the picked peaks, and the sign convention in the caption.
* :func:`plot_concordance` — a forest plot of per-person concordance with the pooled r.

matplotlib is imported inside the functions, so importing this module stays cheap.

Examples
--------
>>> import dyadlab as dl
>>> sig, _ = dl.physio.simulate_vpa(20, sampling_rate=200, rng=1)
>>> fig = dl.physio.vpa(sig, 200).plot()
>>> fig.axes[0].get_xlabel()
'time (s)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_concordance", "plot_partners", "plot_vpa", "plot_wcc"]

_COLOURS = ("#1b6ca8", "#d1495b", "#555555")


def _shade_rejected(ax: Any, beats: pd.DataFrame, colour: str) -> None:
    onsets = beats["onset_s"].to_numpy(dtype=float)
    ends = np.append(onsets[1:], beats["peak_s"].to_numpy(dtype=float)[-1:] + 0.3)
    for i in np.flatnonzero(beats["rejected"].to_numpy(dtype=bool)):
        ax.axvspan(onsets[i], ends[i], color=colour, alpha=0.15, lw=0)


def _draw_signal(
    ax: Any, result: Any, *, offset: float, colour: str, label: str, window: Any
) -> None:
    t = result.start + np.arange(len(result.filtered)) / result.sampling_rate
    keep = np.ones(len(t), dtype=bool)
    if window is not None:
        keep = (t >= window[0]) & (t < window[1])
    ax.plot(t[keep], result.filtered[keep] + offset, color=colour, lw=0.8, label=label)
    b = result.beats
    if window is not None:
        b = b.loc[(b["peak_s"] >= window[0]) & (b["peak_s"] < window[1])]
    ax.plot(
        b["peak_s"], result.filtered[b["_peak"].to_numpy()] + offset, "v", color=colour, ms=3, lw=0
    )
    ax.plot(
        b["onset_s"],
        result.filtered[b["_onset"].to_numpy()] + offset,
        "^",
        color=colour,
        ms=3,
        lw=0,
        alpha=0.6,
    )
    if len(b):
        _shade_rejected(ax, b, colour)


def plot_vpa(result: Any, *, window: tuple[float, float] | None = None) -> Any:
    """The band-passed signal with peaks (▼), onsets (▲) and rejected beats shaded."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 3))
    _draw_signal(ax, result, offset=0.0, colour=_COLOURS[0], label="filtered", window=window)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pulse (band-passed)")
    n_rej = int(result.beats["rejected"].sum())
    ax.set_title(f"VPA: {len(result.beats)} beats, {n_rej} rejected (shaded)")
    fig.tight_layout()
    return fig


def plot_partners(
    results: Mapping[str, Any],
    *,
    events: pd.DataFrame | None = None,
    window: tuple[float, float] | None = None,
) -> Any:
    """Both partners' pulse signals on one time axis, events as vertical lines.

    Parameters
    ----------
    results : mapping of label to VPAResult
        Each partner's result, on one clock (``vpa(..., start=)`` from an aligned
        recording).
    events : DataFrame, optional
        ``time_s``, ``label`` on the same clock.
    window : (float, float), optional
        The stretch of time to show.

    Examples
    --------
    >>> import dyadlab as dl
    >>> a, _ = dl.physio.simulate_vpa(20, sampling_rate=200, rng=1)
    >>> b, _ = dl.physio.simulate_vpa(20, sampling_rate=200, rng=2)
    >>> fig = plot_partners({"woman": dl.physio.vpa(a, 200), "man": dl.physio.vpa(b, 200)})
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['woman', 'man']
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    spread = 0.0
    for k, (label, res) in enumerate(results.items()):
        scale = float(np.nanpercentile(np.abs(res.filtered), 99)) or 1.0
        _draw_signal(ax, res, offset=-spread, colour=_COLOURS[k % 3], label=label, window=window)
        spread += 2.5 * scale
    if events is not None:
        times = events["time_s"].to_numpy(dtype=float).tolist()
        for t, label in zip(times, events["label"].astype(str).tolist(), strict=True):
            if window is None or window[0] <= t < window[1]:
                ax.axvline(t, color="black", lw=0.8, ls="--")
                ax.annotate(
                    label,
                    (t, 1),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    va="top",
                    ha="right",
                    fontsize=8,
                )
    ax.set_yticks([])
    ax.set_xlabel("time (s)")
    ax.set_title("Both partners (rejected beats shaded)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def plot_wcc(result: Any, *, peaks: bool = True) -> Any:
    """Heat map of the WCC matrix: window start (x) by lag (y), r in colour."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    starts = result.windows["start_s"].to_numpy()
    step = float(result.settings["step"])
    lag_step = float(result.settings["lag_step"])
    extent = (
        starts[0] - step / 2,
        starts[-1] + step / 2,
        result.lags_s[0] - lag_step / 2,
        result.lags_s[-1] + lag_step / 2,
    )
    image = ax.imshow(
        np.ma.masked_invalid(result.wcc.T),
        aspect="auto",
        origin="lower",
        extent=extent,
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        interpolation="nearest",
    )
    if peaks:
        ax.plot(starts, result.windows["peak_lag_s"], "k.", ms=3, label="peak")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("window start (s)")
    ax.set_ylabel("lag (s); > 0: a leads")
    ax.set_title(f"Windowed cross-correlation (window {result.settings['window']:g} s)")
    fig.colorbar(image, ax=ax, label="r")
    fig.tight_layout()
    return fig


def plot_concordance(result: Any, *, lag: int | None = None) -> Any:
    """Forest plot: each person's r with its AR(1)-adjusted CI, and the pooled r."""
    import matplotlib.pyplot as plt
    from scipy import stats

    lag = int(result.fit["lag"]) if lag is None else lag
    p = result.persons
    p = p.loc[(p["lag"] == lag) & p["se_z"].notna()].reset_index(drop=True)
    crit = stats.norm.ppf(0.5 + result.level / 2)
    lo = np.tanh(p["z"] - crit * p["se_z"])
    hi = np.tanh(p["z"] + crit * p["se_z"])
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(p) + 1.5))
    y = np.arange(len(p))[::-1] + 1
    ax.errorbar(
        p["r"], y, xerr=[p["r"] - lo, hi - p["r"]], fmt="o", color=_COLOURS[0], ms=3, capsize=2
    )
    pooled = result.lags.set_index("lag").loc[lag]
    ax.errorbar(
        [pooled["r"]],
        [0],
        xerr=[[pooled["r"] - pooled["ci_low"]], [pooled["ci_high"] - pooled["r"]]],
        fmt="D",
        color=_COLOURS[1],
        capsize=3,
    )
    labels = [" / ".join(str(v) for v in row) for row in _ids(p, result.call)]
    ax.set_yticks([*list(y), 0], [*labels, "pooled"])
    ax.axvline(0, color="black", lw=0.5)
    ax.set_xlabel(f"r (lag {lag})")
    ax.set_title("Subjective–genital concordance")
    fig.tight_layout()
    return fig


def _ids(p: pd.DataFrame, call: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
    cols = [c for c in (call.get("dyad"), call.get("person")) if c]
    return list(p[cols].itertuples(index=False, name=None))
