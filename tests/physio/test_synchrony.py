"""WCC equals a direct loop over Boker et al.'s (2002) definition; peaks; conventions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio import synchrony
from dyadlab.physio._synchrony import CONVENTION


def _direct(
    a: np.ndarray,
    b: np.ndarray,
    fs: float,
    window: float,
    step: float,
    max_lag: float,
    lag_step: float,
) -> np.ndarray:
    """Boker's definition cell by cell: r(a[t, t+w), b[t+lag, t+lag+w))."""
    w = round(window * fs)
    s = round(step * fs)
    lags = [round(v * fs) for v in np.arange(-max_lag, max_lag + lag_step / 2, lag_step)]
    rows = []
    t = 0
    while t + w <= len(a):
        row = []
        for lag in lags:
            if t + lag < 0 or t + lag + w > len(b):
                row.append(np.nan)
                continue
            row.append(np.corrcoef(a[t : t + w], b[t + lag : t + lag + w])[0, 1])
        rows.append(row)
        t += s
    return np.array(rows)


@pytest.mark.parametrize(
    ("fs", "window", "step", "max_lag", "lag_step", "n_b"),
    [(10, 3.0, 1.0, 1.0, 0.1, 400), (4, 5.0, 2.5, 2.0, 0.5, 390), (10, 2.0, 3.0, 0.0, 0.1, 400)],
)
def test_wcc_equals_a_direct_loop(
    fs: float, window: float, step: float, max_lag: float, lag_step: float, n_b: int
) -> None:
    rng = np.random.default_rng(1)
    a = np.cumsum(rng.standard_normal(400)) + 100  # far from zero mean: checks centring
    b = 0.6 * np.roll(a, 3) + rng.standard_normal(400) * 3
    b = b[:n_b]
    res = synchrony(a, b, fs, window=window, step=step, max_lag=max_lag, lag_step=lag_step)
    want = _direct(a, b, fs, window, step, max_lag, lag_step)
    assert res.wcc.shape == want.shape
    np.testing.assert_array_equal(np.isnan(res.wcc), np.isnan(want))
    np.testing.assert_allclose(res.wcc, want, atol=1e-9)
    assert np.isnan(want).any() or max_lag == 0


def test_positive_lag_means_a_leads() -> None:
    rng = np.random.default_rng(2)
    # a smooth AR(1) series (phi 0.95 at 10 Hz), as physiological series are: its
    # cross-correlation with a delayed copy has one clear peak
    e = rng.standard_normal(3000)
    a = np.empty(3000)
    a[0] = e[0]
    for t in range(1, 3000):
        a[t] = 0.95 * a[t - 1] + e[t]
    b = np.concatenate([np.zeros(20), a[:-20]]) + 0.1 * rng.standard_normal(3000)  # b = a 2 s later
    res = synchrony(a, b, 10, window=30, step=10, max_lag=5, lag_step=0.1)
    assert np.nanmedian(res.windows["peak_lag_s"]) == pytest.approx(2.0)
    swapped = synchrony(b, a, 10, window=30, step=10, max_lag=5, lag_step=0.1)
    assert np.nanmedian(swapped.windows["peak_lag_s"]) == pytest.approx(-2.0)
    white = rng.standard_normal(3000)
    late = np.concatenate([np.zeros(20), white[:-20]]) + 0.3 * rng.standard_normal(3000)
    assert np.median(
        synchrony(white, late, 10, window=30, step=10, max_lag=5, lag_step=0.1, peak="max").windows[
            "peak_lag_s"
        ]
    ) == pytest.approx(2.0)
    assert res.convention == CONVENTION
    assert "positive lag means a leads" in res.summary()
    d = json.loads(res.to_json())
    assert d["convention"] == CONVENTION
    assert len(d["wcc"]) == len(res.windows) and len(d["wcc"][0]) == 101
    assert d["wcc"][-1][-1] is None  # the last window's b runs off the series
    assert d["windows"][0]["start_s"] == 0.0 and d["windows"][1]["start_s"] == 10.0


def test_peak_picking_nearest_versus_max() -> None:
    lags = np.arange(-5, 6) * 1.0
    row = np.array([0.1, 0.2, 0.9, 0.3, 0.1, 0.2, 0.5, 0.6, 0.4, 0.2, 0.1])
    from dyadlab.physio._synchrony import pick_peaks

    lag, r = pick_peaks(row[None, :], lags, method="nearest", span=2)
    assert (lag[0], r[0]) == (2.0, 0.6)  # nearer to 0 than the larger peak at -3
    lag, r = pick_peaks(row[None, :], lags, method="max")
    assert (lag[0], r[0]) == (-3.0, 0.9)
    monotone = np.linspace(0, 1, 11)[None, :]
    lag, _ = pick_peaks(monotone, lags, method="nearest", span=2)
    assert np.isnan(lag[0])  # a rise to the end of the lag range is not a peak


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window": 100.0}, "shorter than one window"),
        ({"lag_step": 0.05}, "not a whole number of samples"),
        ({"step": 0.0}, "must be positive"),
        ({"peak": "first"}, "peak='first' is not allowed"),
    ],
)
def test_bad_settings(kwargs: dict[str, object], message: str) -> None:
    settings: dict[str, object] = {"window": 3.0, "step": 1.0, "max_lag": 1.0, "lag_step": 0.1}
    settings.update(kwargs)
    with pytest.raises(DyadicDataError, match=message):
        synchrony(np.zeros(100) + np.arange(100), np.arange(100.0), 10, **settings)  # type: ignore[arg-type]
