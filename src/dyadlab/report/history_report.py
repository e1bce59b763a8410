"""HTML report of relationship histories: episodes, timelines, sequences, clusters.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import dyadlab as dl
>>> frame, truth = dl.history.simulate_episodes(12, rng=3, imprecise=0)
>>> write_history_report(frame, "history.html", until=truth.until, clusters=2).name
'history.html'
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab.exceptions import DyadlabError, DyadlabWarning
from dyadlab.report.html import (
    Provenance,
    Section,
    figure_from_matplotlib,
    file_sha256,
    write_report,
)

__all__ = ["write_history_report"]


def _by_type(episodes: Any) -> pd.DataFrame:
    from dyadlab.history._describe import durations

    d = durations(episodes)
    rows = []
    for kind, g in d.groupby("type", sort=True):
        months = g["months"]
        rows.append(
            {
                "type": kind,
                "episodes": len(g),
                "persons": g["person"].nunique(),
                "ongoing": int(g["ongoing"].sum()),
                "median months": float(months.median()),
                "quartile 1": float(months.quantile(0.25)),
                "quartile 3": float(months.quantile(0.75)),
            }
        )
    return pd.DataFrame(rows)


def _state_shares(result: Any) -> pd.DataFrame:
    long = result.long()
    shares = long["state"].value_counts(normalize=True)
    persons = long.groupby("state")["person"].nunique()
    return pd.DataFrame(
        {
            "state": shares.index,
            f"share of person-{result.unit}s": shares.to_numpy(),
            "persons": persons.reindex(shares.index).to_numpy(),
        }
    )


def _episodes_section(ep: Any, counts: Any, max_rows: int = 200) -> Section:
    """Counts and durations by type; how long episodes last (Kaplan–Meier by type, an
    ongoing episode censored at ``until``)."""
    from dyadlab.history._describe import durations

    per_person = counts(ep).reset_index()
    shown = per_person.head(max_rows)
    caption = "Per person" + (
        f" (the first {max_rows} of {len(per_person)})" if len(per_person) > max_rows else ""
    )
    figures = []
    text = (
        "Durations run from the placed start to the placed end; an ongoing episode's "
        "duration so far is censored, so the medians in the table understate the "
        "durations of types that are often ongoing."
    )
    d = durations(ep).assign(event=lambda f: (~f["ongoing"]).astype(int))
    if d["event"].sum() > 0:
        try:
            from dyadlab.history._survival import time_to_event
            from dyadlab.report.history_plots import draw_survival

            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DyadlabWarning)
                km = time_to_event(d, time="months", event="event", by="type")
            figures.append(
                figure_from_matplotlib(
                    draw_survival(km),
                    "How long episodes last",
                    caption="Share of episodes still going on after so many months "
                    "(Kaplan–Meier by type; ongoing episodes censored)",
                )
            )
            medians = ", ".join(
                f"{g} {'not reached' if m is None else f'{m:.1f}'}"
                for g, m in km.medians.items()
                if g != "all"
            )
            text += f" Kaplan–Meier median durations (months): {medians}."
        except DyadlabError as exc:  # e.g. lifelines not installed
            text += f" (No Kaplan–Meier curves: {exc})"
    return Section(
        "Episodes by type",
        text=text,
        tables=[
            ("Episodes, persons and durations (months) by type", _by_type(ep)),
            (caption, shown),
        ],
        figures=figures,
    )


def _concurrency_summary(ep: Any, unit: str) -> pd.DataFrame:
    from dyadlab.history._describe import concurrency

    c = concurrency(ep, unit=unit)
    return pd.DataFrame(
        {
            "persons": [len(c)],
            "with concurrency": [int((c["concurrent"] > 0).sum())],
            f"concurrent {unit}s (total)": [int(c["concurrent"].sum())],
            f"share of active {unit}s": [
                float(c["concurrent"].sum() / c["active"].sum()) if c["active"].sum() else 0.0
            ],
            "most partners at once": [int(c["max_partners"].max())],
        }
    )


def write_history_report(
    episodes: Any,
    path: str | Path,
    *,
    unit: str = "month",
    until: Any = None,
    clusters: int | None = None,
    persons: Any = None,
    event: str = "first_any",
    title: str | None = None,
    data_path: str | Path | None = None,
    figures_dir: str | Path | None = None,
    call: str = "",
    max_timelines: int = 30,
) -> Path:
    """Write a self-contained HTML report of the episodes.

    Parameters
    ----------
    episodes : Episodes, DataFrame or path
        The episodes (read with :func:`dyadlab.history.read_episodes` if not yet read).
    path : str or Path
        The HTML file.
    unit : str
        The unit of the sequences (``month`` by default).
    until : date or str, optional
        The day ongoing episodes run up to (default today).
    clusters : int, optional
        Cluster the sequences into this many groups (optimal matching with
        substitution cost 2 and indel 1, Ward's linkage) and show them.
    persons : DataFrame or path, optional
        ``person, birth`` [``interview``]: adds ages at first episodes and the
        Kaplan–Meier curve of the age at ``event``.
    event : str
        The milestone timed when ``persons`` is given (``first_any`` = first episode of
        any type, or ``first_<type>``).
    title, data_path, figures_dir, call
        The report's title; the data file (its SHA-256 goes in the footer); a folder
        for the figures as PNG and SVG; the command that made the report.
    max_timelines : int
        Draw the timelines of the first this many persons.

    Returns
    -------
    Path
        The HTML file.
    """
    from dyadlab.history._describe import counts, event_ages, first_episodes, milestone_ages
    from dyadlab.history._distances import cluster, distances
    from dyadlab.history._sequences import sequences
    from dyadlab.history.episodes import Episodes, read_episodes
    from dyadlab.report.history_plots import draw_sequence_index, draw_timelines

    ep = episodes if isinstance(episodes, Episodes) else read_episodes(episodes, until=until)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        result = sequences(ep, unit=unit)
    n_persons = len(ep.persons)
    sections = [
        Section(
            "Data",
            text=(
                f"{len(ep.table)} episodes of {n_persons} persons from {ep.source}; ongoing "
                f"episodes run up to {ep.until.isoformat()}. Dates known only to the year "
                "are placed on 1 July, dates known to the month on the 15th; a period "
                f"counts for an episode it overlaps at all; one state per {unit}, "
                "overlapping types joined by '+'."
            ),
            preformatted="\n".join(result.warnings) if result.warnings else "",
        ),
        _episodes_section(ep, counts),
        Section(
            "Timelines",
            text=(
                "Each person's episodes on the calendar; overlapping episodes are stacked, "
                "a dashed outline marks a date known only to the season, year or age, an "
                "arrow an episode still going on."
                + (
                    f" The first {max_timelines} of {n_persons} persons are shown."
                    if n_persons > max_timelines
                    else ""
                )
            ),
            figures=[
                figure_from_matplotlib(
                    draw_timelines(ep, max_persons=max_timelines), "Timelines of the episodes"
                )
            ],
        ),
        Section(
            "State sequences",
            text=(
                f"One row per person, one cell per {unit}, coloured by state. Concurrency "
                f"counts {unit}s with episodes with two or more partners (two partners of "
                "one type at once count, though the state shows the type once)."
            ),
            tables=[
                ("States", _state_shares(result)),
                ("Concurrency", _concurrency_summary(ep, unit)),
            ],
            figures=[figure_from_matplotlib(draw_sequence_index(result), "Sequence index plot")],
        ),
    ]
    if clusters is not None and n_persons >= 2:
        dist = distances(result, method="om", sub=2.0, indel=1.0)
        labels = cluster(dist, k=min(clusters, n_persons))
        sizes = labels.value_counts().sort_index()
        lengths = pd.Series({s.person: len(s.states) for s in result.sequences})
        table = pd.DataFrame(
            {
                "cluster": sizes.index,
                "persons": sizes.to_numpy(),
                f"mean length ({unit}s)": [
                    float(lengths[labels[labels == c].index].mean()) for c in sizes.index
                ],
            }
        )
        sections.append(
            Section(
                f"Clusters of sequences (k = {labels.max()})",
                text=(
                    "Optimal matching distances (substitution 2, insertion/deletion 1, "
                    "sequences compared from each person's first episode), clustered by "
                    "Ward's linkage. The index plot is sorted by cluster (numbered on its "
                    "right), the clusters separated by lines."
                ),
                tables=[("Cluster sizes", table)],
                figures=[
                    figure_from_matplotlib(
                        draw_sequence_index(result, groups=labels, align="start"),
                        "Sequences by cluster",
                        caption="Sequences aligned on their first period, sorted by cluster: "
                        + ", ".join(
                            f"cluster {c}: {', '.join(labels[labels == c].index[:6])}"
                            + (" …" if (labels == c).sum() > 6 else "")
                            for c in sizes.index
                        ),
                    )
                ],
            )
        )
    if persons is not None:
        sections.append(
            _ages_section(ep, persons, event, first_episodes, milestone_ages, event_ages)
        )
    provenance = Provenance(
        call=call or f"dl.history report of {ep.source}",
        data_sha256=file_sha256(data_path) if data_path is not None else None,
        data_name=Path(data_path).name if data_path is not None else None,
    )
    return write_report(
        path,
        title or "dyadlab relationship history report",
        sections,
        provenance=provenance,
        figures_dir=figures_dir,
    )


def _ages_section(
    ep: Any, persons: Any, event: str, first_episodes: Any, milestone_ages: Any, event_ages: Any
) -> Section:
    from dyadlab.history._survival import time_to_event
    from dyadlab.report.history_plots import draw_survival

    firsts = first_episodes(ep)
    ages = milestone_ages(firsts, persons)
    summary = (
        ages.groupby("milestone")["age"]
        .agg(persons="count", median="median", minimum="min", maximum="max")
        .reset_index()
    )
    data = event_ages(firsts, persons, event=event, until=ep.until)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        res = time_to_event(data, time="age", event="event")
    median = res.medians["all"]
    return Section(
        "Ages at first episodes",
        text=(
            f"Age (years) at each person's first episode of each type. The curve is the "
            f"Kaplan–Meier estimate of the share still without {event} by age, persons "
            f"without it censored at their age at the interview; median "
            f"{'not reached' if median is None else f'{median:.1f} years'}."
        ),
        tables=[("Age at first episode, by type", summary)],
        figures=[figure_from_matplotlib(draw_survival(res), f"Age at {event} (Kaplan–Meier)")],
        preformatted=res.summary(),
    )
