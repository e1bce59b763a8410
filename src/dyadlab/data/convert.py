"""Conversions between the three layouts of dyadic data.

- **individual** (canonical): one row per person, or per person-occasion, with a dyad
  id, an optional person id, an optional role and an optional time;
- **pairwise**: the individual rows plus every variable of the partner, suffixed
  ``_partner`` (:func:`to_pairwise`, :func:`from_pairwise`);
- **dyad** (wide): one row per dyad, or per dyad-occasion, every variable once per
  member, suffixed by the member's role (``satisfaction_-1``, ``satisfaction_1``) or, for
  indistinguishable dyads, by the member number 1 or 2 (:func:`to_dyad`,
  :func:`from_dyad`).

The conversions are lossless both ways. Partners are matched within dyad (and occasion,
for diary data) with integer codes and index arithmetic, never a loop over dyads, so a
million rows convert in well under a second. A person-occasion whose partner has no
row is kept; the partner's values are missing.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.data import to_pairwise
>>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "sat": [4.0, 3.0, 5.0, 2.0]})
>>> to_pairwise(df, dyad="couple")
   couple  sat  sat_partner
0       1  4.0          3.0
1       1  3.0          4.0
2       2  5.0          2.0
3       2  2.0          5.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionDtype
from pandas.api.extensions import take as _pd_take
from pandas.api.types import pandas_dtype

from dyadlab._validation import check_columns
from dyadlab.data.checks import (
    _codes,
    _plural,
    _show,
    check_distinguishable,
    check_dyads,
    check_keys,
    check_not_empty,
    codes_once,
    factorize_key,
    role_values,
)
from dyadlab.exceptions import DyadicDataError

__all__ = ["from_dyad", "from_pairwise", "to_dyad", "to_pairwise"]

#: key of ``DataFrame.attrs`` where :func:`to_dyad` keeps what :func:`from_dyad` restores
_ATTRS_KEY = "dyadlab_individual"


def _take(series: pd.Series, positions: np.ndarray) -> Any:
    """``series`` values at ``positions``; -1 gives a missing value (dtype kept if none)."""
    dtype = series.dtype
    values = series.array if isinstance(dtype, ExtensionDtype) else series.to_numpy()
    return _pd_take(values, positions, allow_fill=True)


def _keys(dyad: str, person: str | None, role: str | None, time: str | None) -> list[str]:
    return [c for c in (dyad, person, role, time) if c is not None]


def _validate(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None,
    role: str | None,
    time: str | None,
    func: str,
) -> None:
    check_not_empty(data, func=func)
    check_keys(data, dyad=dyad, person=person, role=role, time=time, func=func)
    check_dyads(data, dyad=dyad, person=person, time=time, allow_incomplete=True, func=func)


def _variables(
    data: pd.DataFrame, keys: Sequence[str], variables: Sequence[str] | None, func: str
) -> list[str]:
    if variables is None:
        return [c for c in data.columns if c not in keys]
    if isinstance(variables, str):
        variables = [variables]
    variables = list(variables)
    check_columns(data, variables, func=func)
    return variables


def partner_positions(data: pd.DataFrame, *, dyad: str, time: str | None = None) -> np.ndarray:
    """Position (0-based row number) of each row's partner row, or -1 if it has none.

    Assumes at most two rows per dyad (per occasion), as checked by
    :func:`dyadlab.data.checks.check_dyads`.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [7, 8, 7]})
    >>> partner_positions(df, dyad="couple").tolist()
    [2, -1, 0]
    """
    group = _codes(data, [dyad, time] if time else [dyad], dense=False)
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    pairs = np.flatnonzero(ordered[1:] == ordered[:-1])
    partner = np.full(len(group), -1, dtype=np.intp)
    partner[order[pairs]] = order[pairs + 1]
    partner[order[pairs + 1]] = order[pairs]
    return partner


def to_pairwise(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    suffix: str = "_partner",
    variables: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Add the partner's value of every variable to each person's row.

    Parameters
    ----------
    data : DataFrame
        Individual format: one row per person, or per person-occasion.
    dyad : str
        Column with the dyad id.
    person : str, optional
        Column with the person id (needed to check diary data for duplicates).
    role : str, optional
        Column with the role (e.g. gender); a key, so it gets no partner column.
    time : str, optional
        Column with the occasion (diary data); partners are matched within occasion.
    suffix : str, default "_partner"
        Appended to a variable's name to name the partner's value.
    variables : sequence of str, optional
        Variables to pair; default every column that is not a key.

    Returns
    -------
    DataFrame
        The rows of ``data`` in the same order and with the same index, followed by
        ``<variable><suffix>`` for every variable. A row whose partner has no row (at that
        occasion) gets missing partner values; the dtype of a partner column equals the
        variable's unless such missing values force a float or object dtype.

    Raises
    ------
    DyadicDataError
        A missing column, a missing key value, a dyad of 3 or more persons, duplicate
        person-occasions, or a partner column name that already exists.

    See Also
    --------
    from_pairwise : the inverse.
    to_dyad : one row per dyad instead.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1], "gender": ["w", "m"], "sat": [4.0, 3.0]})
    >>> to_pairwise(df, dyad="couple", role="gender")
       couple gender  sat  sat_partner
    0       1      w  4.0          3.0
    1       1      m  3.0          4.0
    """
    func = "to_pairwise"
    _validate(data, dyad=dyad, person=person, role=role, time=time, func=func)
    keys = _keys(dyad, person, role, time)
    names = _variables(data, keys, variables, func)
    new = [f"{v}{suffix}" for v in names]
    clash = [c for c in new if c in data.columns]
    if clash:
        raise DyadicDataError(
            f"{func}(): column {clash[0]!r} is already in the data, so the partner's "
            f"{clash[0][: -len(suffix)]!r} cannot get that name. The data may already be "
            f"pairwise (use from_pairwise() first), or choose another suffix."
        )
    partner = partner_positions(data, dyad=dyad, time=time)
    added = {name: _take(data[v], partner) for v, name in zip(names, new, strict=True)}
    partner_frame = pd.DataFrame(added, index=data.index)
    return pd.concat([data, partner_frame], axis=1)


