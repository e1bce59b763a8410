"""The two partners' rating traces of one session, drawn as server-side SVG.

Time (seconds since the session's start, server-aligned) runs left to right, the rating
bottom to top; each partner is one line, told apart by colour *and* by dash pattern
(solid, dashed) and named in the legend, so the figure does not depend on colour.
Markers are vertical dotted lines labelled with their kind. A screen reader hears the
image's summary; the page shows the same traces as a table by second below it.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"person": [1, 1, 2, 2], "role": ["a", "a", "b", "b"],
...                       "t_ms": [0, 1000, 0, 1000], "value": [0, 50, 100, 20]})
>>> svg = traces_svg(frame, low=0, high=100, markers=[("stop", 1000.0)], title="s")
>>> svg.startswith("<svg") and svg.count("<polyline") == 2
True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import pandas as pd

__all__ = ["LINE_STYLES", "traces_svg"]

#: (colour, dash pattern) of the first and the second partner's line.
LINE_STYLES: tuple[tuple[str, str], ...] = (("#0b4f94", ""), ("#a4001d", "6 4"))
_W, _H = 760, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 16, 44
_MAX_POINTS = 2_000  # per line: more than the figure's width can show


def _thin(times: Any, values: Any) -> list[tuple[float, float]]:
    step = max(1, len(times) // _MAX_POINTS)
    return list(zip(times[::step], values[::step], strict=True))


def traces_svg(
    frame: pd.DataFrame,
    *,
    low: float,
    high: float,
    markers: Sequence[tuple[str, float]],
    title: str,
) -> str:
    """An SVG of each person's trace (``frame``: ``person, role, t_ms, value``)."""
    end_ms = max([float(frame["t_ms"].max()) if len(frame) else 0.0, *[t for _, t in markers], 1.0])
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def x(t_ms: float) -> float:
        return _LEFT + plot_w * max(0.0, t_ms) / end_ms

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - (value - low) / (high - low))

    people = list(dict.fromkeys(frame["person"].tolist())) if len(frame) else []
    summary = f"{title}: {len(people)} trace(s) over {end_ms / 1000:.0f} seconds."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {_H}" width="100%" '
        f'role="img" aria-label="{escape(summary)}">',
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#555"/>',
    ]
    for value in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'font-size="12">{value:g}</text>'
        )
    for k in range(6):
        t = end_ms * k / 5
        parts.append(
            f'<text x="{x(t):.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle" '
            f'font-size="12">{t / 1000:.0f} s</text>'
        )
    for kind, t in markers:
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{_TOP}" y2="{_TOP + plot_h}" '
            'stroke="#1b1b1b" stroke-dasharray="2 3"/>'
            f'<text x="{x(t) + 3:.1f}" y="{_TOP + 12}" font-size="11">{escape(kind)}</text>'
        )
    for i, person in enumerate(people):
        own = frame[frame["person"] == person].sort_values("t_ms")
        colour, dash = LINE_STYLES[i % len(LINE_STYLES)]
        points = " ".join(
            f"{x(float(t)):.1f},{y(float(v)):.1f}"
            for t, v in _thin(own["t_ms"].to_numpy(), own["value"].to_numpy())
        )
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash_attr} '
            f'points="{points}"/>'
        )
        role = own["role"].iloc[0]
        name = f"person {person}" + (f" ({role})" if isinstance(role, str) and role else "")
        ly = _H - 8
        lx = _LEFT + 10 + 260 * i
        parts.append(
            f'<line x1="{lx}" x2="{lx + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/><text x="{lx + 34}" y="{ly}" font-size="12">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
