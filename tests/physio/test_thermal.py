"""thermal_roi: ROI temperatures from irregular frames, implausible values left out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dyadlab.exceptions import DyadicDataError
from dyadlab.physio import thermal_roi


def _frames(seed: int = 0) -> pd.DataFrame:
    """10 min at ~8 fps with dropped frames: 2 min baseline, then a 0.5 °C/min rise of the
    labia; the thigh (control) stays; 1 % of labia values are tracker losses (0 or 90 °C)."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.05, 0.2, 6000))
    t = t[t < 600][rng.random((t < 600).sum()) > 0.1]  # 10 % of frames dropped
    rise = np.clip(t - 120, 0, None) / 60 * 0.5
    labia = 33.0 + rise + rng.normal(0, 0.05, len(t))
    lost = rng.random(len(t)) < 0.01
    labia[lost] = rng.choice([0.0, 90.0], lost.sum())
    thigh = 31.0 + rng.normal(0, 0.05, len(t))
    return pd.DataFrame({"time_s": t, "labia": labia, "thigh": thigh, "lost": lost})


def test_change_from_baseline_recovers_the_known_rise() -> None:
    frames = _frames()
    out = thermal_roi(
        frames, time="time_s", rois=["labia", "thigh"], step=10.0, baseline=(0, 120), end=600
    )
    assert len(out) == 60 and out["start_s"].iloc[-1] == 590
    mid = out["start_s"] + 5
    truth = np.clip(mid - 120, 0, None) / 60 * 0.5
    # the ramp is linear inside an epoch, so the epoch mean equals it at the midpoint
    np.testing.assert_allclose(out["labia_change"], truth, atol=0.03)
    np.testing.assert_allclose(out["thigh_change"], 0.0, atol=0.03)
    assert out.attrs["rejected"] == {"labia": int(frames["lost"].sum()), "thigh": 0}
    assert out.attrs["rejected"]["labia"] > 0
    kept = frames.loc[~frames["lost"]]
    first = kept.loc[kept["time_s"] < 10, "labia"]
    assert out["labia_frames"].iloc[0] == len(first)
    assert out["labia"].iloc[0] == pytest.approx(first.mean())


def test_an_epoch_without_frames_is_missing_not_zero() -> None:
    frames = pd.DataFrame({"t": [0.5, 1.5, 3.5], "roi": [33.0, 33.5, 34.0]})
    out = thermal_roi(frames, time="t", rois=["roi"])
    assert out["roi"].isna().tolist() == [False, False, True, False]
    assert out["roi_frames"].tolist() == [1, 1, 0, 1]
    assert out.attrs["empty_epochs"] == {"roi": 1}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rois": []}, "rois is empty"),
        ({"rois": ["penis"]}, "'penis'"),
        ({"step": 0}, "step=0 must be a positive"),
        ({"baseline": (100, 101)}, "no whole epoch lies in the baseline"),
        ({"plausible": (42, 20)}, "low < high"),
    ],
)
def test_bad_input_is_named(kwargs: dict[str, object], message: str) -> None:
    frames = pd.DataFrame({"t": [0.0, 1.0, 2.0], "roi": [33.0, 33.1, 33.2]})
    args: dict[str, object] = {"time": "t", "rois": ["roi"], **kwargs}
    with pytest.raises(DyadicDataError, match=message.replace("(", r"\(")):
        thermal_roi(frames, **args)  # type: ignore[arg-type]


def test_clock_going_backwards_and_a_lost_baseline_are_refused() -> None:
    back = pd.DataFrame({"t": [0.0, 2.0, 1.0], "roi": [33.0, 33.1, 33.2]})
    with pytest.raises(DyadicDataError, match="goes backwards at row 2"):
        thermal_roi(back, time="t", rois=["roi"])
    lost = pd.DataFrame({"t": [0.0, 0.5, 2.0], "roi": [0.0, 0.0, 33.2]})
    with pytest.raises(DyadicDataError, match="no valid frame in the baseline"):
        thermal_roi(lost, time="t", rois=["roi"], baseline=(0, 1))
