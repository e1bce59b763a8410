"""Plots of relationship histories: timelines, sequence index plots, survival curves.

Each episode type has a colour of its own; a combined state (``casual+romantic``) is
drawn in the mean of its types' colours, darkened, and ``none`` in light grey.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> import dyadlab as dl
>>> frame, truth = dl.history.simulate_episodes(6, rng=1, imprecise=0)
>>> ax = draw_sequence_index(dl.history.sequences(frame, until=truth.until))
>>> ax.get_xlabel()
'month'
>>> plt.close("all")
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["draw_sequence_index", "draw_survival", "draw_timelines", "state_colours"]

_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b15928",
    "#6a3d9a",
)
NONE_COLOUR = "#e6e6e6"


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in np.clip(rgb, 0, 1))


def state_colours(states: Sequence[str]) -> dict[str, str]:
    """A colour per state: per type from a fixed palette (alphabetical order), a
    combined state the darkened mean of its types, ``none`` light grey.

    Examples
    --------
    >>> state_colours(["none", "casual", "casual+romantic", "romantic"])["none"]
    '#e6e6e6'
    """
    types = sorted({t for s in states if s != "none" for t in s.split("+")})
    base = {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(types)}
    out = {}
    for s in states:
        if s == "none":
            out[s] = NONE_COLOUR
        elif "+" not in s:
            out[s] = base[s]
        else:
            mean = np.mean([_rgb(base[t]) for t in s.split("+")], axis=0)
            out[s] = _hex(mean * 0.7)
    return out


def draw_sequence_index(
    result: Any,
    ax: Any = None,
    *,
    order: Sequence[str] | None = None,
    align: str = "calendar",
    groups: pd.Series | None = None,
) -> Any:
    """The sequence index plot: one row per person, one cell per period, coloured by state.

    Parameters
    ----------
    result : SequenceResult
        The sequences.
    ax : matplotlib Axes, optional
        Where to draw (a new figure otherwise).
    order : sequence of str, optional
        The persons, top to bottom (default: as in ``result``).
    groups : Series, optional
        A group (e.g. cluster) per person: persons are sorted by it, separated by lines
        and the groups labelled on the right.
    align : {"calendar", "start"}
        Calendar periods on the x axis, or periods since each person's first episode.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    wide = result.to_wide(align=align).set_index("person")
    if groups is not None:
        order = list(groups.loc[list(wide.index)].sort_values(kind="stable").index)
    if order is not None:
        wide = wide.loc[list(order)]
    cells = wide.drop(columns=["start"])
    colours = state_colours(result.states)
    image = np.ones((len(cells), cells.shape[1], 3))
    for i, row in enumerate(cells.itertuples(index=False)):
        for j, state in enumerate(row):
            if isinstance(state, str) and state:
                image[i, j] = _rgb(colours[state])
    if ax is None:
        height = min(12.0, 1.5 + 0.18 * len(cells))
        _, ax = plt.subplots(figsize=(9, height))
    ax.imshow(image, aspect="auto", interpolation="nearest")
    step = max(1, cells.shape[1] // 12)
    ax.set_xticks(range(0, cells.shape[1], step))
    ax.set_xticklabels(list(cells.columns[::step]), rotation=45, ha="right", fontsize=8)
    shown = len(cells) <= 60
    ax.set_yticks(range(len(cells)) if shown else [])
    if shown:
        ax.set_yticklabels(list(cells.index), fontsize=7)
    ax.set_xlabel(result.unit if align == "calendar" else f"{result.unit}s since the first episode")
    ax.set_ylabel("person")
    if groups is not None:
        labels = groups.loc[list(cells.index)].to_numpy()
        edges = [i for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
        for i in edges:
            ax.axhline(i - 0.5, color="black", linewidth=1.2)
        for start, stop in zip([0, *edges], [*edges, len(labels)], strict=True):
            ax.annotate(
                str(labels[start]),
                (1.0, 1 - (start + stop) / 2 / len(labels)),
                xycoords="axes fraction",
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
                fontweight="bold",
            )
    handles = [Patch(color=colours[s], label=s) for s in result.states]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.03, 1), fontsize=8)
    return ax


