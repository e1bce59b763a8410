"""Plots draw what they promise: rejected beats shaded, WCC heat map, forest plot."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd

import dyadlab as dl
from dyadlab.exceptions import DyadlabWarning
from dyadlab.physio import EditLog, simulate_vpa, vpa
from dyadlab.report.physio_plots import plot_partners

matplotlib.use("Agg")


def test_partners_on_one_axis_with_rejected_beats_shaded() -> None:
    import matplotlib.pyplot as plt

    a, _ = simulate_vpa(30, sampling_rate=200, rng=1)
    b, _ = simulate_vpa(30, sampling_rate=200, rng=2)
    ra = vpa(a, 200)
    t = float(ra.beats["peak_s"].iloc[3])
    ra = vpa(a, 200, edits=EditLog().reject(t).reject(float(ra.beats["peak_s"].iloc[9])))
    rb = vpa(b, 200)
    events = pd.DataFrame({"time_s": [5.0, 20.0], "label": ["film", "end"]})
    fig = plot_partners({"woman": ra, "man": rb}, events=events)
    ax = fig.axes[0]
    shaded = [p for p in ax.patches if p.get_alpha() == 0.15]
    assert len(shaded) == 2 == int(ra.beats["rejected"].sum()) + int(rb.beats["rejected"].sum())
    assert len([ln for ln in ax.lines if ln.get_linestyle() == "--"]) == 2
    plt.close(fig)


def test_wcc_heat_map_and_forest() -> None:
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(3)
    x = np.cumsum(rng.standard_normal(600))
    res = dl.physio.synchrony(x, np.roll(x, 5), 10, window=10, step=5, max_lag=2, lag_step=0.5)
    fig = res.plot()
    image = fig.axes[0].images[0]
    assert image.get_array().shape == (len(res.lags_s), len(res.windows))
    assert "a leads" in fig.axes[0].get_ylabel()
    plt.close(fig)
    data = dl.physio.simulate_concordance(n_dyads=3, n_epochs=60, r=0.5, rng=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        conc = dl.physio.concordance(
            data,
            subjective="subjective",
            genital="genital",
            person="person",
            dyad="dyad",
            time="epoch",
        )
    fig = conc.plot()
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-1] == "pooled" and len(labels) == 7
    plt.close(fig)


def test_report_sections_render() -> None:
    from dyadlab.report.html import render_report
    from dyadlab.report.physio_section import physio_sections

    a, _ = simulate_vpa(40, sampling_rate=200, rng=1)
    b, _ = simulate_vpa(40, sampling_rate=200, rng=2)
    res = {"woman": vpa(a, 200), "man": vpa(b, 200)}
    sync = dl.physio.synchrony(
        res["woman"].series(10)["vpa"],
        res["man"].series(10)["vpa"],
        10,
        window=10,
        step=5,
        max_lag=2,
        lag_step=0.5,
    )
    data = dl.physio.simulate_concordance(n_dyads=3, n_epochs=40, rng=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        conc = dl.physio.concordance(
            data,
            subjective="subjective",
            genital="genital",
            person="person",
            dyad="dyad",
            time="epoch",
        )
    sections = physio_sections(res, synchrony=sync, concordance=conc)
    assert [s.title for s in sections] == [
        "Genital response (VPA)",
        "Synchrony (windowed cross-correlation)",
        "Subjective–genital concordance",
    ]
    html = render_report("Session", sections)
    assert html.count("<img") == 3
    assert "positive lag means a leads" in html
