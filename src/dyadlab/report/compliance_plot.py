"""The compliance heat map: which couple answered on which diary day.

One row per couple, one column per diary day; a cell shows how many partners answered
that day (0, 1 or 2), so missed days, one-partner days and couples who stopped stand
out at a glance. Made from the ``_compliance_days`` file of a platform export (columns
``couple_id, diary_day, persons_answered``).

matplotlib is imported inside the function, so importing this module stays cheap.

Examples
--------
>>> import pandas as pd
>>> days = pd.DataFrame({"couple_id": [1, 1, 2, 2], "diary_day": [1, 2, 1, 2],
...                      "persons_answered": [2, 1, 0, 2]})
>>> fig = plot_compliance_heatmap(days)
>>> fig.axes[0].get_xlabel()
'Diary day'
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns

__all__ = ["plot_compliance_heatmap"]

_COLOURS = ("#f2f2f2", "#f4a259", "#1b6ca8")  # nobody, one partner, both partners


def plot_compliance_heatmap(
    days: pd.DataFrame,
    *,
    couple: str = "couple_id",
    day: str = "diary_day",
    answered: str = "persons_answered",
    sort: bool = True,
) -> Any:
    """Draw the couples × diary days heat map of how many partners answered.

    Parameters
    ----------
    days : DataFrame
        One row per couple and diary day.
    couple, day, answered : str
        Column names (those of the platform's export by default).
    sort : bool
        Order couples from the most to the least complete (default), else by id.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    check_columns(days, [couple, day, answered], func="plot_compliance_heatmap")
    grid = days.pivot_table(index=couple, columns=day, values=answered, aggfunc="max")
    grid = grid.fillna(0)
    if sort:
        order = grid.sum(axis=1).sort_values(ascending=False, kind="stable").index
        grid = grid.loc[order]
    n_couples, n_days = grid.shape
    height = min(12.0, max(2.6, 1.2 + 0.09 * n_couples))
    fig, ax = plt.subplots(figsize=(8.5, height))
    cmap = ListedColormap(list(_COLOURS))
    norm = BoundaryNorm([-0.5, 0.5, 1.5, 2.5], cmap.N)
    ax.imshow(
        grid.to_numpy(dtype=float), aspect="auto", cmap=cmap, norm=norm, interpolation="nearest"
    )
    ax.set_xlabel("Diary day")
    ax.set_ylabel(f"Couple ({n_couples}, most complete first)" if sort else "Couple")
    step = max(1, n_days // 14)
    ax.set_xticks(np.arange(0, n_days, step))
    ax.set_xticklabels([str(c) for c in grid.columns[::step]])
    ax.set_yticks([])
    complete = float((grid.to_numpy() == 2).mean()) if grid.size else 0.0
    ax.set_title(f"Who answered each day ({complete:.0%} of couple-days complete)")
    ax.legend(
        handles=[
            Patch(color=_COLOURS[2], label="both partners"),
            Patch(color=_COLOURS[1], label="one partner"),
            Patch(color=_COLOURS[0], label="nobody"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        ncol=1,
        frameon=False,
    )
    fig.tight_layout()
    return fig
