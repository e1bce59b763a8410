"""The coders' confusion-matrix plot shows the confusion table's counts."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import dyadlab as dl
from dyadlab.exceptions import OptionError
from dyadlab.report.observe_plots import confusion_plot

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    """Close this module's figures: matplotlib warns (an error here) past 20 open."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def test_confusion_plot_writes_every_count_and_the_agreement():
    sim = dl.observe.simulate_sessions(3, minutes=3, rng=4)
    units = dl.observe.time_units(sim)
    table = dl.observe.confusion_table(units, unit="unit", coder="coder", code="code")
    fig = confusion_plot(table)
    ax = fig.axes[0]
    texts = [int(t.get_text()) for t in ax.texts]
    assert texts == table.to_numpy().ravel().tolist()
    n, agree = table.to_numpy().sum(), np.trace(table.to_numpy())
    assert ax.get_title().startswith(f"Agreement: {agree} of {n} units")
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(c) for c in table.index]
    assert ax.get_ylabel() == "coder A" and ax.get_xlabel() == "coder B"


def test_confusion_plot_normalised_rows():
    sim = dl.observe.simulate_sessions(2, minutes=2, rng=5)
    units = dl.observe.time_units(sim)
    table = dl.observe.confusion_table(units, unit="unit", coder="coder", code="code")
    image = confusion_plot(table, normalize=True).axes[0].images[0].get_array()
    np.testing.assert_allclose(np.asarray(image).sum(axis=1), 1.0)


def test_agreement_result_plots_its_confusion_matrix():
    sim = dl.observe.simulate_sessions(2, minutes=2, rng=5)
    units = dl.observe.time_units(sim)
    res = dl.observe.agreement(units, unit="unit", coder="coder", code="code", method="gwet")
    table = dl.observe.confusion_table(units, unit="unit", coder="coder", code="code")
    pd.testing.assert_frame_equal(res.confusion, table, check_dtype=False)
    ax = res.plot().axes[0]
    assert [int(t.get_text()) for t in ax.texts] == table.to_numpy().ravel().tolist()
    assert res.to_dict()["confusion"] == table.to_numpy().tolist()
    three = pd.DataFrame({"u": [1, 1, 1], "c": ["a", "b", "c"], "k": ["x", "x", "y"]})
    res3 = dl.observe.agreement(three, unit="u", coder="c", code="k", method="fleiss")
    assert res3.confusion is None
    with pytest.raises(OptionError, match="exactly 2 coders"):
        res3.plot()
