"""Pictures of an APIM result: the path diagram and the simple slopes of a moderator.

matplotlib is imported inside the functions, so that importing dyadlab never loads it.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np, pandas as pd, dyadlab as dl
>>> rng = np.random.default_rng(0); n = 40; x = rng.normal(size=2 * n)
>>> df = pd.DataFrame({"d": np.repeat(np.arange(n), 2), "x": x,
...                    "y": x + rng.normal(size=2 * n)})
>>> fig = dl.apim(df, y="y", x="x", dyad="d").plot()
>>> fig.axes[0].get_title()
'APIM: x → y'
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from dyadlab.report.apa_format import decimals_for, format_number, stars
from dyadlab.report.apa_labels import Labels

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dyadlab.models.apim import ApimResult

__all__ = ["FONT", "path_diagram", "path_label", "simple_slopes_plot", "stars"]


#: the size of every text in the diagram (points): at 120 dpi the figure keeps 10 px
#: text when shown 320 px wide, the width of a phone's page
FONT = 10.5
#: the panel's size in inches (one panel per predictor)
PANEL = (4.4, 3.5)


def _pick(res: ApimResult, effect: str, predictor: str | None, role: str | None) -> dict[str, Any]:
    est = res.estimates
    rows = est[(est["effect"] == effect) & (est["predictor"] == predictor)]
    if role is not None:
        rows = rows[rows["role"] == role]
    if rows.empty:
        return {"estimate": float("nan"), "p": float("nan")}
    return {str(k): v for k, v in rows.iloc[0].to_dict().items()}


def path_label(row: Mapping[str, Any], show: str = "stars") -> str:
    """An arrow's label: the estimate with as many decimals as its SE needs (a per-unit
    effect on a 0–100 scale prints ``0.0213``, not ``0.02``), and stars or the CI.

    Examples
    --------
    >>> path_label({"estimate": 0.02134, "se": 0.0041, "p": 2e-7})
    '0.0213***'
    >>> path_label({"estimate": -0.416, "se": 0.0495, "p": 1e-9, "ci_low": -0.513,
    ...             "ci_high": -0.319}, show="ci")
    '−0.416\\n[−0.513, −0.319]'
    """
    est = row.get("estimate")
    if est is None or not np.isfinite(est):
        return "—"
    d = decimals_for(row.get("se"), est)
    text = format_number(est, d)
    if show == "ci" and row.get("ci_low") is not None and np.isfinite(row["ci_low"]):
        return f"{text}\n[{format_number(row['ci_low'], d)}, {format_number(row['ci_high'], d)}]"
    return text + (stars(row.get("p")) if show == "stars" else "")


def _wrap(text: str, width: int = 16) -> str:
    """Break a long variable name into lines of about ``width`` characters, at spaces,
    underscores, dots or hyphens where possible (a name without any is cut)."""
    parts = re.findall(r"[^\s_.\-]+[\s_.\-]*|[\s_.\-]+", text)
    lines: list[str] = []
    line = ""
    for part in parts:
        while len(part) > width:  # one long word: cut it
            if line:
                lines.append(line.rstrip())
                line = ""
            lines.append(part[:width])
            part = part[width:]
        if line and len(line) + len(part.rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += part
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return "\n".join(lines)


def path_diagram(
    res: ApimResult,
    *,
    ax: Any = None,
    predictor: str | None = None,
    labels: Mapping[Any, str] | None = None,
    show: str = "stars",
    data: Any = None,
) -> Any:
    """Draw the APIM path diagram(s) and return the matplotlib Figure.

    One panel per predictor (or only ``predictor``); with ``ax``, one panel (the first
    predictor unless ``predictor`` is given) is drawn into that Axes and its Figure is
    returned. Solid arrows are significant at 1 - ``res.level``, dashed ones are not;
    each label carries the estimate with the decimals its SE calls for, and its
    significance stars (``show="stars"``), its confidence interval (``"ci"``) or
    nothing (``"none"``). ``labels`` names the roles and variables
    (``{-1: "wife"}``). With ``data`` (the data the model was fitted to) each label
    adds the standardised effect, ``β = b × SD(x) / SD(y)`` (see
    :func:`dyadlab.report.apa_table.standardized_effects`). Boxes grow with their text;
    long variable names are wrapped.
    Every text is at least 10.5 pt, so the diagram stays readable at phone width and
    in print (save it as SVG, PDF or PNG at 300 dpi).
    """
    import matplotlib.pyplot as plt

    from dyadlab._validation import check_option
    from dyadlab.exceptions import OptionError

    check_option("show", show, ["stars", "ci", "none"], func="plot")
    names = Labels(labels)
    betas: dict[tuple[str, str, Any], float] = {}
    if data is not None:
        from dyadlab.report.apa_table import standardized_effects

        betas = standardized_effects(res, data)

    preds = [str(v) for v in res.call.get("x", [])] or [
        str(v) for v in res.estimates["predictor"].dropna().unique()
    ]
    if predictor is not None:
        if predictor not in preds:
            raise OptionError(
                f"plot(): predictor={predictor!r} is not a predictor of this APIM; choose one "
                f"of {', '.join(map(repr, preds))}."
            )
        preds = [predictor]
    if ax is not None:
        preds = preds[:1]
        _panel(res, ax, preds[0], names, show, betas)
        return ax.figure
    width, height = PANEL
    fig, axes = plt.subplots(len(preds), 1, figsize=(width, height * len(preds)), squeeze=False)
    # the layout is fixed before drawing: arrows are placed from the boxes' measured size
    fig.subplots_adjust(
        left=0.01, right=0.99, bottom=0.01, top=1 - 0.45 / (height * len(preds)), hspace=0.25
    )
    for a, pred in zip(axes[:, 0], preds, strict=True):
        _panel(res, a, pred, names, show, betas)
    return fig


def _panel(
    res: ApimResult,
    ax: Any,
    pred: str,
    labels: Labels,
    show: str,
    betas: Mapping[tuple[str, str, Any], float],
) -> None:
    """One path diagram (one predictor) in ``ax``."""
    from matplotlib.patches import FancyArrowPatch

    y = labels.var(res.call.get("y", "y"))
    roles: list[str | None] = list(res.roles) if res.distinguishable else [None, None]
    names = [labels.role(r) for r in res.roles] if res.distinguishable else ["member 1", "member 2"]
    x_name = labels.var(pred)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.axis("off")
    title = f"APIM: {x_name} → {y}"
    ax.set_title(title if len(title) <= 36 else f"APIM: {x_name}\n→ {y}", fontsize=FONT + 0.5)
    rows = (0.78, 0.22)
    col_x, col_y = 0.16, 0.70
    style = {"boxstyle": "round,pad=0.5", "fc": "#f3f3f3", "ec": "black"}
    boxes: dict[tuple[str, int], Any] = {}
    for i in range(2):
        for kind, cx, var in (("x", col_x, x_name), ("y", col_y, y)):
            boxes[(kind, i)] = ax.text(
                cx,
                rows[i],
                f"{_wrap(var, 12)}\n({_wrap(names[i], 12)})",
                ha="center",
                va="center",
                fontsize=FONT,
                bbox=style,
                zorder=3,
            )
    # the boxes' extents in data coordinates, to start and end the arrows at their edges
    renderer = ax.figure.canvas.get_renderer()
    inv = ax.transData.inverted()
    ext = {}
    for key, t in boxes.items():
        t.draw(renderer)  # lays out the bbox patch around the text
        bb = t.get_bbox_patch().get_window_extent(renderer).transformed(inv)
        ext[key] = bb
    alpha = 1 - res.level

    def arrow(
        a: tuple[float, float],
        b: tuple[float, float],
        row: dict[str, Any],
        frac: float,
        rad: float = 0.0,
        both: bool = False,
        dx: float = 0.0,
        text: str | None = None,
        dy: float = 0.0,
    ) -> None:
        p = row.get("p")
        sig = both or (p is not None and np.isfinite(p) and p < alpha)
        ax.add_patch(
            FancyArrowPatch(
                a,
                b,
                arrowstyle="<|-|>" if both else "-|>",
                mutation_scale=12,
                connectionstyle=f"arc3,rad={rad}",
                lw=1.6 if sig else 1.0,
                ls="-" if sig else "--",
                color="black",
                zorder=2,
            )
        )
        at = (a[0] + frac * (b[0] - a[0]) + dx, a[1] + frac * (b[1] - a[1]) + dy)
        if text is None:
            text = path_label(row, show)
            key = (
                str(row.get("effect")),
                pred,
                None if row.get("role") is None else str(row["role"]),
            )
            if key in betas:
                text += f"\nβ = {format_number(betas[key], 2)}"
        ax.text(
            *at,
            text,
            ha="center",
            va="center",
            fontsize=FONT,
            bbox={"fc": "white", "ec": "none", "pad": 1},
            zorder=4,
        )

    for i in range(2):
        j = 1 - i
        src, dst = ext[("x", i)], ext[("y", i)]
        # actor labels sit outside the pair of arrows, partner labels near their source:
        # no label overlaps another, however many decimals or a CI it holds
        lift = (0.085 if show == "ci" or betas else 0.06) * (1 if i == 0 else -1)
        actor = _pick(res, "actor", pred, roles[i])
        arrow((src.x1, rows[i]), (dst.x0, rows[i]), actor, 0.5, dy=lift)
        src_p = ext[("x", j)]
        start = (src_p.x1, src_p.y0 if j == 0 else src_p.y1)
        end = (dst.x0, dst.y1 if i == 0 else dst.y0)
        arrow(start, end, _pick(res, "partner", pred, roles[i]), 0.2)
    vc = res.variance_components
    rho = vc[vc["name"] == "residual_correlation"]["estimate"]
    r_est = float(rho.iloc[0]) if len(rho) else float("nan")
    right = max(ext[("y", 0)].x1, ext[("y", 1)].x1)
    top, bottom = ext[("y", 0)].y0, ext[("y", 1)].y1
    arrow(
        (right - 0.02, top),
        (right - 0.02, bottom),
        {"estimate": r_est, "p": float("nan")},
        0.5,
        rad=-0.5,
        both=True,
        dx=0.05 + 0.25 * (top - bottom) / 2,
        text="—" if not np.isfinite(r_est) else format_number(r_est, 2, leading_zero=False),
    )
    ax.text(
        right + 0.05 + 0.25 * (top - bottom) / 2,
        (top + bottom) / 2 - 0.09,
        "residual\nr",
        ha="center",
        va="top",
        fontsize=FONT,
    )


def simple_slopes_plot(res: ApimResult, *, ax: Any = None) -> Any:
    """Actor and partner effects (with CIs) at the moderator's mean and mean ± 1 SD;
    returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    slopes = res.extra.get("simple_slopes")
    if not slopes:
        from dyadlab.exceptions import OptionError

        raise OptionError(
            "plot_simple_slopes(): this APIM has no moderator. Fit it with moderator=COLUMN."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    groups: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}
    for s in slopes:
        groups.setdefault((s["effect"], s["predictor"], s["role"]), []).append(s)
    offsets = np.linspace(-0.1, 0.1, max(len(groups), 1))
    for off, ((eff, pred, role), rows) in zip(offsets, groups.items(), strict=True):
        xs = np.array([r["moderator_value"] for r in rows])
        est = np.array([r["estimate"] for r in rows])
        lo = np.array([r["ci_low"] for r in rows])
        hi = np.array([r["ci_high"] for r in rows])
        spread = xs.max() - xs.min() if len(xs) > 1 else 1.0
        label = f"{eff} ({pred})" + (f", {role}" if role is not None else "")
        ax.errorbar(
            xs + off * spread / 2,
            est,
            yerr=[est - lo, hi - est],
            marker="o",
            capsize=3,
            label=label,
        )
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xlabel(f"{slopes[0]['moderator']} (mean − 1 SD, mean, mean + 1 SD)")
    ax.set_ylabel("effect")
    ax.set_title("Simple slopes")
    ax.legend(fontsize=8)
    return ax.figure
