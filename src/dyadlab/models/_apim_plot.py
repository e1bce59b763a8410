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
>>> ax = dl.apim(df, y="y", x="x", dyad="d").plot()
>>> ax.get_title()
'APIM: x → y'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from dyadlab.models.apim import ApimResult

__all__ = ["path_diagram", "simple_slopes_plot", "stars"]


def stars(p: float | None) -> str:
    """Significance marks: ``***`` p < .001, ``**`` p < .01, ``*`` p < .05."""
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _pick(
    res: ApimResult, effect: str, predictor: str | None, role: str | None
) -> tuple[float, float]:
    est = res.estimates
    rows = est[(est["effect"] == effect) & (est["predictor"] == predictor)]
    if role is not None:
        rows = rows[rows["role"] == role]
    if rows.empty:
        return float("nan"), float("nan")
    return float(rows["estimate"].iloc[0]), float(rows["p"].iloc[0])


def path_diagram(res: ApimResult, *, ax: Any = None, predictor: str | None = None) -> Any:
    """Draw the two-person APIM with actor, partner and residual paths; return the Axes.

    Solid arrows are significant at 1 - ``res.level``, dashed ones are not; each label
    carries the estimate and its significance stars.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    pred = predictor or res.call.get("x", [""])[0]
    y = res.call.get("y", "y")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.2))
    roles: list[str | None] = list(res.roles) if res.distinguishable else [None, None]
    names = [f"{r}" for r in res.roles] if res.distinguishable else ["member 1", "member 2"]
    pos_x = [(0.12, 0.78), (0.12, 0.22)]
    pos_y = [(0.82, 0.78), (0.82, 0.22)]
    alpha = 1 - res.level
    for i in range(2):
        for (cx, cy), label in ((pos_x[i], f"{pred}\n{names[i]}"), (pos_y[i], f"{y}\n{names[i]}")):
            ax.add_patch(
                FancyBboxPatch(
                    (cx - 0.09, cy - 0.07),
                    0.18,
                    0.14,
                    boxstyle="round,pad=0.01",
                    fc="#f3f3f3",
                    ec="black",
                )
            )
            ax.text(cx, cy, label, ha="center", va="center", fontsize=9)

    def arrow(
        a: tuple[float, float],
        b: tuple[float, float],
        est: float,
        p: float,
        label_at: tuple[float, float],
        rad: float = 0.0,
        both: bool = False,
    ) -> None:
        sig = both or (np.isfinite(p) and p < alpha)
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
            )
        )
        text = "—" if not np.isfinite(est) else f"{est:.2f}{stars(p)}"
        ax.text(
            *label_at,
            text,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"fc": "white", "ec": "none", "pad": 1},
        )

    for i in range(2):
        a, pa = _pick(res, "actor", pred, roles[i])
        arrow((0.21, pos_x[i][1]), (0.73, pos_y[i][1]), a, pa, (0.47, pos_x[i][1] + 0.04))
        p, pp = _pick(res, "partner", pred, roles[i])
        j = 1 - i
        frac = 0.3 if i == 0 else 0.7
        arrow(
            (0.21, pos_x[j][1]),
            (0.73, pos_y[i][1]),
            p,
            pp,
            (0.21 + frac * 0.52, pos_x[j][1] + frac * (pos_y[i][1] - pos_x[j][1])),
        )
    vc = res.variance_components
    rho = vc[vc["name"] == "residual_correlation"]["estimate"]
    r_est = float(rho.iloc[0]) if len(rho) else float("nan")
    arrow((0.93, 0.72), (0.93, 0.28), r_est, float("nan"), (0.97, 0.5), rad=-0.4, both=True)
    ax.text(0.97, 0.44, "residual r", ha="center", fontsize=7)
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0.05, 0.95)
    ax.axis("off")
    ax.set_title(f"APIM: {pred} → {y}")
    return ax


def simple_slopes_plot(res: ApimResult, *, ax: Any = None) -> Any:
    """Actor and partner effects (with CIs) at the moderator's mean and mean ± 1 SD."""
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
    return ax
