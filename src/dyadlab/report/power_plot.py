"""Power curve of an APIM power analysis (``PowerResult.plot()``).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import dyadlab as dl
>>> res = dl.power.apim(actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, dyads=[50, 100])
>>> power_curve(res).axes[0].get_ylabel()
'power'
"""

from __future__ import annotations

from typing import Any

__all__ = ["power_curve"]


def power_curve(result: Any, ax: Any = None, *, target: float | None = 0.8) -> Any:
    """Draw power against the number of dyads; see :meth:`PowerResult.plot`."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    n = [row["dyads"] for row in result.curve]
    for effect, marker in zip(("actor", "partner"), ("o", "s"), strict=True):
        y = [row[effect] for row in result.curve]
        if result.method == "montecarlo":
            err = [1.96 * row[f"{effect}_mc_se"] for row in result.curve]
            ax.errorbar(n, y, yerr=err, marker=marker, capsize=3, label=f"{effect} effect")
        else:
            ax.plot(n, y, marker=marker, label=f"{effect} effect")
    if target is not None:
        ax.axhline(target, linestyle="--", color="grey", linewidth=1)
    ax.set_xlabel("dyads")
    ax.set_ylabel("power")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"APIM power (alpha = {result.alpha:g}, {result.method})")
    ax.legend()
    return ax.get_figure(root=True)
