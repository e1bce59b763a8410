"""Plots of a binary or count diary GLMM: predicted probabilities (or counts) per role.

One panel per effect of a predictor (actor, partner; or the within and between parts):
the outcome's predicted probability (binomial) or expected count (Poisson, negative
binomial) over the predictor's observed range, one line per role, for a typical person
(random intercept 0) with the other predictors at their role's mean, and a pointwise
confidence band from the fixed effects' covariance (on the link scale, then transformed).

matplotlib is imported inside the function, so importing this module stays cheap.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_diary(40, 21, rng=1)
>>> df["y"] = (df["y"] > df["y"].median()).astype(int)
>>> res = dl.diary(df, y="y", x="x", dyad="dyad", person="person", time="time",
...                role="role", family="binomial")
>>> fig = res.plot()
>>> [ax.get_title() for ax in fig.axes]
['actor x', 'partner x']
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from dyadlab.exceptions import OptionError

__all__ = ["plot_predicted"]


def plot_predicted(
    curve: dict[str, Any], *, predictor: str | None = None, level: float = 0.95, points: int = 60
) -> Any:
    """Draw predicted probabilities or counts over ``predictor``, one line per role.

    Parameters
    ----------
    curve : dict
        The design summary a GLMM diary result keeps (``labels``, ``beta``, ``vcov``,
        ``means`` per role, ``ranges`` per (effect, predictor), ``family``, ``y``).
    predictor : str, optional
        Which predictor; default the first.
    level : float
        Confidence level of the band.
    points : int
        Points along the predictor's range.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels: list[dict[str, Any]] = curve["labels"]
    ranges: dict[tuple[str, str], tuple[float, float]] = curve["ranges"]
    names = [name for (_, name) in ranges]
    effects_of = [(e, n) for (e, n) in ranges if e != "covariate"]
    if predictor is None:
        predictor = next((n for _, n in effects_of), names[0] if names else None)
    panels = [(e, n) for (e, n) in effects_of if n == predictor]
    if not panels:
        raise OptionError(
            f"plot(): {predictor!r} is not a predictor of this model; choose one of "
            f"{sorted({n for _, n in effects_of})}."
        )
    beta = np.asarray(curve["beta"], dtype=float)
    vcov = np.asarray(curve["vcov"], dtype=float)
    crit = float(stats.norm.ppf(0.5 + level / 2))
    binary = curve["family"] == "binomial"
    inverse = special.expit if binary else np.exp
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    colours = ["#1f77b4", "#d95f02"]
    for ax, (effect, name) in zip(axes[0], panels, strict=True):
        lo, hi = ranges[(effect, name)]
        grid = np.linspace(lo, hi, points)
        for k, (role, mean) in enumerate(curve["means"].items()):
            cols = [
                j
                for j, lab in enumerate(labels)
                if lab["effect"] == effect and lab["predictor"] == name and lab["role"] == role
            ]
            if not cols:
                continue
            rows = np.tile(mean, (points, 1))
            rows[:, cols[0]] = grid
            eta = rows @ beta
            se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", rows, vcov, rows), 0.0))
            colour = colours[k % 2]
            label = "pooled" if role is None else str(role)
            ax.plot(grid, inverse(eta), color=colour, label=label)
            ax.fill_between(
                grid,
                inverse(eta - crit * se),
                inverse(eta + crit * se),
                color=colour,
                alpha=0.18,
                linewidth=0,
            )
        ax.set_title(f"{effect} {name}")
        ax.set_xlabel(f"{name} ({'own' if effect.startswith('actor') else 'partner'})")
        ax.set_ylabel(f"P({curve['y']} = 1)" if binary else f"expected {curve['y']}")
        if binary:
            ax.set_ylim(0, 1)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle(f"Predicted {'probability' if binary else 'count'}, {level:.0%} band", fontsize=10)
    fig.tight_layout()
    return fig
