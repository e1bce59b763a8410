"""The compliance heat map: couples by diary days, drawn as server-side SVG.

Each cell is one couple-day that is due: dark when both partners answered every prompt
of that day, light when one did, white when neither did; the number of partners who
answered is written in the cell, so the map does not depend on colour. Couples below
the threshold are marked with "▲" and their rate is written at the end of the row.
A screen reader hears the image's summary; :func:`heatmap_table` gives the same cells as
a data table (WCAG 1.1.1 for a complex image), shown on the page under the image.

Examples
--------
>>> import pandas as pd
>>> days = pd.DataFrame({"couple_id": [1, 1], "diary_day": [1, 2],
...                      "persons_answered": [2, 1], "complete": [True, False]})
>>> couples = pd.DataFrame({"couple_id": [1], "days_due": [2], "days_complete": [1],
...                         "rate": [0.5], "flagged": [True]})
>>> svg = heatmap_svg(days, couples, threshold=0.8)
>>> svg.startswith("<svg") and "50%" in svg
True
"""

from __future__ import annotations

import math
from html import escape
from typing import Any, cast

import pandas as pd

__all__ = ["CELL_COLOURS", "heatmap_svg", "heatmap_table"]

#: partners answered -> (fill, text colour); both pairs have contrast of at least 4.5:1.
CELL_COLOURS: dict[int, tuple[str, str]] = {
    2: ("#0b4f94", "#ffffff"),
    1: ("#a9c8ea", "#1b1b1b"),
    0: ("#ffffff", "#1b1b1b"),
}
_CELL = 22
_GAP = 2
_LABEL_W = 118
_RATE_W = 64
_TOP = 34


