"""Power curves of a diary power analysis: power against couples, one line per day count.

matplotlib is imported inside the function, so importing this module stays cheap.

Examples
--------
>>> from dyadlab.report.power_diary_plot import plot_power_grid
>>> grid = [{"couples": c, "days": d, "power": {"actor": 0.5, "partner": 0.2},
...          "mc_se": {"actor": 0.02, "partner": 0.01}} for c in (40, 80) for d in (14, 21)]
>>> fig = plot_power_grid(grid, alpha=0.05)
>>> len(fig.axes)
2
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["plot_power_grid"]

_EFFECTS = ("actor", "partner")


def plot_power_grid(
    grid: Sequence[dict[str, Any]], *, alpha: float, target: float | None = 0.8
) -> Any:
    """Draw power (± 1.96 MC SE) against the number of couples, per effect.

    Parameters
    ----------
    grid : sequence of dict
        Rows ``{"couples", "days", "power": {"actor", "partner"}, "mc_se": {…}}``.
    alpha : float
        The significance level (in the title).
    target : float or None
        A dashed line at this power; None for none.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per effect (actor, partner), one line per number of days.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    days = sorted({int(r["days"]) for r in grid})
    for ax, effect in zip(axes, _EFFECTS, strict=True):
        for d in days:
            rows = sorted((r for r in grid if int(r["days"]) == d), key=lambda r: r["couples"])
            ax.errorbar(
                [r["couples"] for r in rows],
                [r["power"][effect] for r in rows],
                yerr=[1.96 * r["mc_se"][effect] for r in rows],
                marker="o",
                capsize=3,
                label=f"{d} days",
            )
        if target is not None:
            ax.axhline(target, linestyle="--", color="grey", linewidth=1)
        ax.set_xlabel("couples")
        ax.set_title(f"{effect} effect")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel(f"power (alpha = {alpha:g})")
    axes[1].legend()
    fig.tight_layout()
    return fig
