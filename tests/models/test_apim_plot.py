"""The APIM path diagram: a Figure, one panel per predictor, boxes that hold their text."""

from __future__ import annotations

import warnings
from typing import Any

import matplotlib
import pytest

import dyadlab as dl
from dyadlab.exceptions import DyadlabWarning, OptionError

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

Y = "relationship_satisfaction"
X = ["perceived_partner_responsiveness", "stress"]


@pytest.fixture(scope="module")
def result() -> Any:
    df = dl.simulate_apim(60, rng=5, n_predictors=2).rename(
        columns={"y": Y, "x1": X[0], "x2": X[1]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return dl.apim(df, y=Y, x=X, dyad="dyad", role="role")


def _boxes(ax: Any, renderer: Any) -> list[Any]:
    """Window extents of the variable boxes (patches or text bounding boxes)."""
    out = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyBboxPatch)]
    for t in ax.texts:
        patch = t.get_bbox_patch()
        if patch is not None and tuple(patch.get_edgecolor()) == (0.0, 0.0, 0.0, 1.0):
            out.append(patch.get_window_extent(renderer))
    return out


def test_plot_returns_a_figure_with_one_panel_per_predictor(result: Any) -> None:
    fig = result.plot()
    assert isinstance(fig, Figure)
    assert [a.get_title().replace("\n", " ") for a in fig.axes] == [f"APIM: {x} → {Y}" for x in X]
    one = result.plot(predictor="stress")
    assert isinstance(one, Figure) and len(one.axes) == 1
    assert "stress" in one.axes[0].get_title()
    with pytest.raises(OptionError, match="not a predictor"):
        result.plot(predictor="strss")
    _, ax = plt.subplots()
    assert result.plot(ax=ax) is ax.figure
    plt.close("all")


def test_long_names_stay_inside_their_boxes(result: Any) -> None:
    out = result.plot(predictor=X[0])
    fig = out if isinstance(out, Figure) else out.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = _boxes(ax, renderer)
        assert len(boxes) == 4
        inside = ax.get_window_extent(renderer)
        for name in (Y, *X):
            for t in ax.texts:
                if name[:10] not in t.get_text():
                    continue
                e = t.get_window_extent(renderer)
                assert any(
                    b.x0 <= e.x0 and e.x1 <= b.x1 and b.y0 <= e.y0 and e.y1 <= b.y1 for b in boxes
                ), f"{name!r} runs out of its box"
        for b in boxes:  # boxes inside the panel and not on top of each other
            assert inside.x0 <= b.x0 and b.x1 <= inside.x1
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert not a.overlaps(b)
    plt.close("all")


def test_report_embeds_every_panel(result: Any, tmp_path: Any) -> None:
    path = result.report(tmp_path / "apim.html")
    assert path.read_text().count("<img") >= 1


def _all_models() -> dict[str, Any]:
    from dyadlab.data.datasets import load_acitelli

    aci = load_acitelli()
    apim_df = dl.simulate_apim(40, rng=2)
    apim_df["z"] = apim_df["y"] + apim_df["x"] + 0.5
    diary_df = dl.simulate_diary(8, 5, rng=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        return {
            "apim": dl.apim(apim_df, y="y", x="x", dyad="dyad", role="role"),
            "apim_mediation": dl.apim_mediation(
                apim_df, x="x", m="y", y="z", dyad="dyad", role="role", bootstrap=0
            ),
            "diary": dl.diary(
                diary_df, y="y", x="x", dyad="dyad", person="person", time="time", role="role"
            ),
            "truth_bias": dl.truth_bias(
                aci, judgment="other_pos", truth="self_pos", dyad="cuplid", role="gender"
            ),
            "power": dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=[50, 100]),
        }


def test_every_public_model_plot_returns_a_figure() -> None:
    for name, res in _all_models().items():
        fig = res.plot()
        assert isinstance(fig, Figure), f"{name}.plot() returned {type(fig).__name__}"
        assert fig.axes, name
        plt.close(fig)