def from_pairwise(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    suffix: str = "_partner",
    check: bool = True,
) -> pd.DataFrame:
    """Drop the partner columns of pairwise data, giving individual format.

    A column is a partner column when its name is another column's name plus
    ``suffix``. With ``check`` the partner columns must agree with the partner's own
    row, so that nothing is lost.

    Parameters
    ----------
    data : DataFrame
        Pairwise format, as made by :func:`to_pairwise`.
    dyad, person, role, time : str or None
        Key columns, as for :func:`to_pairwise`.
    suffix : str, default "_partner"
        Marks the partner columns.
    check : bool, default True
        Verify that each partner value equals the value in the partner's row, and that
        no partner values are present for a partner who has no row.

    Returns
    -------
    DataFrame
        The same rows (order and index kept) without the partner columns.

    Raises
    ------
    DyadicDataError
        As :func:`to_pairwise`, and (with ``check``) when a partner column disagrees with
        the partner's row, naming the dyads.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1], "sat": [4.0, 3.0], "sat_partner": [3.0, 4.0]})
    >>> from_pairwise(df, dyad="couple")
       couple  sat
    0       1  4.0
    1       1  3.0
    """
    func = "from_pairwise"
    _validate(data, dyad=dyad, person=person, role=role, time=time, func=func)
    partner_cols = {
        c: c[: -len(suffix)]
        for c in data.columns
        if isinstance(c, str) and suffix and c.endswith(suffix) and c[: -len(suffix)] in data
    }
    if not partner_cols:
        raise DyadicDataError(
            f"from_pairwise(): no column of the data is another column's name plus "
            f"{suffix!r}, so there are no partner columns to drop. Pass suffix= as used in "
            "the data (e.g. '_P'), or use the data as individual format."
        )
    if check:
        partner = partner_positions(data, dyad=dyad, time=time)
        has = partner >= 0
        for column, base in partner_cols.items():
            stated = data[column]
            actual = pd.Series(_take(data[base], partner), index=data.index)
            both_na = stated.isna().to_numpy() & actual.isna().to_numpy()
            equal = (stated.to_numpy() == actual.to_numpy()) if len(data) else has
            equal = np.asarray(pd.array(equal, dtype="boolean").fillna(False), dtype=bool)
            bad = ~(both_na | equal)
            if bad.any():
                ids = pd.unique(data[dyad][bad])
                lonely = bad & ~has
                why = (
                    "the partner has no row"
                    if lonely[bad].all()
                    else f"it differs from {base!r} in the partner's row"
                )
                raise DyadicDataError(
                    f"{func}(): column {column!r} does not hold the partner's {base!r} in "
                    f"{_plural(int(bad.sum()), 'row')} (dyads {_show(ids)}): {why}. Correct the "
                    "data, add the missing partner rows, or pass check=False to drop the partner "
                    "columns anyway."
                )
    return data.drop(columns=list(partner_cols))


