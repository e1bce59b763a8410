"""Windowed lagged cross-correlation (WCC; Boker, Xu, Rotondo & King 2002) with peak picking.

Windows start at 0 s and move by ``step``. In the window starting at ``t``, ``a``'s
window is fixed at ``[t, t + window)`` and ``b``'s is shifted to ``[t + lag, t + lag +
window)``; the cell is Pearson's r of the two. So a positive lag means ``a`` leads
(``b`` follows ``a`` by ``lag`` seconds). A cell whose ``b`` window runs off the
series is missing (NaN in Python, null in JSON). Every result states this convention.

All cells are computed at once from running sums (no loop over windows), which is
exact up to rounding: tests/physio/test_synchrony.py checks the matrix against a direct
loop over Boker's definition.

Examples
--------
>>> import numpy as np
>>> import dyadlab as dl
>>> rng = np.random.default_rng(0)
>>> a = rng.standard_normal(600)
>>> b = np.roll(a, 5) + 0.5 * rng.standard_normal(600)   # b follows a by 0.5 s
>>> res = dl.physio.synchrony(a, b, 10, window=10, step=5, max_lag=2, lag_step=0.1, peak="max")
>>> float(np.nanmedian(res.windows["peak_lag_s"]))
0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import emit, jsonable, present

__all__ = ["CONVENTION", "SynchronyResult", "synchrony", "wcc_matrix"]

CONVENTION = (
    "windows start at 0 s and move by step; a's window is fixed at [t, t + window) and "
    "b's is shifted to [t + lag, t + lag + window), so a positive lag means a leads (b "
    "follows a by lag seconds); a cell whose b window runs off the series is null"
)


def _samples(value: float, fs: float, name: str, *, allow_zero: bool = False) -> int:
    n = value * fs
    k = round(n)
    if abs(n - k) > 1e-6 * max(1.0, abs(n)):
        raise DyadicDataError(
            f"synchrony(): {name}={value:g} s is not a whole number of samples at {fs:g} Hz "
            f"({n:g}); choose a multiple of {1 / fs:g} s."
        )
    if k < 0 or (k == 0 and not allow_zero):
        raise DyadicDataError(f"synchrony(): {name}={value:g} s must be positive.")
    return int(k)


def wcc_matrix(
    a: np.ndarray, b: np.ndarray, w: int, s: int, lags: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """WCC in samples: rows = windows starting at ``0, s, 2s, …``, columns = ``lags``.

    Returns the matrix and the window starts (sample indices).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    n_a, n_b = len(a), len(b)
    starts = np.arange(0, n_a - w + 1, s, dtype=np.int64)
    a = a - np.nanmean(a)
    b = b - np.nanmean(b)
    ca = np.concatenate([[0.0], np.cumsum(a)])
    caa = np.concatenate([[0.0], np.cumsum(a * a)])
    cb = np.concatenate([[0.0], np.cumsum(b)])
    cbb = np.concatenate([[0.0], np.cumsum(b * b)])
    sa = ca[starts + w] - ca[starts]
    saa = caa[starts + w] - caa[starts]
    var_a = saa - sa * sa / w
    out = np.full((len(starts), len(lags)), np.nan)
    for j, lag in enumerate(lags):
        bs = starts + lag
        ok = (bs >= 0) & (bs + w <= n_b)
        if not ok.any():
            continue
        # cross products a[i] * b[i + lag] over every i where both exist
        lo = max(0, -int(lag))
        hi = min(n_a, n_b - int(lag))
        cross = np.zeros(n_a + 1)
        if hi > lo:
            cross[lo + 1 : hi + 1] = np.cumsum(a[lo:hi] * b[lo + lag : hi + lag])
            cross[hi + 1 :] = cross[hi]
        st = starts[ok]
        sab = cross[st + w] - cross[st]
        sb = cb[st + lag + w] - cb[st + lag]
        sbb = cbb[st + lag + w] - cbb[st + lag]
        var_b = sbb - sb * sb / w
        cov = sab - sa[ok] * sb / w
        den = np.sqrt(np.clip(var_a[ok], 0, None) * np.clip(var_b, 0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(den > 1e-12 * w, cov / den, np.nan)
        out[ok, j] = np.clip(r, -1.0, 1.0)
    return out, starts


def pick_peaks(
    matrix: np.ndarray, lags_s: np.ndarray, *, method: str = "nearest", span: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Per window, the peak's lag and r.

    ``"nearest"`` (Boker et al. 2002): among local maxima — cells at least as large as
    every defined cell within ``span`` lag steps on both sides, not at the ends of the
    lag range — the one nearest lag 0 (ties: the larger r); NaN when there is none.
    ``"max"``: the largest r in the row.
    """
    n_win, n_lag = matrix.shape
    peak_lag = np.full(n_win, np.nan)
    peak_r = np.full(n_win, np.nan)
    if method == "max":
        valid = ~np.all(np.isnan(matrix), axis=1)
        j = np.nanargmax(np.where(np.isnan(matrix), -np.inf, matrix), axis=1)
        peak_lag[valid] = lags_s[j[valid]]
        peak_r[valid] = matrix[np.arange(n_win), j][valid]
        return peak_lag, peak_r
    filled = np.where(np.isnan(matrix), -np.inf, matrix)
    is_peak = ~np.isnan(matrix)
    for m in range(1, span + 1):
        left = np.full_like(filled, np.inf)
        right = np.full_like(filled, np.inf)
        left[:, m:] = filled[:, :-m]
        right[:, :-m] = filled[:, m:]
        is_peak &= (filled >= left) | (left == -np.inf)
        is_peak &= (filled >= right) | (right == -np.inf)
        # a cell within span of an end of the lag range cannot be shown to be a peak
    is_peak[:, :span] = False
    is_peak[:, n_lag - span :] = False
    distance = np.where(is_peak, np.abs(lags_s)[None, :], np.inf)
    for i in range(n_win):
        if not np.isfinite(distance[i]).any():
            continue
        best = np.flatnonzero(distance[i] == distance[i].min())
        j = best[np.argmax(matrix[i, best])]
        peak_lag[i] = lags_s[j]
        peak_r[i] = matrix[i, j]
    return peak_lag, peak_r


@dataclass
class SynchronyResult:
    """A WCC matrix with per-window peaks and the settings and convention used.

    Attributes
    ----------
    wcc : ndarray
        Windows × lags matrix of Pearson r (NaN where b's window runs off the series).
    lags_s : ndarray
        The lags in seconds (columns).
    windows : DataFrame
        ``window, start_s, end_s, peak_lag_s, peak_r, mean_abs_r``.
    settings : dict
        ``sampling_rate, window, step, max_lag, lag_step, peak, peak_span``.
    convention : str
        The sign and anchoring convention (see the module).
    """

    wcc: np.ndarray
    lags_s: np.ndarray
    windows: pd.DataFrame
    settings: dict[str, Any]
    convention: str = CONVENTION
    warnings: list[str] = field(default_factory=list)

    def statistic(self, name: str = "mean_abs_r") -> float:
        """A summary over the matrix: ``mean_abs_r`` (mean |r| over all cells),
        ``mean_peak_r`` (mean per-window peak r), ``mean_r_lag0`` (mean r at lag 0)."""
        if name == "mean_abs_r":
            return float(np.nanmean(np.abs(self.wcc)))
        if name == "mean_peak_r":
            return float(np.nanmean(self.windows["peak_r"]))
        if name == "mean_r_lag0":
            j = int(np.argmin(np.abs(self.lags_s)))
            return float(np.nanmean(self.wcc[:, j]))
        raise DyadicDataError(
            f"statistic(): {name!r} is not known; choose 'mean_abs_r', 'mean_peak_r' or "
            "'mean_r_lag0'."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``model`` ``physio_synchrony``, summaries, ``windows``, ``wcc``."""
        from dyadlab import __version__

        def row(effect: str, value: float) -> dict[str, Any]:
            return {
                "effect": effect,
                "predictor": None,
                "role": None,
                "estimate": value,
                "se": None,
                "statistic": None,
                "df": None,
                "p": None,
                "ci_low": None,
                "ci_high": None,
            }

        return {
            "model": "physio_synchrony",
            "dyadlab_version": __version__,
            "n_dyads": 1,
            "n_obs": int(self.wcc.shape[0]),
            "convention": self.convention,
            "settings": jsonable(self.settings),
            "estimates": jsonable(
                [
                    row("mean_abs_r", self.statistic("mean_abs_r")),
                    row("mean_peak_r", self.statistic("mean_peak_r")),
                    row(
                        "mean_peak_lag_s",
                        float(np.nanmean(self.windows["peak_lag_s"]))
                        if self.windows["peak_lag_s"].notna().any()
                        else float("nan"),
                    ),
                    row("mean_r_lag0", self.statistic("mean_r_lag0")),
                ]
            ),
            "lags_s": jsonable(np.round(self.lags_s, 10)),
            "windows": jsonable(self.windows),
            "wcc": jsonable(self.wcc),
            "tests": [],
            "variance_components": [],
            "fit": {"n_windows": int(self.wcc.shape[0]), "n_lags": int(self.wcc.shape[1])},
            "warnings": list(self.warnings),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string."""
        import json

        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """Readable lines: settings, convention, summaries."""
        s = self.settings
        peaks = self.windows["peak_lag_s"]
        return "\n".join(
            [
                f"dyadlab physio synchrony — WCC, {self.wcc.shape[0]} windows × "
                f"{self.wcc.shape[1]} lags",
                f"window {s['window']:g} s, step {s['step']:g} s, lags ±{s['max_lag']:g} s by "
                f"{s['lag_step']:g} s at {s['sampling_rate']:g} Hz; peaks: {s['peak']}",
                f"convention: {self.convention}",
                f"mean |r| {self.statistic('mean_abs_r'):.3f}; mean peak r "
                f"{self.statistic('mean_peak_r'):.3f} at mean lag "
                f"{np.nanmean(peaks) if peaks.notna().any() else float('nan'):.2f} s "
                f"({int(peaks.notna().sum())} windows with a peak)",
                *[f"warning: {w}" for w in self.warnings],
            ]
        )

    def __str__(self) -> str:
        return self.summary()

    def plot(self, **kwargs: Any) -> Any:
        """WCC heat map (windows × lags) with the picked peaks."""
        return present("physio_plots", "plot_wcc")(self, **kwargs)


def synchrony(
    a: np.ndarray | pd.Series | list[float],
    b: np.ndarray | pd.Series | list[float],
    sampling_rate: float,
    *,
    window: float,
    step: float,
    max_lag: float,
    lag_step: float,
    peak: str = "nearest",
    peak_span: int = 2,
) -> SynchronyResult:
    """Windowed lagged cross-correlation of two partners' series (Boker et al. 2002).

    Parameters
    ----------
    a, b : array-like
        The two series on one clock and grid (same sampling rate, sample 0 at the same
        time); e.g. both partners' epoch VPA or ratings.
    sampling_rate : float
        Samples per second of both.
    window, step, max_lag, lag_step : float
        Seconds; each must be a whole number of samples.
    peak : {"nearest", "max"}
        Peak picking: the local maximum nearest lag 0 (Boker et al.) or the row maximum.
    peak_span : int
        Lag steps on each side a local maximum must dominate.

    Returns
    -------
    SynchronyResult
        ``.wcc`` (windows × lags), ``.lags_s``, ``.windows`` (``start_s, end_s,
        peak_lag_s, peak_r, mean_abs_r``), ``.settings``, ``.convention``.

    Raises
    ------
    DyadicDataError
        A series shorter than one window, settings that are not whole samples, or a
        lag range wider than the series.

    References
    ----------
    Boker, S. M., Xu, M., Rotondo, J. L., & King, K. (2002). Windowed cross-correlation
    and peak picking for the analysis of variability in the association between
    behavioral time series. *Psychological Methods, 7*(3), 338–355.
    """
    if peak not in ("nearest", "max"):
        raise DyadicDataError(
            f"synchrony(): peak={peak!r} is not allowed; choose 'nearest' or 'max'."
        )
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    fs = float(sampling_rate)
    if not np.isfinite(fs) or fs <= 0:
        raise DyadicDataError(f"synchrony(): sampling_rate={sampling_rate!r} must be positive.")
    w = _samples(window, fs, "window")
    s = _samples(step, fs, "step")
    ml = _samples(max_lag, fs, "max_lag", allow_zero=True)
    ls = _samples(lag_step, fs, "lag_step")
    if w < 3:
        raise DyadicDataError("synchrony(): a window needs at least 3 samples.")
    shortest = min(len(x), len(y))
    if shortest < w:
        raise DyadicDataError(
            f"synchrony(): the series are shorter than one window ({shortest / fs:g} s < "
            f"window={window:g} s); use a shorter window or a longer recording."
        )
    if np.isnan(x).any() or np.isnan(y).any():
        raise DyadicDataError(
            "synchrony(): the series contain missing values; interpolate or trim them first "
            "(windows would silently shrink)."
        )
    lags = np.arange(-ml, ml + 1, ls, dtype=np.int64)
    matrix, starts = wcc_matrix(x, y, w, s, lags)
    lags_s = lags / fs
    peak_lag, peak_r = pick_peaks(matrix, lags_s, method=peak, span=peak_span)
    with np.errstate(all="ignore"):
        mean_abs = np.array(
            [np.nanmean(np.abs(row)) if np.isfinite(row).any() else np.nan for row in matrix]
        )
    windows = pd.DataFrame(
        {
            "window": np.arange(len(starts)),
            "start_s": starts / fs,
            "end_s": (starts + w) / fs,
            "peak_lag_s": peak_lag,
            "peak_r": peak_r,
            "mean_abs_r": mean_abs,
        }
    )
    warns = []
    if np.isnan(matrix).all():
        warns.append("every cell is missing: the lags are longer than the series allow.")
    return SynchronyResult(
        wcc=matrix,
        lags_s=lags_s,
        windows=windows,
        settings={
            "sampling_rate": fs,
            "window": float(window),
            "step": float(step),
            "max_lag": float(max_lag),
            "lag_step": float(lag_step),
            "peak": peak,
            "peak_span": int(peak_span),
        },
        warnings=emit(warns),
    )
