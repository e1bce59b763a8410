"""VPA against simulated pulse waves with known beats, artefacts, edits and epochs.

The bounds asserted here are the ones vpa()'s docstring states.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dyadlab.exceptions import DyadicDataError, DyadlabWarning
from dyadlab.physio import EditLog, inject_artifacts, simulate_vpa, standardize, vpa

FS = 1000.0
DURATION = 240.0


def _signal(seed: int) -> tuple[np.ndarray, pd.DataFrame]:
    return simulate_vpa(
        DURATION,
        sampling_rate=FS,
        heart_rate=72,
        amplitude=lambda t: 1 + 0.5 * np.sin(2 * np.pi * t / 120),
        rng=seed,
    )


def _match(found: np.ndarray, truth: np.ndarray) -> np.ndarray:
    j = np.clip(np.searchsorted(truth, found), 1, len(truth) - 1)
    return np.where(np.abs(truth[j - 1] - found) < np.abs(truth[j] - found), j - 1, j)


def _inner(times: pd.Series | np.ndarray) -> np.ndarray:
    t = np.asarray(times)
    return (t > 1.0) & (t < DURATION - 1.0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_beats_recovered_within_stated_bounds(seed: int) -> None:
    sig, truth = _signal(seed)
    beats = vpa(sig, FS).beats
    truth_in = truth.loc[_inner(truth["peak_s"])]
    # every true beat is found, its peak within 25 ms
    j = _match(truth_in["peak_s"].to_numpy(), beats["peak_s"].to_numpy())
    assert np.abs(beats["peak_s"].to_numpy()[j] - truth_in["peak_s"].to_numpy()).max() < 0.025
    inner = beats.loc[_inner(beats["peak_s"])]
    assert len(inner) == len(truth_in)
    assert not inner["rejected"].any()
    k = _match(inner["peak_s"].to_numpy(), truth["peak_s"].to_numpy())
    rel = np.abs(inner["amplitude"].to_numpy() / truth["amplitude"].to_numpy()[k] - 1)
    assert rel.max() < 0.08
    assert np.median(rel) < 0.015
    # onsets are the minima before each peak: within 25 ms of the true onsets
    assert np.abs(inner["onset_s"].to_numpy() - truth["onset_s"].to_numpy()[k]).max() < 0.025


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_artefacts_are_rejected_and_kept_beats_stay_accurate(seed: int) -> None:
    sig, truth = _signal(seed)
    spikes, dropout, step = [50.3, 120.7], (80.0, 83.0), 200.2
    dirty = inject_artifacts(sig, sampling_rate=FS, spikes=spikes, dropouts=[dropout], steps=[step])
    beats = vpa(dirty, FS).beats
    inner = beats.loc[_inner(beats["peak_s"])]
    kept = inner.loc[~inner["rejected"]]
    k = _match(kept["peak_s"].to_numpy(), truth["peak_s"].to_numpy())
    assert np.abs(kept["amplitude"].to_numpy() / truth["amplitude"].to_numpy()[k] - 1).max() < 0.08
    # every beat whose span [onset, next onset) holds an artefact is rejected
    spans = np.column_stack([inner["onset_s"], np.append(inner["onset_s"].to_numpy()[1:], np.inf)])
    hit = np.zeros(len(inner), dtype=bool)
    for t in [*spikes, step]:
        hit |= (spans[:, 0] <= t) & (t < spans[:, 1])
    hit |= (spans[:, 1] > dropout[0]) & (spans[:, 0] < dropout[1])
    assert hit.sum() >= 4
    assert inner["rejected"].to_numpy()[hit].all()
    reasons = set(";".join(inner["reason"].dropna()).split(";"))
    assert {"jump", "near jump", "ibi"} <= reasons
    # not much else is lost: under 15 % of beats rejected
    assert inner["rejected"].mean() < 0.15


def test_ibi_rule_uses_the_stated_interval() -> None:
    sig, _ = simulate_vpa(60, sampling_rate=500, heart_rate=72, rng=4)
    with pytest.warns(DyadlabWarning, match="of beats were rejected"):
        res = vpa(sig, 500, min_ibi=0.9, max_ibi=1.5)  # 72 bpm = 0.83 s: all too short
    assert (res.beats["reason"].str.contains("ibi")).mean() > 0.8
    assert res.settings["min_ibi"] == 0.9
    assert res.settings["band"] == [0.5, 8.0]


def test_settings_are_recorded_and_band_checked() -> None:
    sig, _ = simulate_vpa(20, sampling_rate=100, rng=0)
    res = vpa(sig, 100, band=(0.7, 10.0))
    assert res.settings["band"] == [0.7, 10.0]
    assert res.settings["sampling_rate"] == 100.0
    with pytest.raises(DyadicDataError, match=r"band=.*sampling_rate / 2"):
        vpa(sig, 100, band=(0.5, 60.0))


def test_a_channel_without_beats_is_a_clear_error() -> None:
    with pytest.raises(DyadicDataError, match="fewer than two pulse peaks"):
        vpa(np.zeros(5000), 500)


def test_too_short_and_all_missing() -> None:
    with pytest.raises(DyadicDataError, match="at least 2 s"):
        vpa(np.zeros(100), 100)
    with pytest.raises(DyadicDataError, match="every sample"):
        vpa(np.full(1000, np.nan), 100)


def test_missing_samples_reject_their_beats() -> None:
    sig, _ = simulate_vpa(60, sampling_rate=500, rng=5)
    sig[10_000:10_050] = np.nan  # 20.0-20.1 s
    beats = vpa(sig, 500).beats
    around = beats.loc[(beats["onset_s"] <= 20.1) & (beats["onset_s"] > 19.0)]
    assert "missing" in ";".join(around["reason"].dropna())


def test_edit_log_is_replayed(tmp_path: Path) -> None:
    sig, _ = simulate_vpa(60, sampling_rate=500, rng=6)
    first = vpa(sig, 500).beats
    t_reject, t_delete, t_accept = first["peak_s"].iloc[[10, 20, 30]]
    log = EditLog().reject(t_reject + 0.02, note="movement").delete(t_delete).accept(t_accept)
    log.add(1000.0)  # matches nothing
    path = log.save(tmp_path / "edits.json")
    assert json.loads(path.read_text())[0] == {
        "action": "reject",
        "time_s": t_reject + 0.02,
        "note": "movement",
    }
    with pytest.warns(DyadlabWarning, match="1 manual edit"):
        again = vpa(sig, 500, edits=EditLog.load(path))
    b = again.beats
    row = b.loc[np.isclose(b["peak_s"], t_reject)].iloc[0]
    assert row["rejected"] and row["reason"] == "manual" and row["edit"] == "reject"
    assert not np.isclose(b["peak_s"], t_delete).any()
    assert len(b) == len(first) - 1
    # deleting a peak merges two beats: the next one's IBI now spans both
    nxt = b.loc[b["peak_s"] > t_delete].iloc[0]
    assert nxt["ibi_s"] > 1.3
    assert again.edits["matched"].tolist() == [True, True, True, False]


def test_added_peak_snaps_to_the_local_maximum() -> None:
    sig, _ = simulate_vpa(30, sampling_rate=500, rng=7)
    first = vpa(sig, 500).beats
    t = float(first["peak_s"].iloc[5])
    deleted = vpa(sig, 500, edits=EditLog().delete(t)).beats
    restored = vpa(sig, 500, edits=EditLog().delete(t).add(t + 0.06)).beats
    assert len(deleted) == len(first) - 1
    assert len(restored) == len(first)
    np.testing.assert_allclose(restored["peak_s"], first["peak_s"])
    assert restored.loc[np.isclose(restored["peak_s"], t), "edit"].iloc[0] == "add"


def test_epochs_mean_of_kept_beats_and_percent_rejected() -> None:
    sig, _ = simulate_vpa(30, sampling_rate=500, rng=8)
    res = vpa(sig, 500)
    t = float(res.beats["peak_s"].iloc[3])
    res = vpa(sig, 500, edits=EditLog().reject(t))
    ep = res.epochs(step=5.0)
    assert len(ep) == 6
    assert ep["n_beats"].sum() == len(res.beats)
    k = int(t // 5)
    b = res.beats
    inside = b.loc[(b["peak_s"] >= 5 * k) & (b["peak_s"] < 5 * k + 5)]
    assert ep.loc[k, "vpa"] == pytest.approx(inside.loc[~inside["rejected"], "amplitude"].mean())
    assert ep.loc[k, "percent_rejected"] == pytest.approx(100 / len(inside))
    stim = pd.DataFrame(
        {"start_s": [0.0, 10.0], "end_s": [10.0, 30.0], "label": ["neutral", "erotic"]}
    )
    per = res.epochs(stimuli=stim)
    assert per["label"].tolist() == ["neutral", "erotic"]
    assert per["n_beats"].sum() == len(b)


def test_standardize_within_person() -> None:
    f = pd.DataFrame({"p": ["a"] * 3 + ["b"] * 3, "v": [1.0, 2.0, 3.0, 10.0, 20.0, 60.0]})
    z = standardize(f, "v", by="p")
    for _, g in z.groupby("p"):
        assert g["v_z"].mean() == pytest.approx(0)
        assert g["v_z"].std() == pytest.approx(1)


def test_result_json_and_summary() -> None:
    sig, _ = simulate_vpa(20, sampling_rate=250, rng=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = vpa(sig, 250)
    d = json.loads(res.to_json())
    assert d["model"] == "physio_vpa"
    assert set(d["beats"][0]) >= {"onset_s", "peak_s", "amplitude", "rejected", "reason"}
    assert d["settings"]["band"] == [0.5, 8.0]
    assert d["estimates"][0]["effect"] == "mean_amplitude"
    assert "band-pass 0.5–8 Hz" in res.summary()


def test_series_interpolates_kept_beats_on_a_grid() -> None:
    sig, _ = simulate_vpa(30, sampling_rate=500, rng=10)
    res = vpa(sig, 500)
    t = float(res.beats["peak_s"].iloc[6])
    res = vpa(sig, 500, edits=EditLog().reject(t))
    s = res.series(10)
    assert len(s) == 300
    kept = res.accepted
    np.testing.assert_allclose(s["vpa"], np.interp(s["time_s"], kept["peak_s"], kept["amplitude"]))
    assert not np.isclose(s["vpa"], res.beats.loc[6, "amplitude"]).any()
