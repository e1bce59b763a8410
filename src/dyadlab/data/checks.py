"""Checks of dyadic data: every bad input gets a :class:`DyadicDataError` that names it.

Each check says what is wrong, where (the first five offending dyad ids or rows), and
how to fix it, with the message template of :mod:`dyadlab._validation`. The checks are
vectorised (group codes from :func:`pandas.factorize`), so they cost little even on a
million rows.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.data.checks import check_dyads
>>> df = pd.DataFrame({"couple": [1, 1, 2], "x": [1.0, 2.0, 3.0]})
>>> check_dyads(df, dyad="couple", func="example")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
dyadlab.exceptions.DyadicDataError: example(): ... 1 dyad has only 1 (first: 2). ...
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric
from dyadlab.exceptions import DyadicDataError

__all__ = [
    "check_analysis_variables",
    "check_distinguishable",
    "check_dyads",
    "check_keys",
    "check_not_empty",
    "codes_once",
    "dyads_without_distinct_roles",
    "factorize_key",
    "nested_codes",
    "role_values",
]

#: how many offending dyad ids or rows a message names
N_SHOWN = 5


def _show(values: Iterable[Any], n_total: int | None = None) -> str:
    """Format the first few ids: ``3, 10, 12`` or ``3, 10, 12, 17, 21 and 4 more``."""
    values = list(values)
    n_total = len(values) if n_total is None else n_total
    shown = ", ".join(_fmt(v) for v in values[:N_SHOWN])
    more = n_total - min(len(values), N_SHOWN)
    return f"{shown} and {more} more" if more > 0 else shown


def _fmt(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


#: codes kept while :func:`codes_once` is active: (frame id, column, sort) -> (the frame,
#: kept alive so that its id is not reused; what :func:`_kept` made)
_FACTORIZED: contextvars.ContextVar[dict[tuple[int, str, bool], Any] | None] = (
    contextvars.ContextVar("dyadlab_factorized", default=None)
)


@contextlib.contextmanager
def codes_once() -> Iterator[None]:
    """Factorize each key column once inside the block, however many checks need it.

    A model's data step runs several checks on the same frame (dyads of two, roles
    that differ, the member codes), and each used to factorize the dyad and role
    columns again: on large data that hashing was most of the checks' time. Inside the
    block, :func:`factorize_key` keeps the codes per frame and column. The frames checked
    in the block must not change their key columns meanwhile (the model steps make
    their own frames).

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> with codes_once():
    ...     check_dyads(df, dyad="couple", func="example")
    ...     factorize_key(df, "couple")[0] is factorize_key(df, "couple")[0]
    True
    """
    if _FACTORIZED.get() is not None:  # already inside a block: share its codes
        yield
        return
    token = _FACTORIZED.set({})
    try:
        yield
    finally:
        _FACTORIZED.reset(token)


def factorize_key(data: pd.DataFrame, column: str, *, sort: bool = False) -> tuple[Any, Any]:
    """``pandas.factorize(data[column], sort=sort)``, once per frame inside :func:`codes_once`.

    Outside a :func:`codes_once` block this is plain :func:`pandas.factorize`. The
    codes returned are shared: do not modify them in place.

    Examples
    --------
    >>> codes, ids = factorize_key(pd.DataFrame({"couple": [7, 7, 3]}), "couple")
    >>> codes.tolist(), ids.tolist()
    ([0, 0, 1], [7, 3])
    """

    def make() -> tuple[Any, Any]:
        codes, uniques = _sorted_from(_kept_value(data, (column, False))) if sort else (None, None)
        return (codes, uniques) if codes is not None else _factorize(data[column], sort)

    out: tuple[Any, Any] = _kept(data, (column, sort), make)
    return out


def _kept_value(data: pd.DataFrame, key: tuple[str, bool]) -> Any:
    """What :func:`_kept` holds for ``data`` and ``key``, or None."""
    cache = _FACTORIZED.get()
    hit = cache.get((id(data), *key)) if cache is not None else None
    return hit[1] if hit is not None and hit[0] is data else None


def _kept(data: pd.DataFrame, key: tuple[str, bool], make: Callable[[], Any]) -> Any:
    """``make()``, kept per frame and ``key`` inside :func:`codes_once` (computed anew
    outside a block)."""
    cache = _FACTORIZED.get()
    if cache is None:
        return make()
    value = _kept_value(data, key)
    if value is None:
        value = make()
        cache[(id(data), *key)] = (data, value)
    return value


def _factorize(series: pd.Series, sort: bool) -> tuple[Any, Any]:
    """:func:`pandas.factorize`, without hashing when the values are sorted numbers.

    Data sets usually list each dyad's rows together in increasing id order. Then the
    codes count the changes of value (numbered in order of first appearance, which is
    also the sorted order) and the uniques are the values where they change: two passes
    instead of a hash table. A role coded by two numbers takes two comparisons
    (:func:`_factorize_two`). Same codes and uniques as :func:`pandas.factorize`; any
    other column (unsorted, missing values, not a NumPy number) goes to it.

    Examples
    --------
    >>> codes, ids = _factorize(pd.Series([3, 3, 5, 9, 9]), sort=False)
    >>> codes.tolist(), ids.tolist()
    ([0, 0, 1, 2, 2], [3, 5, 9])
    """
    values = series.to_numpy()
    numbers = series.dtype.kind in "iuf" and isinstance(series.dtype, np.dtype)
    # a NaN compares False, so a column with missing values is never "sorted"
    if numbers and len(values) > 1 and bool((values[1:] >= values[:-1]).all()):
        first = np.flatnonzero(values[1:] != values[:-1]) + 1  # where a new value starts
        codes = np.zeros(len(values), dtype=np.intp)
        codes[first] = 1
        np.cumsum(codes, out=codes)  # integers: a cumulative sum of booleans casts slowly
        return codes, pd.Index(np.concatenate([values[:1], values[first]]))
    if numbers and len(values) > 1:
        two = _factorize_two(values, sort)
        if two is not None:
            return two
    return pd.factorize(series, sort=sort)


def _factorize_two(values: np.ndarray, sort: bool) -> tuple[Any, Any] | None:
    """:func:`pandas.factorize` of numbers taking at most two values (a role coded
    1/2 or -1/1) by two comparisons; None for a third value or a missing one.

    Examples
    --------
    >>> codes, roles = _factorize_two(np.array([2, 1, 1, 2, 1]), sort=False)
    >>> codes.tolist(), roles.tolist()
    ([0, 1, 1, 0, 1], [2, 1])
    """
    first = values[0]
    same = values == first  # all False when the first value is NaN
    n_same = int(np.count_nonzero(same))
    if n_same == len(values):
        return np.zeros(len(values), dtype=np.intp), pd.Index(values[:1])
    at = int(np.argmin(same))  # the first row with another value
    if n_same == 0 or n_same + int(np.count_nonzero(values == values[at])) != len(values):
        return None  # a missing value or a third value
    if sort and values[at] < first:
        return same.astype(np.intp), pd.Index(values[[at, 0]])
    return np.logical_not(same).astype(np.intp), pd.Index(values[[0, at]])


def _sorted_from(kept: tuple[Any, Any] | None) -> tuple[Any, Any]:
    """The ``sort=True`` factorization from a kept unsorted one (a sort of the uniques
    instead of hashing every row again); ``(None, None)`` if there is none or the
    uniques do not sort (mixed types)."""
    if kept is None:
        return None, None
    codes, uniques = kept
    try:
        order = np.asarray(uniques.argsort(), dtype=np.intp)
    except TypeError:
        return None, None
    rank = np.empty(len(order), dtype=codes.dtype)
    rank[order] = np.arange(len(order), dtype=codes.dtype)
    return rank[codes], uniques.take(order)


def nested_codes(data: pd.DataFrame, outer: str, inner: str) -> np.ndarray:
    """Dense codes (order of first appearance) of the ``(outer, inner)`` pairs of key
    columns, e.g. persons within dyads; computed once per frame inside
    :func:`codes_once`. Keys must have no missing values (:func:`check_keys`).

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "person": [1, 2, 1, 1]})
    >>> nested_codes(df, "couple", "person").tolist()
    [0, 1, 2, 2]
    """

    def make() -> np.ndarray:
        return _combined(factorize_key(data, outer)[0], factorize_key(data, inner)[0])

    codes: np.ndarray = _kept(data, (f"{outer}\x00{inner}", False), make)
    return codes


def _codes(
    data: pd.DataFrame, columns: Sequence[str], *, sort: bool = False, dense: bool = True
) -> np.ndarray:
    """Integer code per row for the combination of ``columns`` (no missing values).

    Codes number the combinations in order of first appearance (``sort=False``) or in
    sorted order of the columns' values (``sort=True``). With ``dense=False`` equal
    combinations still share a code (in the same order) but the codes may leave gaps:
    no final hashing pass, enough for grouping.
    """
    code = np.zeros(len(data), dtype=np.int64)
    size = 1  # number of possible combinations so far
    if len(columns) == 1:  # the common case: the codes themselves (do not modify them)
        part, _ = factorize_key(data, columns[0], sort=sort)
        return np.asarray(part, dtype=np.int64)
    for column in columns:
        part, uniques = factorize_key(data, column, sort=sort)
        n = max(len(uniques), 1)
        if size * n >= 2**62:  # keep the combined code from overflowing
            code, distinct = pd.factorize(code, sort=sort)
            size = max(len(distinct), 1)
        code = code * n + part
        size *= n
    if not dense:
        return code
    codes, _ = pd.factorize(code, sort=sort)
    return codes.astype(np.int64, copy=False)


def _combined(code: np.ndarray, part: np.ndarray) -> np.ndarray:
    """Dense codes (in order of appearance) of the pairs of two integer codes.

    Examples
    --------
    >>> _combined(np.array([0, 0, 1, 1]), np.array([1, 0, 1, 1])).tolist()
    [0, 1, 2, 2]
    """
    n = int(part.max()) + 1 if len(part) else 1
    out: np.ndarray = pd.factorize(code.astype(np.int64) * n + part)[0]
    return out.astype(np.int64, copy=False)


def _first_of(mask: np.ndarray, values: pd.Series) -> list[Any]:
    """Unique values of ``values`` at rows where ``mask``, in order of appearance."""
    return [v.item() if isinstance(v, np.generic) else v for v in pd.unique(values[mask])]


def check_not_empty(data: pd.DataFrame, *, func: str) -> None:
    """Raise if ``data`` is not a DataFrame or has no rows.

    Examples
    --------
    >>> check_not_empty(pd.DataFrame({"x": [1]}), func="example")
    """
    if not isinstance(data, pd.DataFrame):
        raise DyadicDataError(
            f"{func}(): data must be a pandas DataFrame, not {type(data).__name__}. "
            "Read your file with dyadlab.io.read_table() or pandas.read_csv()."
        )
    if len(data) == 0:
        raise DyadicDataError(
            f"{func}(): data is empty (0 rows). Pass a data frame with one row per person "
            "(or per person-occasion)."
        )


def check_keys(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    func: str,
) -> None:
    """Raise if a key column is absent, given twice, or has missing values.

    The message names the closest existing column, or the first rows with a missing key.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1], "x": [1.0, 2.0]})
    >>> check_keys(df, dyad="couple", func="example")
    """
    keys = {"dyad": dyad, "person": person, "role": role, "time": time}
    for argument, column in keys.items():
        if column is not None and not isinstance(column, str):
            raise DyadicDataError(
                f"{func}(): {argument} must be a column name (str), not "
                f"{type(column).__name__}. Pass the name of the column."
            )
    check_columns(data, keys.values(), func=func)
    given = [(a, c) for a, c in keys.items() if c is not None]
    names = [c for _, c in given]
    if len(set(names)) < len(names):
        repeated = sorted({c for c in names if names.count(c) > 1})
        raise DyadicDataError(
            f"{func}(): column {repeated[0]!r} is given for more than one of "
            f"{', '.join(a for a, c in given if c == repeated[0])}. Each key needs its own "
            "column."
        )
    for argument, column in given:
        values = data[column].to_numpy()
        # object columns (string ids, roles): factorizing flags the same missing values
        # as isna() (None, NaN, NaT, NA) at half its cost
        missing = factorize_key(data, column)[0] < 0 if values.dtype == object else pd.isna(values)
        if missing.any():
            rows = list(data.index[missing])
            raise DyadicDataError(
                f"{func}(): {argument} column {column!r} has {_plural(len(rows), 'missing value')} "
                f"(rows {_show(rows)}). Fill them in or remove these rows; a key column must "
                "not be missing."
            )


def check_dyads(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    time: str | None = None,
    allow_incomplete: bool = False,
    func: str,
) -> None:
    """Raise unless every dyad holds 2 persons and every person-occasion appears once.

    Parameters
    ----------
    data : DataFrame
        Individual format, keys already checked with :func:`check_keys`.
    dyad, person, time : str or None
        Key columns.
    allow_incomplete : bool
        Accept dyads of one person (cross-sectional) or of one person over all occasions.
    func : str
        Name of the calling function, for the message.

    Raises
    ------
    DyadicDataError
        Duplicate person-occasions (or persons), dyads of 3 or more persons (or rows per
        occasion), and, unless ``allow_incomplete``, dyads of only one person.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> check_dyads(df, dyad="couple", func="example")
    """
    dyad_codes = _codes(data, [dyad])
    n_dyads = int(dyad_codes.max()) + 1
    dyads = data[dyad]
    if person is not None:
        occasion = [dyad, person] + ([time] if time else [])
        # each key column factorized once; a combination's rows counted by bincount
        person_codes = nested_codes(data, dyad, person)
        if time:
            time_codes = factorize_key(data, time)[0]
            n_times = int(time_codes.max()) + 1
            n_pairs = (int(person_codes.max()) + 1) * n_times
            occ = person_codes * n_times + time_codes
            # few possible (person, occasion) pairs: count them directly, no hashing
            occ_codes = (
                occ if n_pairs <= 8 * len(occ) + 1024 else _combined(person_codes, time_codes)
            )
        else:
            occ_codes = person_codes
        dup = np.bincount(occ_codes)[occ_codes] > 1
        if dup.any():
            what = "person-occasions" if time else "persons"
            ids = _first_of(dup, dyads)
            fix = (
                f"Each person may have one row per value of {time!r}"
                if time
                else "Each person may have one row; for repeated measures pass time=COLUMN"
            )
            raise DyadicDataError(
                f"{func}(): duplicate {what}: {_plural(int(dup.sum()), 'row')} repeat a "
                f"({', '.join(repr(c) for c in occasion)}) combination (dyads {_show(ids)}). "
                f"{fix}; remove or merge the duplicates."
            )
        # codes number persons in order of appearance: a person's first row is where
        # its code exceeds all before it
        first = np.flatnonzero(person_codes > np.maximum.accumulate(np.r_[-1, person_codes[:-1]]))
        persons_per_dyad = np.bincount(dyad_codes[first], minlength=n_dyads)
        unit = "persons per dyad"
    else:
        group = _codes(data, [dyad, time]) if time else dyad_codes
        rows_per_group = np.bincount(group)
        if time:
            first = np.unique(group, return_index=True)[1]
            persons_per_dyad = np.zeros(n_dyads, dtype=np.int64)
            np.maximum.at(persons_per_dyad, dyad_codes[first], rows_per_group)
        else:  # the groups are the dyads
            persons_per_dyad = rows_per_group.astype(np.int64)
        unit = "rows per dyad at one occasion" if time else "persons per dyad"
    big = persons_per_dyad > 2
    if big.any():
        ids = _first_of(big[dyad_codes], dyads)
        fix = (
            "Check the dyad ids; a triad or group is not a dyad"
            if person is not None or not time
            else f"Pass person=COLUMN if these are different persons, or check {time!r}"
        )
        raise DyadicDataError(
            f"{func}(): column {dyad!r} must hold exactly 2 {unit}, but "
            f"{_plural(int(big.sum()), 'dyad')} "
            f"{'has' if big.sum() == 1 else 'have'} more (first: {_show(ids)}). {fix}."
        )
    small = persons_per_dyad < 2
    if small.any() and not allow_incomplete and (person is not None or not time):
        ids = _first_of(small[dyad_codes], dyads)
        raise DyadicDataError(
            f"{func}(): column {dyad!r} must hold exactly 2 {unit}, but "
            f"{_plural(int(small.sum()), 'dyad')} {'has' if small.sum() == 1 else 'have'} "
            f"only 1 (first: {_show(ids)}). Remove these dyads, or pass allow_incomplete=True "
            f"to keep persons whose partner has no data."
        )


def dyads_without_distinct_roles(
    data: pd.DataFrame, *, dyad: str, role: str, time: str | None = None
) -> list[Hashable]:
    """Dyad ids whose members do not have two different values of ``role``.

    A dyad is listed when, at some occasion, its two rows share a role (e.g. a same-sex
    couple in a study that codes role by gender). Dyads of one person are not listed.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "gender": ["m", "w", "w", "w"]})
    >>> dyads_without_distinct_roles(df, dyad="couple", role="gender")
    [2]
    """
    group = _codes(data, [dyad, time]) if time else _codes(data, [dyad])
    rows = np.bincount(group)
    # roles per group: few role values, so mark (group, role) cells rather than sort
    # the rows' combined codes (a missing role is a value of its own here)
    role_code, uniques = factorize_key(data, role)
    k = len(uniques) + 1
    if len(rows) * k <= 8 * len(data) + 1024:
        seen = np.zeros(len(rows) * k, dtype=bool)
        cell = group * k  # one temporary, added to in place
        cell += role_code
        cell += 1
        seen[cell] = True
        cells = seen.reshape(len(rows), k)
        distinct = cells[:, 0].astype(np.int64)  # column by column: a row sum over k
        for j in range(1, k):  # cells is far slower on many short rows
            distinct += cells[:, j]
    else:
        with_role = _codes(data, [dyad, time, role] if time else [dyad, role])
        first = np.unique(with_role, return_index=True)[1]
        distinct = np.bincount(group[first], minlength=len(rows))
    bad_group = (rows >= 2) & (distinct < rows)
    if not bad_group.any():
        return []
    mask = bad_group[group]
    return _first_of(mask, data[dyad])


def role_values(data: pd.DataFrame, role: str) -> list[Any]:
    """The values of ``role`` present in the data, sorted (categories in their order)."""
    series = data[role]
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    values = list(factorize_key(data, role)[1])  # the uniques in order of appearance, no NA
    with contextlib.suppress(TypeError):  # mixed types: keep the order of appearance
        values = sorted(values)
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def check_distinguishable(
    data: pd.DataFrame, *, dyad: str, role: str, time: str | None = None, func: str
) -> None:
    """Raise unless ``role`` takes 2 values overall and 2 different values in every dyad.

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "gender": ["w", "w", "m", "w"]})
    >>> check_distinguishable(df, dyad="couple", role="gender", func="f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dyadlab.exceptions.DyadicDataError: f(): ... but 1 dyad does not (first: 1). Leave role out ...
    """
    values = role_values(data, role)
    if len(values) != 2:
        raise DyadicDataError(
            f"{func}(): column {role!r} must take exactly 2 values to distinguish the "
            f"members of a dyad, but it takes {len(values)} ({_show(values)}). Recode it to "
            "two roles, or leave role out to treat the dyads as indistinguishable."
        )
    bad = dyads_without_distinct_roles(data, dyad=dyad, role=role, time=time)
    if bad:
        raise DyadicDataError(
            f"{func}(): column {role!r} must take 2 different values within every dyad"
            f"{' at every occasion' if time else ''}, but {_plural(len(bad), 'dyad')} "
            f"{'does' if len(bad) == 1 else 'do'} not (first: {_show(bad)}). Leave role out "
            "to treat the dyads as indistinguishable, or correct the role of these dyads."
        )


def check_analysis_variables(data: pd.DataFrame, columns: Iterable[str], *, func: str) -> None:
    """Raise if an analysis variable is absent, not numeric, or constant.

    Parameters
    ----------
    data : DataFrame
        The data.
    columns : iterable of str
        The variables a model analyses (outcome, predictors).
    func : str
        Name of the calling function, for the message.

    Raises
    ------
    DyadicDataError
        Naming the column (and the closest existing name when it is absent).

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 2.0], "x": [3.0, 3.0]})
    >>> check_analysis_variables(df, ["y", "x"], func="apim")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    dyadlab.exceptions.DyadicDataError: apim(): column 'x' is constant (every value is 3.0), ...
    """
    columns = list(columns)
    check_columns(data, columns, func=func)
    check_numeric(data, columns, func=func)
    for column in columns:
        series = data[column]
        if series.dtype.kind in "fiu" and len(series):  # numpy numbers: no copies
            array = series.to_numpy()
            low, high = array.min(), array.max()
            if not (np.isnan(low) or np.isnan(high)) and low != high:
                continue  # has values (none missing) and is not constant
        values = pd.to_numeric(series, errors="coerce").dropna()
        if len(values) == 0:
            raise DyadicDataError(
                f"{func}(): column {column!r} has no values (all missing). Choose a variable "
                "with data."
            )
        if values.min() == values.max():  # constant; cheaper than nunique() on many rows
            raise DyadicDataError(
                f"{func}(): column {column!r} is constant (every value is "
                f"{_fmt(values.iloc[0])}), so it cannot explain or be explained by anything. "
                "Leave it out of the model."
            )
