"""VBV from the DC channel; heart rate and skin conductance through NeuroKit2."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio import epoch_means, heart_rate, skin_conductance, vbv


def test_vbv_epoch_means_and_change_from_baseline() -> None:
    fs = 100
    t = np.arange(120 * fs) / fs
    dc = 2.0 + 0.5 * (t >= 60) + 0.05 * np.sin(2 * np.pi * 1.2 * t)  # pulse ripple removed
    out = vbv(dc, fs, step=10.0, baseline=(0, 30))
    assert len(out) == 12
    np.testing.assert_allclose(out["change"].iloc[:5], 0.0, atol=0.01)
    np.testing.assert_allclose(out["change"].iloc[7:], 0.5, atol=0.01)
    with pytest.raises(DyadicDataError, match="no whole epoch"):
        vbv(dc, fs, step=10.0, baseline=(500, 600))
    with pytest.raises(DyadicDataError, match="cutoff=80"):
        vbv(dc, fs, cutoff=80)


def test_epoch_means_checks() -> None:
    with pytest.raises(DyadicDataError, match="shorter than one epoch"):
        epoch_means(np.zeros(5), 10, step=1.0)
    with pytest.raises(DyadicDataError, match="not a whole number of samples"):
        epoch_means(np.zeros(50), 10, step=0.25)


@pytest.mark.parametrize(("kind", "bpm"), [("ppg", 66), ("ecg", 75)])
def test_heart_rate_recovers_the_simulated_rate(kind: str, bpm: int) -> None:
    import neurokit2 as nk

    simulate = nk.ppg_simulate if kind == "ppg" else nk.ecg_simulate
    sig = simulate(duration=60, sampling_rate=250, heart_rate=bpm, random_state=2)
    hr = heart_rate(sig, 250, kind=kind, step=10.0)
    assert len(hr) == 6
    assert abs(hr["heart_rate"].median() - bpm) < 4


def test_skin_conductance_counts_responses() -> None:
    import neurokit2 as nk

    eda = nk.eda_simulate(duration=60, sampling_rate=50, scr_number=4, random_state=3)
    out = skin_conductance(eda, 50, step=10.0)
    assert list(out.columns) == ["start_s", "end_s", "tonic", "phasic", "n_scr"]
    assert out["n_scr"].sum() == 4
