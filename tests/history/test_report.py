"""The history report: its sections and figures, from the function and the command."""

from __future__ import annotations

import re

import matplotlib
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.cli import main

matplotlib.use("Agg")


def _persons(frame):
    persons = sorted(set(frame["person"]), key=lambda p: int(p[1:]))
    return pd.DataFrame(
        {"person": persons, "birth": [f"{1995 + i % 6}-0{1 + i % 9}" for i in range(len(persons))]}
    )


def test_report_has_every_section_and_figure(tmp_path):
    frame, truth = dl.history.simulate_episodes(15, rng=8)
    out = dl.history.write_history_report(
        frame,
        tmp_path / "h.html",
        until=truth.until,
        clusters=3,
        persons=_persons(frame),
        figures_dir=tmp_path / "fig",
    )
    html = out.read_text(encoding="utf-8")
    for title in [
        "Data",
        "Episodes by type",
        "Timelines",
        "State sequences",
        "Clusters of sequences (k = 3)",
        "Ages at first episodes",
    ]:
        assert f"<h2>{title}</h2>" in html
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 5
    assert "placed on the 1st of July" in html  # the placement warnings are shown
    assert "<h3>Concurrency</h3>" in html and "<h3>States</h3>" in html
    assert sorted(p.suffix for p in (tmp_path / "fig").iterdir()).count(".svg") == 5


def test_report_command(tmp_path, capsys):
    frame, truth = dl.history.simulate_episodes(6, rng=2, imprecise=0)
    episodes, persons = tmp_path / "e.csv", tmp_path / "p.csv"
    frame.to_csv(episodes, index=False)
    _persons(frame).to_csv(persons, index=False)
    out = tmp_path / "r.html"
    argv = ["history", "report", str(episodes), "--out", str(out), "--until"]
    argv += [truth.until.isoformat(), "--clusters", "2", "--persons", str(persons)]
    assert main(argv) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert "Sequence index plot" in html and "SHA-256" in html
    assert main([*argv[:5], "--clusters", "0"]) == 2
    assert "--clusters must be 1 or more" in capsys.readouterr().err


@pytest.mark.parametrize("unit", ["quarter", "week"])
def test_report_in_other_units(tmp_path, unit):
    frame, truth = dl.history.simulate_episodes(4, rng=1, imprecise=0)
    out = dl.history.write_history_report(frame, tmp_path / "h.html", until=truth.until, unit=unit)
    assert f"one cell per {unit}" in out.read_text(encoding="utf-8")


def test_results_draw_themselves():
    import matplotlib.pyplot as plt

    frame, truth = dl.history.simulate_episodes(5, rng=4, imprecise=0)
    res = dl.history.sequences(frame, until=truth.until)
    ax = res.plot()
    assert ax.get_ylabel() == "person" and len(ax.get_yticklabels()) == 5
    d = pd.DataFrame({"age": [14.0, 15.0, 16.0, 17.0], "event": [1, 0, 1, 0]})
    ax2 = dl.history.time_to_event(d).plot()
    assert ax2.get_ylabel() == "share without the event"
    plt.close("all")


def test_state_colours_mix_the_types_of_a_combined_state():
    from dyadlab.report.history_plots import state_colours

    colours = state_colours(["none", "casual", "romantic", "casual+romantic"])
    assert len(set(colours.values())) == 4
    assert colours["none"] == "#e6e6e6"
