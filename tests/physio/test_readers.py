"""Readers: CSV/TSV, EDF/BDF (pyedflib), XDF (pyxdf), .acq (bioread) into one Recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dyadlab.exceptions import DyadicDataError, FileFormatError
from dyadlab.physio import Recording, read_acq, read_csv, read_edf, read_recording, read_xdf
from dyadlab.physio.grid import bin_ratings, resample

DATA = Path(__file__).parent / "data"


def test_csv_rate_from_time_column_and_events(tmp_path: Path) -> None:
    t = 10 + np.arange(500) / 250
    frame = pd.DataFrame({"t": t, "vpa": np.sin(t), "event": [""] * 500})
    frame.loc[100, "event"] = "film start"
    frame.loc[300, "event"] = "film end"
    frame.to_csv(tmp_path / "r.csv", index=False)
    rec = read_csv(tmp_path / "r.csv", time="t", event="event")
    assert rec.channels == ["vpa"]
    assert rec.rate("vpa") == pytest.approx(250)
    np.testing.assert_allclose(rec.time("vpa"), t)
    np.testing.assert_allclose(rec.signal("vpa"), np.sin(t))
    assert rec.events["label"].tolist() == ["film start", "film end"]
    np.testing.assert_allclose(rec.events["time_s"], [t[100], t[300]])


def test_tsv_with_rate(tmp_path: Path) -> None:
    pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}).to_csv(
        tmp_path / "r.tsv", sep="\t", index=False
    )
    rec = read_recording(tmp_path / "r.tsv", rate=2.0)
    assert rec.channels == ["a", "b"]
    np.testing.assert_allclose(rec.time("b"), [0.0, 0.5, 1.0])


def test_csv_sampling_rate_mismatch_is_named(tmp_path: Path) -> None:
    pd.DataFrame({"t": np.arange(10) / 100, "x": np.zeros(10)}).to_csv(
        tmp_path / "r.csv", index=False
    )
    with pytest.raises(DyadicDataError, match=r"sampling-rate mismatch.*rate=1000 Hz.*100 Hz"):
        read_csv(tmp_path / "r.csv", time="t", rate=1000)


def test_csv_needs_a_time_base(tmp_path: Path) -> None:
    pd.DataFrame({"x": [1.0, 2.0]}).to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(DyadicDataError, match="give time=COLUMN"):
        read_csv(tmp_path / "r.csv")


def test_channels_at_different_rates_cannot_be_one_table() -> None:
    rec = Recording.from_arrays(
        {"vpa": np.zeros(100), "rating": np.zeros(10)}, sampling_rates={"vpa": 100, "rating": 10}
    )
    with pytest.raises(DyadicDataError, match=r"sampling-rate mismatch.*'vpa' at 100 Hz"):
        rec.to_frame()
    both = resample(rec, 10.0).to_frame()
    assert list(both.columns) == ["time_s", "vpa", "rating"]
    assert len(both) == 10


def test_unknown_channel_suggests_the_closest() -> None:
    rec = Recording.from_arrays({"vpa_ac": [0.0, 1.0]}, sampling_rates=1.0)
    with pytest.raises(DyadicDataError, match="Did you mean 'vpa_ac'"):
        rec.signal("vpa_a")


def _write_edf(path: Path, file_type: int) -> tuple[np.ndarray, np.ndarray]:
    from pyedflib import highlevel

    vpa = np.sin(2 * np.pi * 1.2 * np.arange(2560) / 256) * 50
    scl = np.linspace(2, 4, 320)
    headers = highlevel.make_signal_headers(["VPA", "SCL"], physical_min=-100, physical_max=100)
    headers[0].update(sample_frequency=256, dimension="mV")
    headers[1].update(sample_frequency=32, dimension="uS")
    header = highlevel.make_header(patientname="anon")
    header["annotations"] = [[1.5, -1, "sync"], [7.25, -1, "stimulus"]]
    highlevel.write_edf(str(path), [vpa, scl], headers, header, file_type=file_type)
    return vpa, scl


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
def test_edf_and_bdf_round_trip(tmp_path: Path, suffix: str) -> None:
    import pyedflib

    ft = pyedflib.FILETYPE_EDFPLUS if suffix == ".edf" else pyedflib.FILETYPE_BDFPLUS
    path = tmp_path / f"rec{suffix}"
    vpa, scl = _write_edf(path, ft)
    rec = read_recording(path)
    assert rec.channels == ["VPA", "SCL"]
    assert rec.sampling_rates == {"VPA": 256.0, "SCL": 32.0}
    assert rec.units == {"VPA": "mV", "SCL": "uS"}
    resolution = 200 / 2**16  # the headers keep 16-bit digital ranges for both
    np.testing.assert_allclose(rec.signal("VPA"), vpa, atol=resolution)
    np.testing.assert_allclose(rec.signal("SCL"), scl, atol=resolution)
    assert rec.events["label"].tolist() == ["sync", "stimulus"]
    np.testing.assert_allclose(rec.events["time_s"], [1.5, 7.25])
    assert rec.duration("VPA") == pytest.approx(10.0)


def test_edf_bad_file(tmp_path: Path) -> None:
    (tmp_path / "bad.edf").write_text("not an edf")
    with pytest.raises(FileFormatError, match="not a readable EDF/BDF"):
        read_edf(tmp_path / "bad.edf")


@pytest.mark.parametrize("sync", [False, True])
def test_xdf_minimal_example_matches_pyxdf_documented_values(sync: bool) -> None:
    # Values from xdf-modules/example-files README and pyxdf's test/test_data.py:
    # stream SendDataC, 3 int16 channels at 10 Hz, time stamps 5.1 … 5.9, shifted by
    # the clock offset -0.1 s when clocks are synchronised; string markers become events.
    rec = read_xdf(DATA / "minimal.xdf", synchronize_clocks=sync, dejitter_timestamps=False)
    assert rec.channels == ["SendDataC/0", "SendDataC/1", "SendDataC/2"]
    expected_t = np.array([5.1, 5.2, 5.3, 5.4, 5.5, 5.6, 5.7, 5.8, 5.9]) - (0.1 if sync else 0)
    np.testing.assert_allclose(rec.time("SendDataC/0"), expected_t)
    np.testing.assert_array_equal(rec.signal("SendDataC/1"), [255, 22, 23, 24, 25, 22, 23, 24, 25])
    assert rec.rate("SendDataC/0") == pytest.approx(10)
    assert rec.clock == "lsl"
    assert rec.events["label"].tolist()[1:5] == ["Hello", "World", "from", "LSL"]
    np.testing.assert_allclose(rec.events["time_s"], np.arange(51, 60) / 10)
    fit = rec.info["clock_offsets"]["SendDataC"]
    np.testing.assert_allclose(fit["clock_times"], [6.1, 7.1])
    np.testing.assert_allclose(fit["clock_values"], [-0.1, -0.1])


def test_xdf_dejitter_keeps_the_regular_grid() -> None:
    rec = read_xdf(DATA / "minimal.xdf", dejitter_timestamps=True)
    np.testing.assert_allclose(np.diff(rec.time("SendDataC/2")), 0.1, atol=1e-9)


def test_acq_sample_from_bioread() -> None:
    rec = read_acq(DATA / "r42_test.acq")
    assert rec.channels == [
        "ECG (.05 - 150 Hz)",
        "EMG (30 - 500 Hz)",
        "EDA (0 - 35 Hz)",
        "CH4 Input",
    ]
    assert set(rec.sampling_rates.values()) == {1000.0}
    assert rec.units["EDA (0 - 35 Hz)"] == "microsiemen"
    assert len(rec.signal("ECG (.05 - 150 Hz)")) == 7901
    assert rec.signal("CH4 Input")[0] == pytest.approx(17.7734375)
    assert rec.events["label"].tolist() == ["Segment 1", "Segment 2"]
    np.testing.assert_allclose(rec.events["time_s"], [0.0, 3.881])


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="supported suffixes"):
        read_recording(tmp_path / "x.mat")


def test_bin_ratings_is_the_time_weighted_held_value() -> None:
    ratings = pd.DataFrame({"t": [0.25, 1.0, 1.5, 3.2], "r": [40.0, 60.0, 80.0, 0.0]})
    got = bin_ratings(ratings, time="t", value="r", step=1.0, end=4.0)
    # bin [0,1): 40 held from 0.25 → mean over its covered 0.75 s is 40
    # bin [1,2): 60 for 0.5 s, 80 for 0.5 s → 70; bin [2,3): 80; bin [3,4): 0.2*80 + 0.8*0
    np.testing.assert_allclose(got["r"], [40.0, 70.0, 80.0, 16.0])
