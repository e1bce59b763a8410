"""Plots for dyadic diary data: per-couple trajectories of both partners.

matplotlib is imported inside the function, so importing this module stays cheap.

Examples
--------
>>> import dyadlab as dl
>>> from dyadlab.report.diary_plots import plot_trajectories
>>> df = dl.simulate_diary(4, 10, rng=1)
>>> fig = plot_trajectories(df, y="y", dyad="dyad", person="person", time="time", role="role")
>>> sum(ax.get_visible() for ax in fig.axes)
4
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric
from dyadlab.exceptions import DyadicDataError

__all__ = ["plot_trajectories"]


def plot_trajectories(
    data: pd.DataFrame,
    *,
    y: str,
    dyad: str,
    person: str,
    time: str,
    role: str | None = None,
    dyads: Sequence[Any] | None = None,
    max_dyads: int = 6,
    ncols: int = 2,
) -> Any:
    """Draw each couple's daily outcome, one panel per couple, one line per partner.

    Parameters
    ----------
    data : DataFrame
        Individual (long) format, one row per person-occasion.
    y, dyad, person, time : str
        Outcome, dyad id, person id and occasion columns.
    role : str, optional
        Colours and labels lines by role; otherwise by person id.
    dyads : sequence, optional
        Which couples to draw; default the first ``max_dyads`` in the data.
    max_dyads : int
        At most this many panels when ``dyads`` is not given.
    ncols : int
        Panels per row (two keep the text, at least 10 pt, readable at a phone's width
        when the report scrolls the figure sideways).

    Returns
    -------
    matplotlib.figure.Figure
        Panels share the y axis so that couples can be compared; missed days are gaps.

    Examples
    --------
    >>> import dyadlab as dl
    >>> res = dl.diary(dl.simulate_diary(20, 7, rng=2), y="y", x="x", dyad="dyad",
    ...                person="person", time="time", role="role")
    >>> fig = res.plot(max_dyads=2)
    """
    import matplotlib.pyplot as plt

    check_columns(data, [y, dyad, person, time, role], func="plot_trajectories")
    check_numeric(data, [y], func="plot_trajectories")
    present = pd.unique(data[dyad])
    chosen = list(present[:max_dyads]) if dyads is None else list(dyads)
    missing = [d for d in chosen if d not in set(present)]
    if missing:
        raise DyadicDataError(
            f"plot_trajectories(): dyads {missing[:3]} are not in column {dyad!r}. "
            "Pick dyad ids that occur in the data."
        )
    n = max(len(chosen), 1)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.1 * ncols, 2.4 * nrows), sharey=True, squeeze=False
    )
    colours = ["#1b6ca8", "#d1495b"]
    roles = sorted(pd.unique(data[role].dropna()), key=str) if role else []
    for k, d in enumerate(chosen):
        ax = axes[k // ncols][k % ncols]
        sub = data[data[dyad] == d]
        for j, (pid, rows) in enumerate(sub.groupby(person, sort=True)):
            rows = rows.sort_values(time)
            t = pd.to_numeric(rows[time], errors="coerce").to_numpy(dtype=float)
            v = pd.to_numeric(rows[y], errors="coerce").to_numpy(dtype=float)
            if len(t) > 1 and np.all(np.isfinite(t)):
                # break the line where days are missing
                gaps = np.flatnonzero(np.diff(t) > np.median(np.diff(t)))
                t = np.insert(t, gaps + 1, np.nan)
                v = np.insert(v, gaps + 1, np.nan)
            label = str(rows[role].iloc[0]) if role else f"person {pid}"
            c = colours[roles.index(rows[role].iloc[0]) % 2] if role else colours[j % 2]
            ax.plot(t, v, marker="o", markersize=2.5, linewidth=1.2, color=c, label=label)
        ax.set_title(f"{dyad} {d}", fontsize=10.5)
        ax.set_xlabel(time, fontsize=10)
        ax.tick_params(labelsize=10)
        if k % ncols == 0:
            ax.set_ylabel(y, fontsize=10)
        ax.legend(fontsize=10, frameon=False)
    for k in range(len(chosen), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.tight_layout()
    return fig
