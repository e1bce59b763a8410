"""The path diagram's labels: scale-aware decimals, role labels, CIs, readable sizes (issue 19)."""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any

import matplotlib
import pytest

import dyadlab as dl
from dyadlab.data.datasets import load_acitelli
from dyadlab.exceptions import DyadlabWarning, OptionError
from dyadlab.report.apa_format import MINUS
from dyadlab.report.html import figure_from_matplotlib

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def percent() -> Any:
    """The Acitelli APIM with tension on a 0–100 scale: per-unit effects near 0.01."""
    df = load_acitelli()
    df["tension"] = df["tension"] * 20
    return dl.apim(df, y="satisfaction", x="tension", dyad="cuplid", role="gender")


def _texts(fig: Any) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_per_unit_effects_on_a_0_100_scale_keep_their_digits(percent: Any) -> None:
    fig = percent.plot(labels={-1: "wife", 1: "husband"})
    texts = _texts(fig)
    est = percent.estimates.set_index(["effect", "role"])["estimate"]
    actor_wife = est[("actor", "-1")]  # -0.0208: two decimals would print -0.02
    assert f"{actor_wife:.4f}".replace("-", MINUS) + "***" in texts
    numbers = [t for t in texts if re.match(rf"^[{MINUS}-]?0\.\d+\**$", t)]
    assert len(numbers) == 4
    for text in numbers:  # every estimate shows at least two significant digits
        digits = text.rstrip("*").split(".")[1].lstrip("0")
        assert len(digits) >= 2, text
    assert "tension\n(wife)" in texts and not any("(-1)" in t for t in texts)
    matplotlib.pyplot.close(fig)


def test_ci_labels_and_options(percent: Any) -> None:
    fig = percent.plot(show="ci")
    ci = [t for t in _texts(fig) if "\n[" in t]
    assert len(ci) == 4
    row = percent.estimates.query("effect == 'actor'").iloc[0]
    assert f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]".replace("-", MINUS) in " ".join(ci)
    matplotlib.pyplot.close(fig)
    with pytest.raises(OptionError, match="show='both'"):
        percent.plot(show="both")


@pytest.mark.parametrize("show", ["stars", "ci"])
def test_labels_do_not_overlap_and_stay_readable_on_a_phone(percent: Any, show: str) -> None:
    fig = percent.plot(show=show, labels={-1: "wife", 1: "husband"})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    labels = [
        t
        for t in ax.texts
        if t.get_bbox_patch() is None or t.get_bbox_patch().get_edgecolor()[3] == 0
    ]
    extents = [t.get_window_extent(renderer) for t in labels if t.get_text().strip()]
    for a, b in itertools.combinations(extents, 2):
        assert not a.overlaps(b), (a, b)
    figure = figure_from_matplotlib(fig, "APIM")
    # at 120 dpi the smallest text is 10.5 pt = 17.5 px; shown 325 px wide it is 10 px
    assert figure.min_font_px is not None and figure.min_font_px >= 17.5 - 1e-9
    assert figure.min_width_px() is not None and figure.min_width_px() <= 330
    width_print = figure.png_print is not None and figure.png_print[16:20]
    assert width_print and int.from_bytes(width_print, "big") >= 2.4 * figure.size_px[0]
    assert figure.pdf is not None and figure.pdf.startswith(b"%PDF")


def test_indistinguishable_diagram_and_residual_r_without_leading_zero() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid")
    fig = res.plot()
    texts = _texts(fig)
    assert "tension\n(member 1)" in texts
    rho = float(res.variance_components.set_index("name").loc["residual_correlation", "estimate"])
    assert f"{rho:.2f}"[1:] in texts  # ".44"
    matplotlib.pyplot.close(fig)


def test_diagram_prints_standardised_and_unstandardised_effects() -> None:
    from dyadlab.report.apa_table import standardized_effects

    data = load_acitelli()
    res = dl.apim(data, y="satisfaction", x="tension", dyad="cuplid", role="gender")
    fig = res.plot(data=data, labels={-1: "wife", 1: "husband"})
    texts = _texts(fig)
    beta = standardized_effects(res, data)[("actor", "tension", "-1")]  # lavaan: -0.5568
    assert f"{MINUS}0.416***\nβ = {MINUS}{abs(beta):.2f}" in texts
    assert sum("β = " in t for t in texts) == 4
    matplotlib.pyplot.close(fig)
