"""DyadicData: individual-format couples' data, validated once, convertible to any layout.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.data import DyadicData
>>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "gender": ["w", "m", "w", "m"],
...                    "sat": [4.0, 3.5, 5.0, None]})
>>> dd = DyadicData(df, dyad="couple", role="gender")
>>> dd.n_dyads, dd.distinguishable
(2, True)
>>> dd.to_dyad()
   couple gender_m gender_w  sat_m  sat_w
0       1        m        w    3.5    4.0
1       2        m        w    NaN    5.0
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyadlab.data import checks
from dyadlab.data.checks import _codes, _show
from dyadlab.data.convert import from_dyad, from_pairwise, to_dyad, to_pairwise
from dyadlab.exceptions import DyadicDataError

if TYPE_CHECKING:
    from dyadlab.data.describe import Description

__all__ = ["DyadicData", "Missingness"]


@dataclass(frozen=True)
class Missingness:
    """Missing values of the variables of a :class:`DyadicData`.

    Attributes
    ----------
    by_variable : Series
        Number of missing values per variable (index: variable names).
    by_dyad : Series
        Number of missing values per dyad over all variables and rows, most first
        (index: dyad ids); dyads without missing values are left out.
    n_cells : int
        Number of variable values in the data (rows × variables).
    """

    by_variable: pd.Series
    by_dyad: pd.Series
    n_cells: int

    @property
    def total(self) -> int:
        """Number of missing values over all variables."""
        return int(self.by_variable.sum())

    def __str__(self) -> str:
        per_variable = ", ".join(f"{k} {v}" for k, v in self.by_variable.items() if v)
        text = f"{self.total} of {self.n_cells} values missing"
        if per_variable:
            worst = ", ".join(f"{k} ({v})" for k, v in self.by_dyad.iloc[:5].items())
            text += f" ({per_variable}); {len(self.by_dyad)} dyads, most: {worst}"
        return text


class DyadicData:
    """Couples' data in individual format, checked for a sound dyadic structure.

    Parameters
    ----------
    data : DataFrame
        One row per person, or per person-occasion (diary data). It is copied; the
        caller's frame is never changed.
    dyad : str
        Column with the dyad id.
    person : str, optional
        Column with the person id; needed for diary data without a role.
    role : str, optional
        Column that tells the members apart (e.g. gender coded -1/1, or "wife"/"husband").
        Data in which some dyads share a role value (mixed studies, e.g. same-sex couples
        coded by gender) are accepted with ``distinguishable`` False;
        :meth:`require_distinguishable` then names those dyads.
    time : str, optional
        Column with the occasion (day, beep) for diary data. Persons may miss occasions
        their partner has (unbalanced data).
    allow_incomplete : bool, default False
        Accept dyads of which only one person has data.

    Attributes
    ----------
    data : DataFrame
        The validated copy.
    dyad, person, role, time : str or None
        The key columns.
    distinguishable : bool
        ``role`` is given, takes two values, and splits every dyad (at every occasion).
    roles : tuple of str
        The role values as strings, sorted; empty without a role.
    variables : tuple of str
        The columns that are not keys.

    Raises
    ------
    DyadicDataError
        An empty frame, a missing key column or key value, a dyad of 1 (unless
        ``allow_incomplete``) or 3+ persons, or duplicate person-occasions; the message
        names the first dyads or rows and how to fix them.

    See Also
    --------
    dyadlab.data.to_pairwise, dyadlab.data.to_dyad

    Examples
    --------
    >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> DyadicData(df, dyad="couple").n_dyads
    2
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        dyad: str,
        person: str | None = None,
        role: str | None = None,
        time: str | None = None,
        allow_incomplete: bool = False,
    ) -> None:
        func = "DyadicData"
        checks.check_not_empty(data, func=func)
        checks.check_keys(data, dyad=dyad, person=person, role=role, time=time, func=func)
        if time is not None and person is None and role is None:
            raise DyadicDataError(
                f"{func}(): diary data (time={time!r}) need person=COLUMN or role=COLUMN to "
                "tell who is who across occasions. Pass the person id column."
            )
        who = person
        if time is not None and person is None and role is not None:
            # the role identifies the persons across occasions, so it must split every dyad
            shared = checks.dyads_without_distinct_roles(data, dyad=dyad, role=role, time=time)
            if shared:
                raise DyadicDataError(
                    f"{func}(): diary data without person= are told apart by role {role!r}, "
                    f"but in {len(shared)} dyads both members share a role (first: "
                    f"{_show(shared)}). Pass person=COLUMN naming the person id column."
                )
            who = role
        checks.check_dyads(
            data,
            dyad=dyad,
            person=who,
            time=time,
            allow_incomplete=allow_incomplete,
            func=func,
        )
        if person is not None and role is not None:
            _check_role_per_person(data, dyad=dyad, person=person, role=role, func=func)
        self.data: pd.DataFrame = data.copy()
        self.dyad = dyad
        self.person = person
        self.role = role
        self.time = time
        self.allow_incomplete = allow_incomplete
        keys = set(self.keys)
        self.variables: tuple[str, ...] = tuple(c for c in self.data.columns if c not in keys)
        self._role_problem = self._find_role_problem()

    # -- construction from other layouts ---------------------------------------------

    @classmethod
    def from_pairwise(
        cls,
        data: pd.DataFrame,
        *,
        dyad: str,
        person: str | None = None,
        role: str | None = None,
        time: str | None = None,
        suffix: str = "_partner",
        allow_incomplete: bool = False,
    ) -> DyadicData:
        """Build from pairwise data (see :func:`dyadlab.data.from_pairwise`).

        Examples
        --------
        >>> df = pd.DataFrame({"couple": [1, 1], "x": [1.0, 2.0], "x_partner": [2.0, 1.0]})
        >>> DyadicData.from_pairwise(df, dyad="couple").variables
        ('x',)
        """
        individual = from_pairwise(
            data, dyad=dyad, person=person, role=role, time=time, suffix=suffix
        )
        return cls(
            individual,
            dyad=dyad,
            person=person,
            role=role,
            time=time,
            allow_incomplete=allow_incomplete,
        )

    @classmethod
    def from_dyad(
        cls,
        data: pd.DataFrame,
        *,
        dyad: str,
        person: str | None = None,
        role: str | None = None,
        time: str | None = None,
        labels: Sequence[str] | None = None,
        sep: str = "_",
        allow_incomplete: bool = False,
    ) -> DyadicData:
        """Build from dyad (wide) data (see :func:`dyadlab.data.from_dyad`).

        Examples
        --------
        >>> wide = pd.DataFrame({"couple": [1, 2], "x_1": [1.0, 2.0], "x_2": [3.0, 4.0]})
        >>> DyadicData.from_dyad(wide, dyad="couple").n_persons
        4
        """
        individual = from_dyad(
            data, dyad=dyad, person=person, role=role, time=time, labels=labels, sep=sep
        )
        return cls(
            individual,
            dyad=dyad,
            person=person,
            role=role,
            time=time,
            allow_incomplete=allow_incomplete,
        )

    # -- structure -------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        """The key columns given (dyad, person, role, time)."""
        return tuple(c for c in (self.dyad, self.person, self.role, self.time) if c is not None)

    @property
    def is_diary(self) -> bool:
        """True for repeated measures (a time column is given)."""
        return self.time is not None

    @property
    def n_obs(self) -> int:
        """Number of rows (persons, or person-occasions)."""
        return len(self.data)

    @property
    def n_dyads(self) -> int:
        """Number of dyads."""
        return int(self.data[self.dyad].nunique())

    @property
    def n_persons(self) -> int:
        """Number of persons (by person id, else by role, else by row)."""
        if self.person is not None:
            return len(self.data[[self.dyad, self.person]].drop_duplicates())
        if self.role is not None and self.time is not None:
            return len(self.data[[self.dyad, self.role]].drop_duplicates())
        return self.n_obs

    @property
    def dyad_ids(self) -> list[Hashable]:
        """The dyad ids in order of first appearance."""
        return [_item(v) for v in pd.unique(self.data[self.dyad])]

    @property
    def roles(self) -> tuple[str, ...]:
        """The role values as strings, sorted; empty without a role."""
        if self.role is None:
            return ()
        return tuple(str(v) for v in checks.role_values(self.data, self.role))

    @property
    def distinguishable(self) -> bool:
        """True when ``role`` is given and tells the two members of every dyad apart."""
        return self.role is not None and self._role_problem is None

    @property
    def same_role_dyads(self) -> list[Hashable]:
        """Dyads whose two members share a role value (empty without a role)."""
        if self.role is None:
            return []
        return checks.dyads_without_distinct_roles(
            self.data, dyad=self.dyad, role=self.role, time=self.time
        )

    @property
    def distinguishability(self) -> str:
        """One sentence on whether models can treat the dyads as distinguishable, and why."""
        if self.role is None:
            return "Indistinguishable dyads: no role column was given."
        if self._role_problem is None:
            return f"Distinguishable dyads: role {self.role!r} takes {', '.join(self.roles)}."
        return self._role_problem

    def require_distinguishable(self, *, func: str) -> None:
        """Raise :class:`DyadicDataError` unless the dyads are distinguishable.

        Models that estimate role-specific effects call this; the message names the
        dyads that lack two distinct roles and suggests the indistinguishable model.

        Examples
        --------
        >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "gender": ["w", "m", "w", "w"]})
        >>> dd = DyadicData(df, dyad="couple", role="gender")
        >>> dd.require_distinguishable(func="apim")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        dyadlab.exceptions.DyadicDataError: apim(): ... but 1 dyad does not (first: 2). ...
        """
        if self.role is None:
            raise DyadicDataError(
                f"{func}(): this model needs distinguishable dyads, but no role was given. "
                "Pass role=COLUMN naming the column that tells the partners apart, or use "
                "the model for indistinguishable dyads."
            )
        checks.check_distinguishable(
            self.data, dyad=self.dyad, role=self.role, time=self.time, func=func
        )

    def _find_role_problem(self) -> str | None:
        if self.role is None:
            return None
        try:
            self.require_distinguishable(func="DyadicData")
        except DyadicDataError as exc:
            return str(exc).removeprefix("DyadicData(): ")
        return None

    # -- conversions -----------------------------------------------------------------

    def _key_args(self) -> dict[str, Any]:
        return {"dyad": self.dyad, "person": self.person, "role": self.role, "time": self.time}

    def to_individual(self) -> pd.DataFrame:
        """A copy of the data in individual format."""
        return self.data.copy()

    def to_pairwise(
        self, *, suffix: str = "_partner", variables: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The data with partner columns (see :func:`dyadlab.data.to_pairwise`)."""
        return to_pairwise(self.data, **self._key_args(), suffix=suffix, variables=variables)

    def to_dyad(self, *, variables: Sequence[str] | None = None, sep: str = "_") -> pd.DataFrame:
        """One row per dyad (per occasion) (see :func:`dyadlab.data.to_dyad`).

        Distinguishable dyads are labelled by role; otherwise (no role, or a mixed
        study) members are numbered 1 and 2 and the role stays a variable.
        """
        args = self._key_args()
        if not self.distinguishable:
            args["role"] = None
        return to_dyad(self.data, **args, variables=variables, sep=sep)

    # -- summaries -------------------------------------------------------------------

    def missing(self) -> Missingness:
        """Count missing values per variable and per dyad.

        Examples
        --------
        >>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "x": [1.0, None, None, 4.0]})
        >>> DyadicData(df, dyad="couple").missing().by_variable.to_dict()
        {'x': 2}
        """
        values = self.data[list(self.variables)]
        isna = values.isna()
        by_variable = isna.sum().astype(np.int64)
        per_row = isna.sum(axis=1).to_numpy()
        codes = _codes(self.data, [self.dyad])
        counts = np.bincount(codes, weights=per_row, minlength=int(codes.max()) + 1)
        ids = pd.unique(self.data[self.dyad])
        by_dyad = pd.Series(counts.astype(np.int64), index=pd.Index(ids, name=self.dyad))
        by_dyad = by_dyad[by_dyad > 0].sort_values(ascending=False, kind="stable")
        return Missingness(by_variable=by_variable, by_dyad=by_dyad, n_cells=values.size)

    def describe(self) -> Description:
        """Dyads, persons, roles, occasions, composition and missingness at a glance."""
        from dyadlab.data.describe import describe

        return describe(self)

    def __len__(self) -> int:
        return self.n_obs

    def __repr__(self) -> str:
        keys = ", ".join(f"{k}={v!r}" for k, v in self._key_args().items() if v is not None)
        if self.role is not None:
            keys += " (distinguishable)" if self.distinguishable else " (not distinguishable)"
        shown = _show(self.variables, len(self.variables)).replace("'", "")
        return (
            f"DyadicData({self.n_dyads} dyads, {self.n_persons} persons, {self.n_obs} rows; "
            f"{keys}; variables: {shown or 'none'})"
        )


def _item(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _check_role_per_person(
    data: pd.DataFrame, *, dyad: str, person: str, role: str, func: str
) -> None:
    """Raise if a person's role changes between rows (occasions)."""
    person_codes = _codes(data, [dyad, person])
    with_role = _codes(data, [dyad, person, role])
    first = np.unique(with_role, return_index=True)[1]
    roles_per_person = np.bincount(person_codes[first], minlength=int(person_codes.max()) + 1)
    bad = roles_per_person[person_codes] > 1
    if bad.any():
        n_bad = int((roles_per_person > 1).sum())
        ids = [_item(v) for v in pd.unique(data[dyad][bad])]
        raise DyadicDataError(
            f"{func}(): column {role!r} must be the same in all rows of a person, but "
            f"{n_bad} persons have more than one value (dyads {_show(ids)}). Correct the "
            "role of these persons."
        )
