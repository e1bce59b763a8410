"""Path diagram of a fitted APIM mediation model (matplotlib, imported lazily).

The six variables stand in two rows, one per member: X → M → Y from left to right.
Actor paths are horizontal, partner paths cross between the rows, direct effects arc
over (member 1) and under (member 2) the mediators. Each arrow carries its estimate,
with ``*`` for p < .05.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import dyadlab as dl
>>> from dyadlab.data.datasets import load_acitelli
>>> res = dl.apim_mediation(load_acitelli(), x="tension", m="other_pos", y="satisfaction",
...                         dyad="cuplid", role="gender", bootstrap=0)
>>> ax = draw_mediation(res.estimates, names={"x": "tension", "m": "other_pos",
...                     "y": "satisfaction"}, roles=res.roles)
>>> len(ax.texts) > 6  # six boxes and the estimates on the arrows
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_mediation"]

_POS = {"X1": (0.0, 1.0), "X2": (0.0, 0.0), "M1": (1.0, 1.0), "M2": (1.0, 0.0)}
_POS.update({"Y1": (2.0, 1.0), "Y2": (2.0, 0.0)})

# (effect, member k of the path's outcome) -> (from, to, curvature)
_ARROWS = {
    ("a_actor", 0): ("X1", "M1", 0.0),
    ("a_actor", 1): ("X2", "M2", 0.0),
    ("a_partner", 0): ("X2", "M1", 0.0),
    ("a_partner", 1): ("X1", "M2", 0.0),
    ("b_actor", 0): ("M1", "Y1", 0.0),
    ("b_actor", 1): ("M2", "Y2", 0.0),
    ("b_partner", 0): ("M2", "Y1", 0.0),
    ("b_partner", 1): ("M1", "Y2", 0.0),
    ("direct_actor", 0): ("X1", "Y1", -0.35),
    ("direct_actor", 1): ("X2", "Y2", 0.35),
}


def _label(record: dict[str, Any]) -> str:
    star = "*" if record["p"] < 0.05 else ""
    return f"{record['estimate']:.2f}{star}"


def draw_mediation(
    estimates: pd.DataFrame,
    *,
    names: dict[str, str],
    roles: list[str],
    ax: Axes | None = None,
) -> Axes:
    """Draw the APIMeM path diagram from an estimates table.

    Parameters
    ----------
    estimates : DataFrame
        ``apim_mediation(...).estimates``.
    names : dict
        ``{"x": …, "m": …, "y": …}``: the variable names shown in the boxes.
    roles : list of str
        The two roles (empty for indistinguishable dyads: pooled estimates are shown
        on both members' arrows).
    ax : matplotlib Axes, optional
        Where to draw.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    members = roles if roles else ["1", "2"]
    for node, (px, py) in _POS.items():
        var = names[node[0].lower()]
        ax.text(
            px,
            py,
            f"{var}\n({members[int(node[1]) - 1]})",
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": "black"},
            zorder=3,
        )
    by_key: dict[tuple[str, int], Any] = {}
    for record in estimates.to_dict(orient="records"):
        role = record["role"]
        effect = str(record["effect"])
        if role is None or (isinstance(role, float) and role != role):
            for k in (0, 1):
                by_key[(effect, k)] = record
        elif str(role) in members:
            by_key[(effect, members.index(str(role)))] = record
    for key, (start, end, rad) in _ARROWS.items():
        found = by_key.get(key)
        if found is None:
            continue
        (x0, y0), (x1, y1) = _POS[start], _POS[end]
        ax.annotate(
            "",
            xy=(x1 - 0.17 * (x1 - x0) / max(abs(x1 - x0), 1e-9), y1),
            xytext=(x0 + 0.17 * (x1 - x0) / max(abs(x1 - x0), 1e-9), y0),
            arrowprops={"arrowstyle": "->", "connectionstyle": f"arc3,rad={rad}", "lw": 1.2},
        )
        crossing = y0 != y1
        fx = 0.3 if crossing and key[1] == 0 else 0.7 if crossing else 0.5
        lx = x0 + fx * (x1 - x0)
        ly = y0 + fx * (y1 - y0)
        if rad:
            ly += 0.45 if y0 > 0.5 else -0.45
        elif not crossing:
            ly += 0.08
        ax.text(
            lx,
            ly,
            _label(found),
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
    ax.set_xlim(-0.4, 2.4)
    ax.set_ylim(-0.65, 1.65)
    ax.axis("off")
    ax.set_title("APIM mediation (* p < .05; direct partner paths not drawn)", fontsize=9)
    return ax
