"""Forest plot of survey estimates with their CIs (``SurveyResult.plot()``).

Each row of the result (a domain mean, a proportion, a coefficient) is a point with its
confidence interval; estimates that should not be published (fewer than ``min_n``
respondents or a relative standard error above ``max_rse``) are drawn hollow and
marked, so that a figure never shows an unreliable number as if it were solid.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(600, rng=8)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> fig = forest_plot(d.mean("loneliness", by="relationship"))
>>> fig.axes[0].get_xlabel()
'mean (95% CI)'
"""

from __future__ import annotations

from typing import Any

__all__ = ["forest_plot"]


def forest_plot(
    result: Any,
    ax: Any = None,
    *,
    min_n: int = 30,
    max_rse: float = 0.30,
    title: str | None = None,
) -> Any:
    """Draw every estimate of ``result`` with its CI; hollow where it is to be suppressed.

    Parameters
    ----------
    result : SurveyResult
    ax : matplotlib Axes, optional
    min_n, max_rse : int, float
        The suppression rule of :meth:`SurveyResult.suppression`.
    title : str, optional

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    table = result.suppression(min_n=min_n, max_rse=max_rse)
    labels = result.labels()
    k = len(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.45 * k + 1.2))
    ypos = list(range(k))[::-1]
    for y, row in zip(ypos, table.itertuples(index=False), strict=True):
        hollow = bool(row.suppress)
        ax.errorbar(
            row.estimate,
            y,
            xerr=[[row.estimate - row.ci_low], [row.ci_high - row.estimate]],
            fmt="o",
            color="grey" if hollow else "black",
            markerfacecolor="white" if hollow else "black",
            capsize=3,
        )
    ax.set_yticks(ypos)
    ax.set_yticklabels(
        [
            f"{lab} (n = {int(n)})" if n == n else lab
            for lab, n in zip(labels, table["n"], strict=True)
        ]
    )
    kinds = sorted(set(table["effect"]))
    kind = kinds[0] if len(kinds) == 1 else "estimate"
    ax.set_xlabel(f"{kind} ({result.level:.0%} CI)")
    if table["suppress"].any():
        ax.text(
            0.0,
            -0.9 / max(k, 1) - 0.12,
            f"hollow: to be suppressed (n < {min_n} or RSE > {max_rse:.0%})",
            transform=ax.transAxes,
            fontsize=8,
            color="grey",
        )
    variables = sorted({str(p) for p in table["predictor"]})
    ax.set_title(title or ", ".join(variables))
    ax.grid(axis="x", alpha=0.3)
    fig = ax.get_figure(root=True)
    fig.tight_layout()
    return fig
