"""Two partners, one clock: offset and drift per device from shared sync events."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.exceptions import DyadicDataError, DyadlabWarning
from dyadlab.physio import Recording, align


def _device(
    true_times: np.ndarray,
    offset: float,
    drift: float,
    jitter: float,
    rng: np.random.Generator,
    labels: list[str] | None = None,
) -> Recording:
    # device clock: t_dev = (t_true - offset) / (1 + drift), plus jitter
    t_dev = (true_times - offset) / (1 + drift) + rng.normal(0, jitter, len(true_times))
    events = pd.DataFrame({"time_s": t_dev, "label": labels or ["sync"] * len(t_dev)})
    return Recording.from_arrays({"vpa": np.zeros(100)}, sampling_rates=1.0, events=events)


def test_offset_and_drift_recovered_with_residuals() -> None:
    rng = np.random.default_rng(1)
    true = np.array([10.0, 600.0, 1200.0, 1800.0, 2400.0, 3000.0])
    rec_a = _device(true, 0.0, 0.0, 0.0, rng)
    rec_b = _device(true, 12.5, 40e-6, 0.002, rng)  # 12.5 s late, 40 ppm fast, 2 ms jitter
    res = align({"a": rec_a, "b": rec_b}, reference="a")
    fit = res.fits.set_index("device").loc["b"]
    assert fit["offset_s"] == pytest.approx(12.5, abs=0.005)
    assert fit["drift_ppm"] == pytest.approx(40, abs=3)
    assert fit["n_events"] == 6
    assert 0.5 < fit["residual_rms_ms"] < 4.0
    assert fit["residual_max_ms"] == pytest.approx(res.events["residual_ms"].abs().max())
    # the aligned recording's events now sit on a's clock (within the jitter)
    np.testing.assert_allclose(res.recordings["b"].events["time_s"], true, atol=0.008)
    t = res.recordings["b"].time("vpa")
    np.testing.assert_allclose(t[1] - t[0], 1 + 40e-6, rtol=1e-5)
    assert res.recordings["b"].clock == "a"
    assert "offset +12.5" in res.summary()


def test_external_reference_aligns_both_partners() -> None:
    rng = np.random.default_rng(2)
    true = np.array([5.0, 300.0, 900.0, 1500.0])
    box = pd.DataFrame({"time_s": true, "label": ["tone"] * 4})
    recs = {
        "woman": _device(true, -3.0, -20e-6, 0.0, rng, ["tone"] * 4),
        "man": _device(true, 7.0, 15e-6, 0.0, rng, ["tone"] * 4),
    }
    res = align(recs, reference=box)
    fits = res.fits.set_index("device")
    assert fits.loc["woman", "offset_s"] == pytest.approx(-3.0)
    assert fits.loc["man", "drift_ppm"] == pytest.approx(15.0, abs=1e-3)
    assert fits.loc["man", "residual_rms_ms"] == pytest.approx(0.0, abs=1e-6)


def test_events_match_by_label_in_order() -> None:
    rng = np.random.default_rng(3)
    true = np.array([1.0, 50.0, 100.0])
    a = _device(true, 0.0, 0.0, 0.0, rng, ["start", "flash", "end"])
    b = _device(true, 2.0, 0.0, 0.0, rng, ["start", "flash", "end"])
    b.events = pd.concat([b.events, pd.DataFrame({"time_s": [70.0], "label": ["noise"]})])
    res = align({"a": a, "b": b}, reference="a", labels=["start", "flash", "end"])
    assert res.events["label"].tolist() == ["start", "flash", "end"]


def test_too_few_shared_events_is_a_clear_message() -> None:
    rng = np.random.default_rng(4)
    a = _device(np.array([1.0, 50.0]), 0.0, 0.0, 0.0, rng, ["sync", "other"])
    b = _device(np.array([1.0, 50.0]), 2.0, 0.0, 0.0, rng, ["sync", "else"])
    with pytest.raises(DyadicDataError, match=r"'b' has 1 sync event in common.*drift=False"):
        align({"a": a, "b": b}, reference="a")
    with pytest.warns(DyadlabWarning, match="fit the clock exactly"):
        res = align({"a": a, "b": b}, reference="a", drift=False)  # one event: offset only
    assert res.fits.set_index("device").loc["b", "offset_s"] == pytest.approx(2.0)
    c = _device(np.array([1.0]), 0.0, 0.0, 0.0, rng, ["zzz"])
    with pytest.raises(DyadicDataError, match="0 sync events in common"):
        align({"a": a, "c": c}, reference="a", drift=False)
    with pytest.raises(DyadicDataError, match="reference='x' is not one of"):
        align({"a": a}, reference="x")


def test_two_events_fit_exactly_and_say_so() -> None:
    rng = np.random.default_rng(5)
    true = np.array([1.0, 500.0])
    a, b = _device(true, 0.0, 0.0, 0.0, rng), _device(true, 1.0, 1e-5, 0.0, rng)
    with pytest.warns(DyadlabWarning, match="cannot be estimated"):
        res = align({"a": a, "b": b}, reference="a")
    assert np.isnan(res.fits.set_index("device").loc["b", "residual_rms_ms"])


def test_align_is_the_function_whichever_name_is_loaded_first() -> None:
    import subprocess
    import sys

    code = (
        "import dyadlab as dl\n"
        "dl.physio.Alignment  # loads the module dyadlab.physio.align first\n"
        "print(callable(dl.physio.align), type(dl.physio.align).__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "function"]
