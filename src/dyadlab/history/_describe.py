"""Describing histories: episodes by type, their durations, ages at milestones.

Ages are in years: days since birth / 365.25, from dates placed as
:mod:`dyadlab.history.episodes` says (a year-only date on 1 July, a month-only date on
the 15th).

Examples
--------
>>> import dyadlab as dl
>>> frame, truth = dl.history.simulate_episodes(3, rng=0, imprecise=0)
>>> ep = dl.history.read_episodes(frame, until=truth.until)
>>> int(dl.history.counts(ep)["total"].sum()) == len(frame)
True
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dyadlab._validation import check_columns
from dyadlab.exceptions import DyadicDataError
from dyadlab.history.episodes import (
    PRECISION_RANK,
    PRECISIONS,
    Episodes,
    _text,
    parse_date,
    read_episodes,
    read_source,
)

__all__ = [
    "concurrency",
    "counts",
    "durations",
    "event_ages",
    "first_episodes",
    "milestone_ages",
]

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12


def _episodes(episodes: Any, until: Any) -> Episodes:
    return episodes if isinstance(episodes, Episodes) else read_episodes(episodes, until=until)


def counts(episodes: Any, *, until: Any = None) -> pd.DataFrame:
    """The number of episodes of each type per person.

    Parameters
    ----------
    episodes : Episodes, DataFrame or path
        Episodes, read with :func:`read_episodes` if not yet read.
    until : date or str, optional
        The day ongoing episodes run up to, when ``episodes`` is not yet read.

    Returns
    -------
    DataFrame
        One row per person (index ``person``, in the order they appear), a column per
        type (alphabetical), ``total`` (episodes), ``partners`` (distinct non-empty
        partners) and ``ongoing`` (episodes still going on).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["p", "p", "q"], "partner": ["a", "a", "b"],
    ...     "type": ["dating", "romantic", "casual"], "start": ["2019-01", "2019-05", "2020"],
    ...     "end": ["2019-04", "", "2020"], "start_precision": "", "end_precision": "",
    ...     "certainty": ""})
    >>> counts(frame, until="2021-01-01").to_dict("index")["p"]
    {'casual': 0, 'dating': 1, 'romantic': 1, 'total': 2, 'partners': 1, 'ongoing': 1}
    """
    ep = _episodes(episodes, until)
    table = ep.table
    wide = pd.crosstab(table["person"], table["type"]).reindex(ep.persons).fillna(0)
    wide = wide[sorted(wide.columns)].astype(int)
    wide.columns.name = None
    wide["total"] = wide.sum(axis=1)
    named = table[table["partner"] != ""]
    wide["partners"] = named.groupby("person")["partner"].nunique().reindex(ep.persons)
    wide["partners"] = wide["partners"].fillna(0).astype(int)
    wide["ongoing"] = table.groupby("person")["ongoing"].sum().reindex(ep.persons).astype(int)
    wide.index.name = "person"
    return wide


def durations(episodes: Any, *, until: Any = None) -> pd.DataFrame:
    """How long each episode lasted (an ongoing one: so far, up to ``until``).

    Returns
    -------
    DataFrame
        ``person, partner, type, episode, start, end, ongoing, days, months,
        start_precision, end_precision, certainty``: ``days`` from the placed start to the placed
        end (0 for an episode of one day), ``months`` = days / 30.4375. An ongoing
        episode's duration is censored: use it as such (e.g. with
        :func:`time_to_event` and ``event = ~ongoing``).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["p"], "partner": ["a"], "type": ["dating"],
    ...     "start": ["2019-01-01"], "end": ["2019-01-31"], "start_precision": "",
    ...     "end_precision": "", "certainty": ""})
    >>> int(durations(frame, until="2020-01-01").loc[0, "days"])
    30
    """
    ep = _episodes(episodes, until)
    t = ep.table
    out = t[["person", "partner", "type", "episode", "start", "end", "ongoing"]].copy()
    out["days"] = (t["end"] - t["start"]).dt.days.astype(int)
    out["months"] = out["days"] / DAYS_PER_MONTH
    out["start_precision"] = t["start_precision"]
    out["end_precision"] = t["end_precision"]
    out["certainty"] = t["certainty"]
    return out.reset_index(drop=True)


def concurrency(episodes: Any, *, unit: str = "month", until: Any = None) -> pd.DataFrame:
    """How often a person had episodes with two or more partners at once.

    Concurrency is counted by partner, not by type: two casual partners in one month are
    concurrent although the month's state is just ``casual``. A period counts for an
    episode it overlaps at all, as in :func:`sequences`; an episode without a partner
    counts as a partner of its own.

    Parameters
    ----------
    episodes : Episodes, DataFrame or path
        Episodes, read with :func:`read_episodes` if not yet read.
    unit : str
        The period: ``month`` (default), ``day``, ``week``, ``quarter`` or ``year``.
    until : date or str, optional
        As for :func:`read_episodes`.

    Returns
    -------
    DataFrame
        One row per person (index ``person``): ``periods`` (from the first episode to
        the last period), ``active`` (periods with an episode), ``concurrent`` (periods
        with two or more partners), ``share_concurrent`` (concurrent / active) and
        ``max_partners`` (the most partners in one period).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["p", "p"], "partner": ["a", "b"],
    ...     "type": ["casual", "casual"], "start": ["2019-01", "2019-02"],
    ...     "end": ["2019-03", "2019-05"], "start_precision": "", "end_precision": "",
    ...     "certainty": ""})
    >>> c = concurrency(frame, until="2020-01-01")
    >>> int(c.loc["p", "concurrent"]), float(c.loc["p", "share_concurrent"])
    (2, 0.4)
    """
    from dyadlab._validation import check_option
    from dyadlab.history._sequences import _FREQ, UNITS

    check_option("unit", unit, UNITS, func="concurrency")
    ep = _episodes(episodes, until)
    t = ep.table
    first = t["start"].dt.to_period(_FREQ[unit]).array.asi8
    last = t["end"].dt.to_period(_FREQ[unit]).array.asi8
    partners = [p if p else f"\x00{i}" for i, p in enumerate(t["partner"])]
    spans: dict[str, list[tuple[int, int, str]]] = {}
    for person, a, b, partner in zip(t["person"], first, last, partners, strict=True):
        spans.setdefault(person, []).append((int(a), int(b), partner))
    rows = []
    for person in ep.persons:
        mine = spans[person]
        origin = min(a for a, _, _ in mine)
        width = max(b for _, b, _ in mine) - origin + 1
        who: list[set[str]] = [set() for _ in range(width)]
        for a, b, partner in mine:
            for i in range(a - origin, b - origin + 1):
                who[i].add(partner)
        sizes = [len(w) for w in who]
        active = sum(1 for n in sizes if n > 0)
        concurrent = sum(1 for n in sizes if n > 1)
        rows.append(
            {
                "person": person,
                "periods": width,
                "active": active,
                "concurrent": concurrent,
                "share_concurrent": concurrent / active if active else 0.0,
                "max_partners": max(sizes),
            }
        )
    return pd.DataFrame(rows).set_index("person")


def first_episodes(episodes: Any, *, until: Any = None) -> pd.DataFrame:
    """The start of each person's first episode of each type, as milestones.

    Returns
    -------
    DataFrame
        ``person, milestone, date, precision``, ``milestone`` = ``first_<type>`` and
        ``first_any`` (the first episode of any type), ``date`` the placed start
        (``YYYY-MM-DD``; a year-only start is 1 July) and ``precision`` how well it is
        known; the input of :func:`milestone_ages` and :func:`event_ages`.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["p", "p"], "partner": ["a", "b"],
    ...     "type": ["dating", "dating"], "start": ["2019-05", "2018"], "end": ["2019-06", "2018"],
    ...     "start_precision": "", "end_precision": "", "certainty": ""})
    >>> firsts = first_episodes(frame, until="2020-01-01")
    >>> firsts[["milestone", "date", "precision"]].values.tolist()
    [['first_any', '2018-07-01', 'year'], ['first_dating', '2018-07-01', 'year']]
    """
    ep = _episodes(episodes, until)
    t = ep.table.sort_values("start", kind="stable")
    rows = []
    for person in ep.persons:
        mine = t[t["person"] == person]
        firsts = [("first_any", mine.iloc[0])]
        firsts += [(f"first_{k}", g.iloc[0]) for k, g in mine.groupby("type", sort=True)]
        for name, row in firsts:
            rows.append(
                {
                    "person": person,
                    "milestone": name,
                    "date": row["start"].date().isoformat(),
                    "precision": row["start_precision"],
                }
            )
    return pd.DataFrame(rows, columns=["person", "milestone", "date", "precision"])


def _placed(frame: pd.DataFrame, column: str, name: str, func: str) -> pd.Series:
    out: list[Any] = []
    for label, value in frame[column].items():
        text = _text(value)
        if not text:
            out.append(pd.NaT)
            continue
        try:
            out.append(pd.Timestamp(parse_date(text)[0]))
        except ValueError as exc:
            raise DyadicDataError(
                f"{func}(): {name}, row {label}, column {column!r}: {exc}."
            ) from None
    return pd.Series(out, index=frame.index, dtype="datetime64[ns]")


def _persons(persons: Any, func: str) -> pd.DataFrame:
    frame, name, _ = read_source(persons, func)
    check_columns(frame, ["person", "birth"], func=func)
    frame = frame.copy()
    frame["person"] = frame["person"].astype(str).str.strip()
    dup = frame["person"][frame["person"].duplicated()]
    if len(dup):
        raise DyadicDataError(
            f"{func}(): person {dup.iloc[0]!r} has two rows in the persons table {name}; "
            "give one row (one birth date) per person."
        )
    frame["birth"] = _placed(frame, "birth", name, func)
    if frame["birth"].isna().any():
        who = frame.loc[frame["birth"].isna(), "person"].iloc[0]
        raise DyadicDataError(f"{func}(): person {who!r} has no birth date in {name}.")
    if "interview" in frame.columns:
        frame["interview"] = _placed(frame, "interview", name, func)
    return frame


def milestone_ages(milestones: Any, persons: Any) -> pd.DataFrame:
    """The age at each milestone.

    Parameters
    ----------
    milestones : DataFrame or path
        ``person, milestone, date`` (dates as episodes have them) and optionally
        ``precision``; e.g. :func:`first_episodes`.
    persons : DataFrame or path
        ``person, birth`` (a date; ``YYYY`` is placed on 1 July, like every date).

    Returns
    -------
    DataFrame
        ``person, milestone, date`` (placed), ``precision``, ``age`` (years).

    Raises
    ------
    DyadicDataError
        Missing columns, a milestone of a person without a birth date, a bad date, a
        milestone before birth.

    Examples
    --------
    >>> import pandas as pd
    >>> ms = pd.DataFrame({"person": ["p"], "milestone": ["first_kiss"], "date": ["2015-07-01"]})
    >>> born = pd.DataFrame({"person": ["p"], "birth": ["2000-07-01"]})
    >>> round(float(milestone_ages(ms, born).loc[0, "age"]), 2)
    15.0
    """
    func = "milestone_ages"
    frame, name, _ = read_source(milestones, func)
    check_columns(frame, ["person", "milestone", "date"], func=func)
    people = _persons(persons, func).set_index("person")
    out = frame[["person", "milestone"]].copy()
    out["person"] = out["person"].astype(str).str.strip()
    out["date"] = _placed(frame, "date", name, func)
    if "precision" in frame.columns:
        precision = frame["precision"].fillna("").astype(str).str.strip().str.lower()
        bad = precision[(precision != "") & ~precision.isin(PRECISION_RANK)]
        if len(bad):
            raise DyadicDataError(
                f"{func}(): {name}, row {bad.index[0]}, column 'precision': {bad.iloc[0]!r} "
                f"is not a precision; write one of {', '.join(PRECISIONS)} or leave it empty."
            )
        written = frame["date"].astype(str).str.len().map({4: "year", 7: "month"}).fillna("day")
        out["precision"] = precision.where(precision != "", written)
    else:
        out["precision"] = frame["date"].astype(str).str.len().map({4: "year", 7: "month"})
        out["precision"] = out["precision"].fillna("day")
    unknown = sorted(set(out["person"]) - set(people.index))
    if unknown:
        raise DyadicDataError(
            f"{func}(): person {unknown[0]!r} has milestones but no birth date in the "
            "persons table; add a row for them."
        )
    birth = people.loc[out["person"], "birth"].to_numpy()
    out["age"] = (out["date"].to_numpy() - birth) / pd.Timedelta(days=1) / DAYS_PER_YEAR
    early = out[out["age"] < 0]
    if len(early):
        row = early.iloc[0]
        raise DyadicDataError(
            f"{func}(): {name}, row {early.index[0]}: {row['milestone']!r} of person "
            f"{row['person']!r} falls before their birth; correct the date."
        )
    return out.reset_index(drop=True)


def event_ages(milestones: Any, persons: Any, *, event: str, until: Any = None) -> pd.DataFrame:
    """Age at a milestone, or at the interview for those who have not reached it.

    The input of :func:`time_to_event`: every person of ``persons`` gets one row.

    Parameters
    ----------
    milestones, persons
        As :func:`milestone_ages` takes them; ``persons`` may have an ``interview``
        column (a date) and any covariates.
    event : str
        The milestone, e.g. ``first_romantic`` or ``first_intercourse``.
    until : date or str, optional
        The censoring day of persons without an ``interview`` date (default today).

    Returns
    -------
    DataFrame
        ``person, age, event`` (1 = reached at ``age``, 0 = not yet at ``age``, the age at
        the interview) and the persons' other columns.

    Examples
    --------
    >>> import pandas as pd
    >>> ms = pd.DataFrame({"person": ["p"], "milestone": ["first_kiss"], "date": ["2015-07-01"]})
    >>> born = pd.DataFrame({"person": ["p", "q"], "birth": ["2000-07-01", "2004-07-01"]})
    >>> ages = event_ages(ms, born, event="first_kiss", until="2020-07-01")
    >>> ages[["person", "event"]].values.tolist()
    [['p', 1], ['q', 0]]
    """
    from dyadlab.history.episodes import _as_date

    func = "event_ages"
    stop = pd.Timestamp(_as_date(until, argument="until", func=func))
    people = _persons(persons, func)
    ages = milestone_ages(milestones, people)
    reached = ages[ages["milestone"] == event].groupby("person")["age"].min()
    if reached.empty and event not in set(ages["milestone"]):
        known = ", ".join(sorted(set(ages["milestone"]))[:8])
        raise DyadicDataError(
            f"{func}(): no milestone is called {event!r}; the milestones are: {known}."
        )
    if "interview" in people.columns:
        censor = people["interview"].fillna(stop)
    else:
        censor = pd.Series(stop, index=people.index)
    censor_age = (censor - people["birth"]).dt.days / DAYS_PER_YEAR
    out = people.drop(columns=["birth"]).copy()
    out.insert(1, "age", censor_age.to_numpy())
    out.insert(2, "event", 0)
    hit = out["person"].isin(reached.index)
    out.loc[hit, "age"] = reached.reindex(out.loc[hit, "person"]).to_numpy()
    out.loc[hit, "event"] = 1
    if "interview" in out.columns:
        out = out.drop(columns=["interview"])
    return out.reset_index(drop=True)
