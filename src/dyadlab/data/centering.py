"""Within/between decomposition helpers for intensive longitudinal (diary) data.

Diary researchers split a daily predictor into a stable between-person part and a daily
within-person fluctuation, lag it to the previous day and add a time trend. These helpers
do it vectorised (no loop over persons) and never modify the input frame.

- :func:`person_mean_center` — ``x_within = x - person mean`` (over the person's
  non-missing occasions) and ``x_between = person mean - grand mean`` (the grand mean of
  all non-missing person-occasions), as ``dyadlab diary --center person`` uses them.
- :func:`grand_mean_center` — ``x - grand mean``.
- :func:`lag` — the same person's value on the previous occasion (``time - lag``);
  missing when the person has no row there, so a lag never reaches across a gap.
- :func:`time_trend` — occasions since the person's (or the study's) first occasion.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"p": [1, 1, 2, 2], "day": [1, 2, 1, 3], "x": [1.0, 3.0, 5.0, 7.0]})
>>> person_mean_center(df, "x", person="p")[["x_within", "x_between"]].to_numpy().tolist()
[[-1.0, -2.0], [1.0, -2.0], [-1.0, 2.0], [1.0, 2.0]]
>>> lag(df, "x", person="p", time="day")["x_lag"].tolist()
[nan, 1.0, nan, nan]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric, check_option
from dyadlab.exceptions import DyadicDataError

__all__ = ["grand_mean_center", "lag", "person_mean_center", "time_trend"]


def _names(columns: str | Sequence[str]) -> list[str]:
    return [columns] if isinstance(columns, str) else list(columns)


def _check(data: pd.DataFrame, keys: list[str | None], columns: list[str], func: str) -> None:
    check_columns(data, [*keys, *columns], func=func)
    check_numeric(data, columns, func=func)
    for key in keys:
        if key is not None and data[key].isna().any():
            n = int(data[key].isna().sum())
            raise DyadicDataError(
                f"{func}(): column {key!r} has {n} missing values. Every row needs its "
                "identifier; drop or fill those rows first."
            )


def _person_parts(x: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(x - person mean, person mean - grand mean)`` for integer person ``codes``."""
    ok = ~np.isnan(x)
    size = int(codes.max()) + 1 if len(codes) else 0
    sums = np.bincount(codes[ok], weights=x[ok], minlength=size)
    counts = np.bincount(codes[ok], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        pmean = (sums / counts)[codes]
    grand = float(x[ok].mean()) if ok.any() else np.nan
    return x - pmean, pmean - grand


def person_mean_center(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    person: str,
    suffixes: tuple[str, str] = ("_within", "_between"),
) -> pd.DataFrame:
    """Split variables into within-person and between-person parts.

    Parameters
    ----------
    data : DataFrame
        Individual (long) format, one row per person-occasion.
    columns : str or sequence of str
        Numeric variables to split.
    person : str
        Column with the person id.
    suffixes : pair of str
        Appended to each variable's name for the within and the between part.

    Returns
    -------
    DataFrame
        A copy of ``data`` with ``<x>_within = x - person mean`` and
        ``<x>_between = person mean - grand mean``. The person mean is taken over the
        person's non-missing values, the grand mean over all non-missing person-occasions
        (so persons with more occasions weigh more). ``x_within`` is missing where ``x``
        is; ``x_between`` is missing only for a person without any value.

    Examples
    --------
    >>> df = pd.DataFrame({"p": [1, 1, 2], "x": [2.0, 4.0, 9.0]})
    >>> person_mean_center(df, "x", person="p")["x_between"].tolist()
    [-2.0, -2.0, 4.0]
    """
    names = _names(columns)
    _check(data, [person], names, "person_mean_center")
    out = data.copy()
    codes = pd.factorize(out[person])[0]
    for name in names:
        x = pd.to_numeric(out[name], errors="coerce").to_numpy(dtype=float)
        within, between = _person_parts(x, codes)
        out[name + suffixes[0]] = within
        out[name + suffixes[1]] = between
    return out


def grand_mean_center(
    data: pd.DataFrame, columns: str | Sequence[str], *, suffix: str = "_c"
) -> pd.DataFrame:
    """Centre variables on their grand mean (over all non-missing rows).

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 6.0]})
    >>> grand_mean_center(df, "x")["x_c"].tolist()
    [-2.0, -1.0, 3.0]
    """
    names = _names(columns)
    _check(data, [], names, "grand_mean_center")
    out = data.copy()
    for name in names:
        x = pd.to_numeric(out[name], errors="coerce").astype(float)
        out[name + suffix] = x - x.mean()
    return out


def _integer_time(data: pd.DataFrame, time: str, func: str) -> np.ndarray:
    t = pd.to_numeric(data[time], errors="coerce").to_numpy(dtype=float)
    if np.isnan(t).any() or not np.all(t == np.round(t)):
        raise DyadicDataError(
            f"{func}(): column {time!r} must hold whole-numbered occasions (day 1, 2, …), "
            "without missing values. Number the occasions as integers first."
        )
    return t.astype(np.int64)


def lag(
    data: pd.DataFrame,
    columns: str | Sequence[str],
    *,
    person: str,
    time: str,
    lag: int = 1,
    suffix: str = "_lag",
) -> pd.DataFrame:
    """The same person's value ``lag`` occasions earlier, never across a gap.

    Parameters
    ----------
    data : DataFrame
        Long format with integer occasions in ``time``.
    columns : str or sequence of str
        Variables to lag.
    person, time : str
        Person id and integer occasion.
    lag : int, default 1
        How many occasions back.
    suffix : str, default "_lag"

    Returns
    -------
    DataFrame
        A copy with ``<x><suffix>``: the value of the row of the same person at
        ``time - lag``, missing if the person has no such row (a missed day stays a gap).

    Raises
    ------
    DyadicDataError
        Non-integer or missing occasions, or a person with two rows at one occasion.

    Examples
    --------
    >>> df = pd.DataFrame({"p": [1, 1, 1], "t": [1, 2, 4], "x": [1.0, 2.0, 4.0]})
    >>> lag(df, "x", person="p", time="t")["x_lag"].tolist()
    [nan, 1.0, nan]
    """
    func = "lag"
    names = _names(columns)
    _check(data, [person, time], names, func)
    if int(lag) != lag or lag < 1:
        raise DyadicDataError(f"{func}(): lag={lag!r} must be a positive whole number.")
    t = _integer_time(data, time, func)
    codes = pd.factorize(data[person])[0].astype(np.int64)
    key = pd.MultiIndex.from_arrays([codes, t])
    if key.has_duplicates:
        dup = data.loc[key.duplicated(keep=False), person].unique()[:3].tolist()
        raise DyadicDataError(
            f"{func}(): a person has two rows at one occasion of {time!r} (persons "
            f"{', '.join(map(repr, dup))}). Each person-occasion must be unique."
        )
    target = pd.MultiIndex.from_arrays([codes, t - int(lag)])
    pos = key.get_indexer(target)
    out = data.copy()
    for name in names:
        x = pd.to_numeric(data[name], errors="coerce").to_numpy(dtype=float)
        out[name + suffix] = np.where(pos >= 0, x[np.maximum(pos, 0)], np.nan)
    return out


def time_trend(
    data: pd.DataFrame,
    *,
    time: str,
    person: str | None = None,
    origin: str = "first",
    name: str = "time_trend",
) -> pd.DataFrame:
    """Add a linear time trend: occasions since the first occasion.

    Parameters
    ----------
    time : str
        Integer (or numeric) occasion.
    person : str, optional
        With a person id, the trend counts from each person's first occasion;
        without, from the study's first occasion.
    origin : {"first", "center"}
        ``"first"``: 0 at the first occasion; ``"center"``: centred on the mean of the
        occasions (of the person, or of the study), so the intercept is a mid-study value.
    name : str
        Name of the new column.

    Examples
    --------
    >>> df = pd.DataFrame({"p": [1, 1, 2, 2], "t": [3, 4, 5, 7]})
    >>> time_trend(df, time="t", person="p")["time_trend"].tolist()
    [0.0, 1.0, 0.0, 2.0]
    """
    func = "time_trend"
    check_option("origin", origin, ("first", "center"), func=func)
    _check(data, [time, person], [time], func)
    t = pd.to_numeric(data[time], errors="coerce").astype(float)
    out = data.copy()
    if person is None:
        ref = t.min() if origin == "first" else t.mean()
        out[name] = t - ref
    else:
        grouped = t.groupby(data[person].to_numpy())
        ref_s = grouped.transform("min" if origin == "first" else "mean")
        out[name] = t - ref_s
    return out