def _percent(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{round(float(value) * 100):d}%"


def heatmap_svg(
    days: pd.DataFrame,
    couples: pd.DataFrame,
    *,
    threshold: float,
    title: str = "Compliance per couple and diary day",
) -> str:
    """An SVG heat map of complete couple-days.

    Parameters
    ----------
    days : DataFrame
        ``couple_id, diary_day, persons_answered, complete`` (one row per couple-day due;
        :attr:`dyadlab.platform.services.compliance.ComplianceReport.days`).
    couples : DataFrame
        ``couple_id, rate, flagged`` (the report's ``couples``).
    threshold : float
        The flagging threshold, named in the description.
    title : str
        The accessible name of the image.

    Returns
    -------
    str
        An ``<svg>`` element with ``role="img"``, ``<title>`` and ``<desc>``, one
        ``<title>`` per cell ("couple 3, day 5: 1 of 2 answered").
    """
    couple_ids = [int(c) for c in couples["couple_id"]]
    last_day = int(days["diary_day"].max()) if len(days) else 0
    width = _LABEL_W + max(last_day, 1) * (_CELL + _GAP) + _RATE_W
    height = _TOP + max(len(couple_ids), 1) * (_CELL + _GAP) + 8
    n_flagged = int(couples["flagged"].sum()) if len(couples) else 0
    desc = (
        f"{len(couple_ids)} couples over {last_day} diary days; the number in each cell is "
        f"how many partners answered that day. {n_flagged} couples are below "
        f"{_percent(threshold)} complete days and are marked with a triangle."
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="heatmap-title heatmap-desc" font-family="system-ui, sans-serif" '
        f'font-size="12">',
        f'<title id="heatmap-title">{escape(title)}</title>',
        f'<desc id="heatmap-desc">{escape(desc)}</desc>',
        '<text x="4" y="14" font-weight="600">Couple</text>',
        f'<text x="{width - _RATE_W + 6}" y="14" font-weight="600">Rate</text>',
    ]
    for day in range(1, last_day + 1):
        x = _LABEL_W + (day - 1) * (_CELL + _GAP) + _CELL / 2
        if day == 1 or day % 7 == 0 or day == last_day:
            out.append(f'<text x="{x:.0f}" y="28" text-anchor="middle">{day}</text>')
    by_couple: dict[int, pd.DataFrame] = {}
    for key, group_df in days.groupby("couple_id"):
        by_couple[int(cast(Any, key))] = group_df
    rates = couples.set_index("couple_id")
    for row, couple_id in enumerate(couple_ids):
        y = _TOP + row * (_CELL + _GAP)
        flagged = bool(rates.loc[couple_id, "flagged"])
        mark = " ▲" if flagged else ""
        weight = ' font-weight="700" fill="#a4001d"' if flagged else ""
        out.append(f'<text x="4" y="{y + 15}"{weight}>{escape(f"Couple {couple_id}")}{mark}</text>')
        group = by_couple.get(couple_id)
        if group is not None:
            for cell in list[Any](group.itertuples(index=False)):
                answered = _answered(cell)
                fill, ink = CELL_COLOURS[answered]
                x = _LABEL_W + (int(cell.diary_day) - 1) * (_CELL + _GAP)
                label = f"couple {couple_id}, day {int(cell.diary_day)}: {answered} of 2 answered"
                out.append(
                    f"<g><title>{escape(label)}</title>"
                    f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" fill="{fill}" '
                    f'stroke="#767676" stroke-width="1"/>'
                    f'<text x="{x + _CELL / 2:.0f}" y="{y + 15}" text-anchor="middle" '
                    f'fill="{ink}">{answered}</text></g>'
                )
        rate = _percent(rates.loc[couple_id, "rate"])
        out.append(f'<text x="{width - _RATE_W + 6}" y="{y + 15}"{weight}>{rate}</text>')
    out.append("</svg>")
    return "".join(out)


def _answered(cell: Any) -> int:
    answered = max(0, min(2, int(cell.persons_answered)))
    if bool(cell.complete):
        return 2
    return 1 if answered == 2 else answered


def heatmap_table(days: pd.DataFrame, couples: pd.DataFrame, *, threshold: float) -> str:
    """The heat map's cells as an HTML data table: couples by diary days.

    Parameters
    ----------
    days, couples : DataFrame
        As for :func:`heatmap_svg`.
    threshold : float
        The flagging threshold, named in the row headers of flagged couples.

    Returns
    -------
    str
        A ``<table>`` with a caption, one column header per diary day and one row header
        per couple; each cell holds how many partners answered ("–" when not due).

    Examples
    --------
    >>> import pandas as pd
    >>> days = pd.DataFrame({"couple_id": [1], "diary_day": [2],
    ...                      "persons_answered": [1], "complete": [False]})
    >>> couples = pd.DataFrame({"couple_id": [1], "rate": [0.0], "flagged": [True]})
    >>> html = heatmap_table(days, couples, threshold=0.8)
    >>> '<th scope="row">Couple 1 (below 80%)</th><td>–</td><td>1</td><td>0%</td>' in html
    True
    """
    last_day = int(days["diary_day"].max()) if len(days) else 0
    cells: dict[tuple[int, int], int] = {
        (int(c.couple_id), int(c.diary_day)): _answered(c)
        for c in list[Any](days.itertuples(index=False))
    }
    out = [
        "<table><caption>Partners who answered, per couple and diary day</caption>",
        '<thead><tr><th scope="col">Couple</th>',
        *(f'<th scope="col">Day {day}</th>' for day in range(1, last_day + 1)),
        '<th scope="col">Rate</th></tr></thead><tbody>',
    ]
    for row in list[Any](couples.itertuples(index=False)):
        couple_id = int(row.couple_id)
        flag = f" (below {_percent(threshold)})" if bool(row.flagged) else ""
        out.append(f'<tr><th scope="row">{escape(f"Couple {couple_id}{flag}")}</th>')
        for day in range(1, last_day + 1):
            value = cells.get((couple_id, day))
            out.append(f"<td>{'–' if value is None else value}</td>")
        out.append(f"<td>{_percent(row.rate)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)
