"""The truth-and-bias plot: directional bias, truth force and assumed similarity by role.

Two panels side by side: on the left the directional bias (mean-level over- or
under-estimation of the partner, in the units of the judgment), on the right the truth
force (accuracy) and the assumed similarity (projection), each with its confidence
interval, one marker per role (or one pooled marker for indistinguishable dyads).
Moderated effects (``truth:M`` …) are left out; the main effects are those at ``M = 0``.

matplotlib is imported inside the function, so importing this module stays cheap.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_truth_bias(60, 14, random_sd=(0.5, 0.3, 0.3), rng=1)
>>> res = dl.truth_bias(df, judgment="judgment", truth="truth", dyad="dyad",
...                     person="person", time="time", role="role")
>>> fig = res.plot()
>>> [ax.get_title() for ax in fig.axes]
['Directional bias', 'Truth force and assumed similarity']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadlabError

__all__ = ["plot_truth_bias"]

_MARKERS = ("o", "s")
_COLOURS = ("#1b6ca8", "#d1495b", "#555555")


def _groups(est: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """One group per role (in order of appearance), or one pooled group."""
    roles = est["role"].astype(object).where(est["role"].notna(), None)
    if roles.isna().all():
        return [("pooled", est)]
    return [(str(r), est[roles == r]) for r in pd.unique(roles.dropna())]


def _draw(ax: Any, rows: pd.DataFrame, effects: list[str], offset: float, **style: Any) -> None:
    label = style.pop("label")
    for i, eff in enumerate(effects):
        hit = rows[rows["effect"] == eff]
        if hit.empty:
            continue
        r = hit.iloc[0]
        lo, hi = r["estimate"] - r["ci_low"], r["ci_high"] - r["estimate"]
        ax.errorbar(
            [i + offset],
            [r["estimate"]],
            yerr=[[lo], [hi]],
            capsize=4,
            linestyle="none",
            label=label if i == 0 else None,
            **style,
        )


def plot_truth_bias(result: Any, ax: Any = None) -> Any:
    """Draw bias and accuracy by role from a :func:`dyadlab.truth_bias` result.

    Parameters
    ----------
    result : TruthBiasResult
        A fitted truth and bias model.
    ax : sequence of two matplotlib Axes, optional
        Where to draw (bias, slopes); default a new figure with two panels.

    Returns
    -------
    matplotlib.figure.Figure
        Points are estimates, bars the confidence intervals (at ``result.level``); the
        dashed line marks zero (no bias, no truth force, no projection).

    Raises
    ------
    DyadlabError
        The result has no estimates (the model could not be fitted).

    Examples
    --------
    >>> fig = plot_truth_bias(res)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    est = result.estimates
    if est.empty:
        raise DyadlabError(
            "plot_truth_bias(): the result has no estimates (the model was not fitted; "
            "see result.warnings), so there is nothing to plot."
        )
    if ax is None:
        fig, axes = plt.subplots(
            1, 2, figsize=(8.0, 3.6), gridspec_kw={"width_ratios": [1, 2]}, layout="constrained"
        )
    else:
        axes = list(ax)
        fig = axes[0].figure
    slopes = [e for e in ("truth", "assumed_similarity") if (est["effect"] == e).any()]
    groups = _groups(est)
    width = 0.25 if len(groups) > 1 else 0.0
    for g, (label, rows) in enumerate(groups):
        offset = (g - (len(groups) - 1) / 2) * width
        style = {
            "marker": _MARKERS[g % 2],
            "color": _COLOURS[g % 3] if len(groups) > 1 else _COLOURS[2],
            "label": label,
        }
        _draw(axes[0], rows, ["directional_bias"], offset, **style)
        _draw(axes[1], rows, slopes, offset, **style)
    pct = f"{result.level:.0%}"
    for a, ticks, title in (
        (axes[0], ["bias"], "Directional bias"),
        (axes[1], [s.replace("_", " ") for s in slopes], "Truth force and assumed similarity"),
    ):
        a.axhline(0.0, color="0.6", linestyle="--", linewidth=1)
        a.set_xticks(np.arange(len(ticks)), ticks)
        a.set_xlim(-0.6, len(ticks) - 0.4)
        a.set_title(title)
    axes[0].set_ylabel(f"estimate ({pct} CI)")
    if len(groups) > 1:
        axes[1].legend(title="judge's role", frameon=False)
    return fig
