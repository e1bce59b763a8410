"""Plots of observed interaction: demand–withdraw per couple and coders' confusion matrix.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> import dyadlab as dl
>>> s = dl.observe.simulate_sessions(6, minutes=5, rng=2)
>>> fig = dl.observe.demand_withdraw(s, coder="A").plot()
>>> fig.axes[0].get_xlabel()
"Yule's Q, first->second"
>>> plt.close(fig)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["confusion_plot", "demand_withdraw_plot"]


def demand_withdraw_plot(result: Any, ax: Any = None) -> Any:
    """Each couple's Yule's Q in one direction (x) against the other (y).

    A point per couple; points above the diagonal: the second direction's demand →
    withdraw link is the stronger. The pooled Q per direction is marked by dashed lines.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.8, 4.6))
    t = result.table
    wide = t.pivot_table(index="session", columns="direction", values="yules_q", aggfunc="first")
    if result.distinguishable:
        directions = sorted(t["direction"].unique())
    else:
        directions = ["first->second", "second->first"]
    directions = [d for d in directions if d in wide.columns]
    x = wide[directions[0]].to_numpy(dtype=float)
    y = wide[directions[1]].to_numpy(dtype=float) if len(directions) > 1 else np.zeros(len(x))
    ax.plot([-1, 1], [-1, 1], color="grey", linewidth=0.8, linestyle=":")
    ax.axhline(0, color="grey", linewidth=0.6)
    ax.axvline(0, color="grey", linewidth=0.6)
    ok = np.isfinite(x) & np.isfinite(y)
    ax.scatter(x[ok], y[ok], s=22, alpha=0.75, label=f"couples ({int(ok.sum())})")
    est = result.estimates
    pooled = est[est["predictor"] != "demand->withdraw"]
    if len(pooled) == 2:
        ax.axvline(pooled["estimate"].iloc[0], linestyle="--", color="C1", linewidth=1)
        ax.axhline(
            pooled["estimate"].iloc[1], linestyle="--", color="C1", linewidth=1, label="pooled Q"
        )
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel(f"Yule's Q, {directions[0]}")
    ax.set_ylabel(f"Yule's Q, {directions[1] if len(directions) > 1 else ''}")
    ax.set_title(f"Demand → withdraw within {result.extra['window']:g} s")
    ax.legend(loc="lower right", fontsize="small")
    return ax.figure


def confusion_plot(table: pd.DataFrame, ax: Any = None, *, normalize: bool = False) -> Any:
    """Heat map of two coders' confusion matrix with the counts written in the cells.

    ``table`` is :func:`dyadlab.observe.confusion_table`'s output (rows: first coder,
    columns: second coder). ``normalize=True`` shades by row proportion.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> import matplotlib.pyplot as plt
    >>> t = pd.DataFrame([[5, 1], [2, 7]], index=["x", "y"], columns=["x", "y"])
    >>> fig = confusion_plot(t)
    >>> fig.axes[0].get_title()
    'Agreement: 12 of 15 units (80%)'
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    counts = table.to_numpy(dtype=float)
    k = counts.shape[0]
    if ax is None:
        _, ax = plt.subplots(figsize=(1.2 + 0.7 * k, 1.0 + 0.6 * k))
    with np.errstate(divide="ignore", invalid="ignore"):
        shade = counts / counts.sum(axis=1, keepdims=True) if normalize else counts
    image = ax.imshow(np.nan_to_num(shade), cmap="Blues")
    top = np.nanmax(shade) if shade.size else 0.0
    for i in range(k):
        for j in range(counts.shape[1]):
            dark = shade[i, j] > 0.6 * top
            ax.text(
                j,
                i,
                f"{int(counts[i, j])}",
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontsize="small",
            )
    ax.set_xticks(range(counts.shape[1]), [str(c) for c in table.columns], rotation=45, ha="right")
    ax.set_yticks(range(k), [str(c) for c in table.index])
    ax.set_xlabel(str(table.columns.name or "second coder"))
    ax.set_ylabel(str(table.index.name or "first coder"))
    total = counts.sum()
    agree = np.trace(counts) if counts.shape[0] == counts.shape[1] else 0.0
    ax.set_title(f"Agreement: {int(agree)} of {int(total)} units ({agree / total:.0%})")
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return ax.figure
