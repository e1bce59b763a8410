"""dl.physio.read_ratings: the platform's ratings export as signals (bad input named)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import FileFormatError


def _export(path, n=50):
    t = np.arange(n) * 100.0
    rows = []
    for person, role, shift in ((11, "partner_a", 0.0), (12, "partner_b", 30.0)):
        rows.append(
            pd.DataFrame(
                {
                    "dyad": 4,
                    "person": person,
                    "role": role,
                    "session": 9,
                    "rating": "arousal",
                    "t_ms": t + shift,
                    "value": np.linspace(0, 100, n),
                    "clock_offset_ms": 90_000.0,
                    "clock_drift_ppm": 12.5,
                    "clock_rtt_ms": 8.0,
                }
            )
        )
    pd.concat(rows).to_csv(path, index=False)
    pd.DataFrame(
        {
            "dyad": 4,
            "session": 9,
            "rating": "arousal",
            "kind": ["start", "stimulus", "stop"],
            "label": [None, "film", None],
            "source": "partner",
            "t_ms": [0.0, 1500.0, 4900.0],
        }
    ).to_csv(path.with_name(f"{path.stem}_markers.csv"), index=False)


def test_each_person_is_a_recording_on_the_server_clock(tmp_path):
    path = tmp_path / "ratings.csv"
    _export(path)
    recs = dl.physio.read_ratings(path)
    assert sorted(recs) == [(9, 11), (9, 12)]
    b = recs[(9, 12)]
    assert b.time("arousal")[:2].tolist() == pytest.approx([0.03, 0.13])
    assert b.rate("arousal") == pytest.approx(10.0)
    assert b.info["clock_drift_ppm"] == 12.5 and b.info["dyad"] == 4
    assert b.events["time_s"].tolist() == [0.0, 1.5, 4.9]
    only = dl.physio.read_ratings(path, person=11)
    assert list(only) == [(9, 11)]
    binned = dl.physio.bin_ratings(
        pd.DataFrame({"t": b.time("arousal"), "v": b.signal("arousal")}),
        time="t",
        value="v",
        step=1.0,
        end=5.0,
    )
    assert len(binned) == 5


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: pd.DataFrame({"t": [1]}).to_csv(p, index=False), "no column(s) dyad"),
    ],
)
def test_bad_files_are_named(tmp_path, make, message):
    path = tmp_path / "r.csv"
    make(path)
    with pytest.raises(FileFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dl.physio.read_ratings(path)


def test_an_empty_selection_is_named(tmp_path):
    path = tmp_path / "ratings.csv"
    _export(path)
    with pytest.raises(FileFormatError, match=r"no samples .* session=10"):
        dl.physio.read_ratings(path, session=10)
