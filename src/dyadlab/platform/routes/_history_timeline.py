"""The timeline drawing of a history interview: a server-made SVG.

Time runs left to right in years; the top row holds the landmarks, then one row per
partner with their episodes as bars and the milestones as diamonds. A bar is solid
where the episode surely ran (from the latest possible start to the earliest possible
end) and pale where a fuzzy date leaves it open; an ongoing episode runs to today and
ends in an arrow. Colours (Okabe–Ito, safe for colour-blind readers) are never the only
cue: every bar carries its type as text when there is room, and as a ``<title>``
(tooltip, and the name a screen reader reads). The tables of the page hold the same
information.

Examples
--------
>>> _x_scale(date(2020, 1, 1), date(2022, 1, 1), 100, 300)(date(2021, 1, 1))
200.1
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape

from dyadlab.platform.history_i18n import HistoryTranslator
from dyadlab.platform.services.history import Interview

__all__ = ["TYPE_COLOURS", "timeline_svg"]

#: Episode type -> fill colour (Okabe–Ito).
TYPE_COLOURS: dict[str, str] = {
    "romantic": "#0072B2",
    "dating": "#56B4E9",
    "fwb": "#E69F00",
    "casual": "#D55E00",
    "one_time": "#CC79A7",
    "online": "#009E73",
    "other": "#6b6b6b",
}
_WIDTH = 960
_LEFT = 150
_RIGHT = 20
_ROW = 34
_TOP = 30


def _x_scale(first: date, last: date, left: float, right: float) -> Callable[[date], float]:
    span = max(1, last.toordinal() - first.toordinal())

    def x(day: date) -> float:
        return round(left + (day.toordinal() - first.toordinal()) / span * (right - left), 1)

    return x


def _bounds(interview: Interview, today: date) -> tuple[date, date]:
    starts = [s.earliest for _, s, _ in interview.episodes]
    starts += [s.earliest for _, s, _ in interview.landmarks]
    starts += [w.earliest for _, w in interview.milestones]
    if not starts and interview.row.birth:
        starts.append(date(int(interview.row.birth[:4]) + 12, 1, 1))
    first = min(starts, default=date(today.year - 5, 1, 1))
    return date(first.year, 1, 1), date(today.year + 1, 1, 1)


def _label(x: float, y: float, text: str, *, anchor: str = "start", size: int = 13) -> str:
    return (
        f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="#1a1a1a">{escape(text)}</text>'
    )


def timeline_svg(interview: Interview, today: date, t: HistoryTranslator) -> str:
    """The SVG (a string) of ``interview``'s timeline up to ``today``, labelled in the
    translator's language; ``role="img"`` with a title and a description."""
    first, last = _bounds(interview, today)
    x = _x_scale(first, last, _LEFT, _WIDTH - _RIGHT)
    rows = ["landmarks", *(p.id for p in interview.partners)]
    height = _TOP + _ROW * len(rows) + 10
    person = interview.row.person_id
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'class="timeline" role="img" aria-labelledby="tl-title tl-desc">',
        f'<title id="tl-title">{escape(t("timeline_title", person=person))}</title>',
        f'<desc id="tl-desc">{escape(t("timeline_desc"))}</desc>',
    ]
    for year in range(first.year, last.year + 1):
        gx = x(date(year, 1, 1))
        out.append(
            f'<line x1="{gx}" y1="{_TOP - 8}" x2="{gx}" y2="{height - 10}" stroke="#d0d0d0"/>'
        )
        if year < last.year:
            out.append(_label(gx + 3, _TOP - 12, str(year), size=11))
    now = x(today)
    out.append(
        f'<line x1="{now}" y1="{_TOP - 8}" x2="{now}" y2="{height - 10}" stroke="#a4001d" '
        'stroke-dasharray="4 3"/>'
    )
    row_y = {key: _TOP + i * _ROW for i, key in enumerate(rows)}
    out.append(_label(8, row_y["landmarks"] + 21, t("landmarks_row")))
    for p in interview.partners:
        out.append(_label(8, row_y[p.id] + 21, f"{p.number}. {p.pseudonym}"[:22]))
    for lm, start, end in interview.landmarks:
        y = row_y["landmarks"] + 8
        x0, x1 = x(start.earliest), x((end or start).latest)
        name = f"{t('landmark_' + lm.kind)}: {lm.label} ({start.value}–{end.value if end else ''})"
        out.append(
            f'<rect x="{x0}" y="{y}" width="{max(2.0, x1 - x0)}" height="18" fill="#ececec" '
            f'stroke="#6b6b6b"><title>{escape(name)}</title></rect>'
        )
        if x1 - x0 > 60:
            out.append(_label(x0 + 4, y + 13, lm.label[:24], size=11))
    for ep, start, end in interview.episodes:
        if ep.partner_id not in row_y:
            continue
        y = row_y[ep.partner_id] + 6
        colour = TYPE_COLOURS.get(ep.type, "#6b6b6b")
        stop_latest = end.latest if end else today
        stop_earliest = end.earliest if end else today
        x_out, x_in = x(start.earliest), x(min(start.latest, stop_earliest))
        x_end_in, x_end_out = x(max(stop_earliest, start.latest)), x(stop_latest)
        name = (
            f"{t('type_' + ep.type)}: {start.value} – {end.value if end else t('to_now')}"
            f" ({t('certainty')}: {ep.certainty})"
        )
        out.append(f'<g class="episode" id="tl-episode-{ep.id}"><title>{escape(name)}</title>')
        out.append(
            f'<rect x="{x_out}" y="{y}" width="{max(2.0, x_end_out - x_out)}" height="22" '
            f'fill="{colour}" fill-opacity="0.3" stroke="{colour}"/>'
        )
        out.append(
            f'<rect x="{x_in}" y="{y}" width="{max(2.0, x_end_in - x_in)}" height="22" '
            f'fill="{colour}"/>'
        )
        if end is None:
            out.append(
                f'<path d="M{x_end_out},{y - 3} L{x_end_out + 9},{y + 11} '
                f'L{x_end_out},{y + 25} Z" fill="{colour}"/>'
            )
        if x_end_out - x_out > 70:
            out.append(
                f'<text x="{x_out + 4}" y="{y + 15}" font-size="11" fill="#000" '
                f'stroke="#fff" stroke-width="3" paint-order="stroke">'
                f"{escape(t('type_' + ep.type))}</text>"
            )
        out.append("</g>")
    for m, when in interview.milestones:
        key = m.partner_id if m.partner_id in row_y else "landmarks"
        cx, cy = x(when.middle), row_y[key] + 17
        name = f"{t('milestone_' + m.kind)}: {when.value}"
        out.append(
            f'<path d="M{cx},{cy - 9} L{cx + 8},{cy} L{cx},{cy + 9} L{cx - 8},{cy} Z" '
            f'fill="#fff" stroke="#1a1a1a" stroke-width="2"><title>{escape(name)}</title></path>'
        )
    out.append("</svg>")
    return "".join(out)