def _member_codes(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None,
    role: str | None,
    time: str | None,
) -> tuple[np.ndarray, list[str]]:
    """Member number (0 or 1) of every row, and the two labels used as column suffixes."""
    if role is not None:
        values = role_values(data, role)
        lookup = {v: i for i, v in enumerate(values)}
        codes, uniques = factorize_key(data, role)
        mapped = np.array([lookup[u.item() if isinstance(u, np.generic) else u] for u in uniques])
        return mapped[codes], [str(v) for v in values]
    if person is not None:
        dyad_codes = _codes(data, [dyad])
        person_codes = _codes(data, [person], sort=True)
        key = dyad_codes * (int(person_codes.max()) + 1) + person_codes
        unique_keys, inverse = np.unique(key, return_inverse=True)
        unique_dyads = unique_keys // (int(person_codes.max()) + 1)
        rank = np.arange(len(unique_keys)) - np.searchsorted(unique_dyads, unique_dyads)
        return rank[inverse.reshape(-1)], ["1", "2"]
    group = _codes(data, [dyad, time] if time else [dyad], dense=False)
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    rank_sorted = np.arange(len(group)) - np.searchsorted(ordered, ordered)
    rank = np.empty(len(group), dtype=np.intp)
    rank[order] = rank_sorted
    return rank, ["1", "2"]


def to_dyad(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    variables: Sequence[str] | None = None,
    sep: str = "_",
) -> pd.DataFrame:
    """Reshape individual data to one row per dyad (per occasion), members side by side.

    Members are labelled by ``str(role value)`` for distinguishable dyads (so
    ``satisfaction_-1`` and ``satisfaction_1``, or ``satisfaction_wife``); without a
    role they are numbered ``1`` and ``2`` by sorted person id, or by row order when
    there is no person column.

    Parameters
    ----------
    data : DataFrame
        Individual format.
    dyad, person, role, time : str or None
        Key columns. ``role`` must take two different values within every dyad; leave it
        out for indistinguishable (or mixed) dyads, where it stays a variable.
    variables : sequence of str, optional
        Variables to spread; default every column that is not a key.
    sep : str, default "_"
        Between a variable's name and the member label.

    Returns
    -------
    DataFrame
        Columns ``dyad``, ``time`` (if given), then for the person and role columns and
        every variable one column per member: ``<name><sep><label>``, the members in
        label order. Rows are the dyads in order of first appearance, occasions sorted
        within a dyad. A member without a row at an occasion has missing values there.
        The person and role columns are kept per member so that :func:`from_dyad`
        restores them exactly.

    Raises
    ------
    DyadicDataError
        As :func:`to_pairwise`, and when ``role`` does not split every dyad in two.

    See Also
    --------
    from_dyad : the inverse.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1], "gender": ["w", "m"], "sat": [4.0, 3.0]})
    >>> to_dyad(df, dyad="couple", role="gender")
       couple gender_m gender_w  sat_m  sat_w
    0       1        m        w    3.0    4.0
    """
    with codes_once():  # the checks and the reshape share one factorization per key
        return _to_dyad(
            data, dyad=dyad, person=person, role=role, time=time, variables=variables, sep=sep
        )


def member_positions(group: np.ndarray, member: np.ndarray, n_groups: int) -> np.ndarray:
    """Row of member 0 and of member 1 of every group, -1 where the member has no row.

    ``group`` (0..n_groups-1) and ``member`` (0 or 1) per row, each (group, member) at
    most once, as the checks guarantee. One scatter of the row numbers; every variable
    is then spread by a gather (:func:`spread_rows`), the vectorised reshape from
    individual to dyad format.

    Examples
    --------
    >>> member_positions(np.array([0, 1, 0]), np.array([1, 0, 0]), 2).tolist()
    [[2, 0], [1, -1]]
    """
    pos = np.full(2 * n_groups, -1, dtype=np.intp)
    slot = np.asarray(group, dtype=np.intp) * 2  # a new array: add the member in place
    slot += member
    pos[slot] = np.arange(len(group))
    return pos.reshape(n_groups, 2)


