"""Benchmark: two partners × 60 min × 1 kHz — VPA, ratings, synchrony (issue 15).

Data (not timed): two 60-minute pulse signals at 1000 Hz from
:func:`dyadlab.physio.simulate_vpa` (3.6 million samples each, artefacts injected), and
each partner's continuous slider ratings (a new value every 0.5 s on average).

Timed stages (wall clock, after a warm-up of the imports on a tiny signal):

1. vpa: :func:`dyadlab.physio.vpa` on both signals (band-pass, peaks, onsets, QC);
2. grid: each partner's kept beats as a 10 Hz series, ratings binned to the same grid
   (:func:`dyadlab.physio.bin_ratings`), and 1-s epochs of VPA;
3. wcc: :func:`dyadlab.physio.synchrony` of the partners' VPA series and of their
   ratings, window 30 s, step 5 s, lags ±5 s in 0.1 s steps.

Target (issue 15): the three together ≤ 5 s. The reference is a direct loop over
Boker's definition (``np.corrcoef`` per window and lag) on the same VPA series, and
NeuroKit2's ``ppg_findpeaks`` (Elgendi) on the same signals (peaks only, no onsets or
QC); both are timed and the ratios printed.

Run: ``python benchmarks/physio.py`` (``--no-reference`` skips the references).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import dyadlab as dl

FS = 1000.0
WCC = {"window": 30.0, "step": 5.0, "max_lag": 5.0, "lag_step": 0.1}


def _ratings(minutes: float, rng: np.random.Generator) -> pd.DataFrame:
    n = int(minutes * 60 * 2)
    t = np.sort(rng.uniform(0, minutes * 60, n))
    value = np.clip(np.cumsum(rng.normal(0, 2, n)) + 50, 0, 100)
    return pd.DataFrame({"t": t, "rating": value})


def _direct_wcc(a: np.ndarray, b: np.ndarray, fs: float) -> np.ndarray:
    w, s = int(WCC["window"] * fs), int(WCC["step"] * fs)
    lags = np.arange(
        -int(WCC["max_lag"] * fs), int(WCC["max_lag"] * fs) + 1, round(WCC["lag_step"] * fs)
    )
    rows = []
    for t in range(0, len(a) - w + 1, s):
        row = []
        for lag in lags:
            if t + lag < 0 or t + lag + w > len(b):
                row.append(np.nan)
            else:
                row.append(np.corrcoef(a[t : t + w], b[t + lag : t + lag + w])[0, 1])
        rows.append(row)
    return np.array(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--no-reference", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    duration = args.minutes * 60
    signals = {}
    for k, name in enumerate(("woman", "man")):
        sig, _ = dl.physio.simulate_vpa(
            duration,
            sampling_rate=FS,
            heart_rate=70 + 5 * k,
            amplitude=lambda t: 1 + 0.3 * np.sin(t / 90),
            rng=k,
        )
        signals[name] = dl.physio.inject_artifacts(
            sig,
            sampling_rate=FS,
            spikes=list(rng.uniform(10, duration - 10, 20)),
            dropouts=[(600.0, 603.0)],
            steps=[1800.0],
        )
    ratings = {name: _ratings(args.minutes, rng) for name in signals}

    warnings.simplefilter("ignore")
    small, _ = dl.physio.simulate_vpa(20, sampling_rate=FS, rng=9)
    warm = dl.physio.vpa(small, FS)
    warm.series(10)
    dl.physio.bin_ratings(ratings["woman"].head(20), time="t", value="rating", step=0.1)
    dl.physio.synchrony(small[:2000], small[:2000], 10, window=30, step=5, max_lag=5, lag_step=0.1)

    t0 = time.perf_counter()
    results = {name: dl.physio.vpa(sig, FS) for name, sig in signals.items()}
    t1 = time.perf_counter()
    vpa10 = {name: r.series(10, end=duration)["vpa"].to_numpy() for name, r in results.items()}
    rat10 = {
        name: dl.physio.bin_ratings(r, time="t", value="rating", step=0.1, end=duration)[
            "rating"
        ].to_numpy()
        for name, r in ratings.items()
    }
    epochs = {name: r.epochs(step=1.0) for name, r in results.items()}
    t2 = time.perf_counter()
    sync_vpa = dl.physio.synchrony(vpa10["woman"], vpa10["man"], 10, **WCC)
    rat = {k: np.nan_to_num(v, nan=float(np.nanmean(v))) for k, v in rat10.items()}
    sync_rat = dl.physio.synchrony(rat["woman"], rat["man"], 10, **WCC)
    t3 = time.perf_counter()

    n_beats = sum(len(r.beats) for r in results.values())
    rejected = sum(int(r.beats["rejected"].sum()) for r in results.values())
    print(
        f"data: 2 partners × {args.minutes:g} min × {FS:g} Hz "
        f"({2 * len(signals['woman']):,} samples), {n_beats:,} beats "
        f"({rejected} rejected), {sum(len(e) for e in epochs.values()):,} 1-s epochs"
    )
    print(f"stage vpa   (band-pass, peaks, onsets, QC; both): {t1 - t0:6.2f} s")
    print(f"stage grid  (10 Hz VPA series, ratings, epochs):  {t2 - t1:6.2f} s")
    print(
        f"stage wcc   (2 × {sync_vpa.wcc.shape[0]} windows × "
        f"{sync_vpa.wcc.shape[1]} lags):           {t3 - t2:6.2f} s"
    )
    print(f"total: {t3 - t0:.2f} s (target ≤ 5 s)")
    print(f"  mean |r| VPA {sync_vpa.statistic():.3f}, ratings {sync_rat.statistic():.3f}")

    if args.no_reference:
        return
    import neurokit2 as nk

    r0 = time.perf_counter()
    direct = _direct_wcc(vpa10["woman"], vpa10["man"], 10)
    r1 = time.perf_counter()
    assert np.allclose(direct, sync_vpa.wcc, atol=1e-9, equal_nan=True)
    wcc_one = (t3 - t2) / 2
    print(
        f"reference WCC (direct loop over Boker's definition, one pair): {r1 - r0:.2f} s; "
        f"dyadlab {wcc_one:.3f} s; ratio {(r1 - r0) / wcc_one:.0f}×; matrices equal"
    )
    r2 = time.perf_counter()
    for sig in signals.values():
        clean = nk.ppg_clean(sig, sampling_rate=int(FS))
        nk.ppg_findpeaks(clean, sampling_rate=int(FS))
    r3 = time.perf_counter()
    print(
        f"reference NeuroKit2 ppg_clean + ppg_findpeaks (peaks only, both): {r3 - r2:.2f} s; "
        f"dyadlab vpa {t1 - t0:.2f} s; ratio {(r3 - r2) / (t1 - t0):.2f}×"
    )


if __name__ == "__main__":
    main()