def _lanes(starts: np.ndarray, ends: np.ndarray) -> list[int]:
    """A lane per episode so that overlapping episodes do not share a lane."""
    lanes: list[int] = []
    last_end: list[float] = []
    for s, e in zip(starts, ends, strict=True):
        for lane, end in enumerate(last_end):
            if s > end:
                last_end[lane] = e
                lanes.append(lane)
                break
        else:
            last_end.append(e)
            lanes.append(len(last_end) - 1)
    return lanes


def draw_timelines(episodes: Any, ax: Any = None, *, max_persons: int = 30) -> Any:
    """Each person's episodes as bars on a calendar, overlapping ones stacked.

    A bar's colour is the episode's type; a dashed outline marks a start or end known
    less precisely than the month (placed as the episodes module says); an arrow marks
    an episode still going on.

    Parameters
    ----------
    episodes : Episodes
        As :func:`dyadlab.history.read_episodes` returns them.
    ax : matplotlib Axes, optional
        Where to draw.
    max_persons : int
        Draw the first this many persons.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    to_num: Any = mdates.date2num
    table = episodes.table
    persons = episodes.persons[:max_persons]
    colours = state_colours(sorted(set(table["type"])))
    coarse = {"season", "year", "age"}
    if ax is None:
        _, ax = plt.subplots(figsize=(9, min(14.0, 1.2 + 0.45 * len(persons))))
    y = 0.0
    ticks, labels = [], []
    for person in persons:
        mine = table[table["person"] == person].sort_values("start", kind="stable")
        starts = to_num(mine["start"].to_numpy())
        ends = to_num(mine["end"].to_numpy()) + 1
        lanes = _lanes(starts, ends)
        n_lanes = max(lanes) + 1
        height = 0.8 / n_lanes
        for (_, row), s, e, lane in zip(mine.iterrows(), starts, ends, lanes, strict=True):
            bottom = y + lane * height
            dashed = row["start_precision"] in coarse or row["end_precision"] in coarse
            ax.broken_barh(
                [(s, max(e - s, 10.0))],  # a one-day episode stays visible
                (bottom, height * 0.9),
                facecolors=colours[row["type"]],
                edgecolors="black" if dashed else "none",
                linestyles="dashed" if dashed else "solid",
                linewidth=0.8,
            )
            if row["ongoing"]:
                ax.annotate("→", (e, bottom + height * 0.45), fontsize=8, va="center", ha="left")
        ticks.append(y + 0.4)
        labels.append(person)
        y += 1.0
    ax.set_yticks(ticks)
    ax.set_yticklabels(labels, fontsize=8)
    ax.invert_yaxis()
    ax.xaxis_date()
    ax.set_xlabel("date")
    handles = [Patch(color=c, label=t) for t, c in colours.items()]
    handles.append(
        Patch(
            facecolor="white",
            edgecolor="black",
            linestyle="dashed",
            label="date known to season/year/age",
        )
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    return ax


def draw_survival(result: Any, ax: Any = None) -> Any:
    """Kaplan–Meier curves (steps) with their confidence bands, overall or per group."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    table: pd.DataFrame = result.survival
    grouped = table["group"].notna().any()
    parts = (
        [(str(g), d) for g, d in table[table["group"].notna()].groupby("group")]
        if grouped
        else [("all", table)]
    )
    for i, (name, part) in enumerate(parts):
        colour = _PALETTE[i % len(_PALETTE)]
        t = np.concatenate([[0.0], part["time"].to_numpy(dtype=float)])
        s = np.concatenate([[1.0], part["survival"].to_numpy(dtype=float)])
        lo = np.concatenate([[1.0], part["ci_low"].to_numpy(dtype=float)])
        hi = np.concatenate([[1.0], part["ci_high"].to_numpy(dtype=float)])
        ax.step(t, s, where="post", color=colour, label=name)
        ax.fill_between(t, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
    first = float(table["time"].min())
    ax.set_xlim(left=max(0.0, first - 1.0))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(str(result.call.get("time", "time")))
    ax.set_ylabel("share without the event")
    if grouped:
        ax.legend(fontsize=8)
    return ax