def spread_rows(values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``values`` (floats, one per row) at ``positions`` of :func:`member_positions`,
    NaN where a member has no row.

    Examples
    --------
    >>> spread_rows(np.array([1.0, 2.0, 3.0]), np.array([[2, 0], [1, -1]])).tolist()
    [[3.0, 1.0], [2.0, nan]]
    """
    out = np.asarray(values, dtype=float).take(positions)
    absent = positions < 0
    if absent.any():
        out[absent] = np.nan
    return out


def _first_positions(group: np.ndarray) -> np.ndarray:
    """Row of the first appearance of every code 0..k-1 of ``group``.

    Codes numbered in order of first appearance (as :func:`pandas.factorize` makes them)
    first appear where they exceed every earlier code: one pass, no sort.
    """
    if len(group) == 0:
        return np.zeros(0, dtype=np.intp)
    new = np.empty(len(group), dtype=bool)
    new[0] = True
    np.greater(group[1:], np.maximum.accumulate(group)[:-1], out=new[1:])
    return np.flatnonzero(new)


def _to_dyad(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None,
    role: str | None,
    time: str | None,
    variables: Sequence[str] | None,
    sep: str,
) -> pd.DataFrame:
    func = "to_dyad"
    _validate(data, dyad=dyad, person=person, role=role, time=time, func=func)
    if role is not None:
        check_distinguishable(data, dyad=dyad, role=role, time=time, func=func)
    keys = _keys(dyad, person, role, time)
    names = _variables(data, keys, variables, func)
    member, labels = _member_codes(data, dyad=dyad, person=person, role=role, time=time)
    return spread(data, member, labels, dyad=dyad, person=person, role=role, time=time,
                  variables=names, sep=sep)  # fmt: skip


def spread(
    data: pd.DataFrame,
    member: np.ndarray,
    labels: Sequence[str],
    *,
    dyad: str,
    person: str | None,
    role: str | None,
    time: str | None,
    variables: Sequence[str],
    sep: str,
) -> pd.DataFrame:
    """The reshape of :func:`to_dyad` on checked data with given member codes (0 or 1).

    Examples
    --------
    >>> df = pd.DataFrame({"c": [1, 1], "y": [4.0, 3.0]})
    >>> spread(df, np.array([1, 0]), ["a", "b"], dyad="c", person=None, role=None,
    ...        time=None, variables=["y"], sep="_")
       c  y_a  y_b
    0  1  3.0  4.0
    """
    func = "to_dyad"
    keys = _keys(dyad, person, role, time)
    names = list(variables)
    # one output row per (dyad, time): dyads by first appearance, times sorted
    group = _codes(data, [dyad])  # already 0, 1, … in order of first appearance
    if time is not None:
        time_codes = _codes(data, [time], sort=True)
        key = group * (int(time_codes.max()) + 1) + time_codes
        group, _ = pd.factorize(key, sort=True)
        first = np.unique(group, return_index=True)[1]
    else:  # the dyad codes number the rows in order of first appearance already
        first = _first_positions(group)
    n_groups = int(group.max()) + 1

    columns: dict[str, Any] = {dyad: _take(data[dyad], first)}
    if time is not None:
        columns[time] = _take(data[time], first)
    both = member_positions(group, member, n_groups)
    positions = [both[:, 0], both[:, 1]]
    spread = [c for c in (person, role) if c is not None] + names
    for name in spread:
        for label, pos in zip(labels, positions, strict=True):
            column = f"{name}{sep}{label}"
            if column in columns:
                raise DyadicDataError(
                    f"{func}(): two variables would both be named {column!r} in dyad format. "
                    "Rename one of them, or choose another sep."
                )
            columns[column] = _take(data[name], pos)
    result = pd.DataFrame(columns)
    result.attrs[_ATTRS_KEY] = {
        "columns": [c for c in data.columns if c in set(keys) | set(names)],
        "dtypes": {c: _dtype_spec(data[c].dtype) for c in keys + names},
        "labels": labels,
    }
    return result


def _labels_from(data: pd.DataFrame, column: str, sep: str) -> list[str]:
    start = f"{column}{sep}"
    return [c[len(start) :] for c in data.columns if isinstance(c, str) and c.startswith(start)]


def from_dyad(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    labels: Sequence[str] | None = None,
    sep: str = "_",
) -> pd.DataFrame:
    """Reshape dyad (wide) data to individual format: one row per person (per occasion).

    Parameters
    ----------
    data : DataFrame
        One row per dyad (per occasion), as made by :func:`to_dyad`.
    dyad, time : str or None
        Columns with the dyad id and the occasion.
    person, role : str or None
        Names of the person and role columns to rebuild from ``<name><sep><label>``.
    labels : sequence of two str, optional
        Member labels used as suffixes; default: read from the role (or person) columns,
        else ``("1", "2")``.
    sep : str, default "_"
        Between a variable's name and the member label.

    Returns
    -------
    DataFrame
        Rows ordered by dyad (as in ``data``), member (label order), then occasion, with
        a fresh RangeIndex. A member whose role and person are missing at an occasion
        has no row there (without person and role columns: whose values are all
        missing). Columns without a member suffix are dyad-level and copied to both
        members. Data made by :func:`to_dyad` get their original columns and dtypes back
        (kept in ``data.attrs``); other data get the columns dyad, person, role, time,
        then the variables, and integral float person and role values become integers.

    Raises
    ------
    DyadicDataError
        A missing column or member columns that cannot be matched to two labels.

    Examples
    --------
    >>> wide = pd.DataFrame({"couple": [1], "sat_m": [3.0], "sat_w": [4.0]})
    >>> from_dyad(wide, dyad="couple", labels=["w", "m"])
       couple  sat
    0       1  4.0
    1       1  3.0
    """
    func = "from_dyad"
    check_not_empty(data, func=func)
    check_keys(data, dyad=dyad, time=time, func=func)
    if labels is None:
        found = _labels_from(data, role, sep) if role else []
        if not found and person:
            found = _labels_from(data, person, sep)
        labels = found or ["1", "2"]
    labels = [str(label) for label in labels]
    if len(labels) != 2 or labels[0] == labels[1]:
        raise DyadicDataError(
            f"{func}(): need 2 different member labels, but found {_show(labels)}. Pass "
            "labels=['A', 'B'] naming the suffixes of the members' columns."
        )
    for key in (role, person):
        if key is not None:
            expected = [f"{key}{sep}{label}" for label in labels]
            check_columns(data, expected, func=func)
    # member columns: <base><sep><label> for both labels
    base_of: dict[str, None] = {}  # ordered set
    for c in data.columns:
        if c in (dyad, time) or not isinstance(c, str):
            continue
        for label in labels:
            if c.endswith(f"{sep}{label}"):
                base = c[: -len(sep) - len(label)]
                if all(f"{base}{sep}{lab}" in data.columns for lab in labels):
                    base_of.setdefault(base, None)
                    break
    member_columns = {f"{b}{sep}{lab}" for b in base_of for lab in labels}
    shared = [c for c in data.columns if c not in (dyad, time) and c not in member_columns]
    n = len(data)
    frames = []
    for m, label in enumerate(labels):
        part: dict[str, Any] = {dyad: data[dyad].array}
        if time is not None:
            part[time] = data[time].array
        for base in base_of:
            part[base] = data[f"{base}{sep}{label}"].array
        for c in shared:
            part[c] = data[c].array
        frame = pd.DataFrame(part)
        frame["__member"] = m
        frame["__row"] = np.arange(n)
        frames.append(frame)
    presence_cols = [c for c in (role, person) if c is not None]
    long = pd.concat(frames, ignore_index=True)
    if presence_cols:
        long = long[long[presence_cols].notna().all(axis=1).to_numpy()]
    elif base_of:
        long = long[long[list(base_of)].notna().any(axis=1).to_numpy()]
    dyad_codes = _codes(data, [dyad])
    order = np.lexsort(
        (
            long["__row"].to_numpy(),
            long["__member"].to_numpy(),
            dyad_codes[long["__row"].to_numpy()],
        )
    )
    long = long.iloc[order].drop(columns=["__member", "__row"]).reset_index(drop=True)
    first = [c for c in (dyad, person, role, time) if c is not None and c in long]
    long = long[first + [c for c in long.columns if c not in first]]
    return _restore(long, data.attrs.get(_ATTRS_KEY), keys=presence_cols)


def _dtype_spec(dtype: Any) -> Any:
    """A JSON-friendly description of ``dtype`` (the attrs may be saved in a file)."""
    if isinstance(dtype, pd.CategoricalDtype):
        categories = [_plain(c) for c in dtype.categories.tolist()]
        return {"categories": categories, "ordered": bool(dtype.ordered)}
    return str(dtype)


def _dtype_from_spec(spec: Any) -> Any:
    if isinstance(spec, dict):
        return pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"])
    return pandas_dtype(spec)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _restore(
    data: pd.DataFrame, meta: dict[str, Any] | None, *, keys: Sequence[str]
) -> pd.DataFrame:
    """Give back the column order and dtypes :func:`to_dyad` recorded, where they fit."""
    if meta and set(meta["columns"]) == set(data.columns):
        data = data[list(meta["columns"])]
        for column, spec in meta["dtypes"].items():
            dtype = _dtype_from_spec(spec)
            if column in data and data[column].dtype != dtype:
                data[column] = data[column].astype(dtype)
        return data
    for column in keys:  # ids read back from a file: integral floats were integers
        values = data[column]
        if pd.api.types.is_float_dtype(values) and (values == np.floor(values)).all():
            data[column] = values.astype(np.int64)
    return data
