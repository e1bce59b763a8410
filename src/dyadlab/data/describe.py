"""A short description of a dyadic data set: who is in it, how often, and what is missing.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.data import DyadicData
>>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "gender": ["w", "m", "w", "w"],
...                    "sat": [4.0, 3.5, 5.0, None]})
>>> info = DyadicData(df, dyad="couple", role="gender").describe()
>>> info.composition
{'m/w': 1, 'w/w': 1}
>>> info.missing_by_variable
{'sat': 1}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyadlab.data.checks import role_values

if TYPE_CHECKING:
    from dyadlab.data.dyadic_data import DyadicData

__all__ = ["Description", "describe"]

#: how many dyads with the most missing values a description lists
N_WORST = 5


@dataclass(frozen=True)
class Description:
    """What :meth:`DyadicData.describe` reports.

    Attributes
    ----------
    n_dyads, n_persons, n_obs : int
        Dyads, persons, rows (person-occasions for diary data).
    dyad, person, role, time : str or None
        The key columns.
    distinguishable : bool
        Whether the role tells the members of every dyad apart.
    distinguishability : str
        One sentence explaining ``distinguishable``.
    persons_per_role : dict
        Number of persons per role value (as str); empty without a role.
    composition : dict
        Number of dyads per combination of the two members' roles, e.g. ``{"m/w": 80,
        "w/w": 12}``; without a role, per number of persons (``{"2 persons": 148}``).
    occasions : dict or None
        Occasions per person: ``{"min": …, "median": …, "max": …, "n_times": …}``
        (diary data only).
    variables : list of str
        The non-key columns.
    missing_by_variable : dict
        Missing values per variable.
    missing_worst_dyads : list of dict
        The dyads with the most missing values: ``{"dyad": id, "n_missing": k}``.
    n_dyads_with_missing : int
        Dyads with at least one missing value.
    """

    n_dyads: int
    n_persons: int
    n_obs: int
    dyad: str
    person: str | None
    role: str | None
    time: str | None
    distinguishable: bool
    distinguishability: str
    persons_per_role: dict[str, int] = field(default_factory=dict)
    composition: dict[str, int] = field(default_factory=dict)
    occasions: dict[str, float] | None = None
    variables: list[str] = field(default_factory=list)
    missing_by_variable: dict[str, int] = field(default_factory=dict)
    missing_worst_dyads: list[dict[str, Any]] = field(default_factory=list)
    n_dyads_with_missing: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``dyadlab describe --json`` prints)."""
        return asdict(self)

    def __str__(self) -> str:
        keys = ", ".join(
            f"{name} {col!r}"
            for name, col in (
                ("dyad", self.dyad),
                ("person", self.person),
                ("role", self.role),
                ("time", self.time),
            )
            if col is not None
        )
        unit = "person-occasions" if self.time else "rows"
        lines = [
            f"Dyadic data: {self.n_dyads} dyads, {self.n_persons} persons, "
            f"{self.n_obs} {unit} ({keys})",
            self.distinguishability,
        ]
        if self.persons_per_role:
            per_role = ", ".join(f"{r}: {n}" for r, n in self.persons_per_role.items())
            lines.append(f"Persons per role: {per_role}")
        if self.composition:
            comp = ", ".join(f"{c}: {n}" for c, n in self.composition.items())
            lines.append(f"Dyads by composition: {comp}")
        if self.occasions is not None:
            occ = self.occasions
            lines.append(
                f"Occasions per person: min {occ['min']:g}, median {occ['median']:g}, "
                f"max {occ['max']:g} ({occ['n_times']:g} distinct times)"
            )
        if not self.variables:
            lines.append("Variables: none")
        else:
            width = max(len(v) for v in self.variables)
            lines.append(f"Missing values per variable (of {self.n_obs} {unit}):")
            for v in self.variables:
                lines.append(f"  {v:<{width}}  {self.missing_by_variable.get(v, 0)}")
        if self.missing_worst_dyads:
            worst = ", ".join(
                f"{_id(d['dyad'])} ({d['n_missing']})" for d in self.missing_worst_dyads
            )
            lines.append(f"Dyads with missing values: {self.n_dyads_with_missing}; most: {worst}")
        else:
            lines.append("Dyads with missing values: 0")
        return "\n".join(lines)


def _id(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def describe(data: DyadicData) -> Description:
    """Describe a :class:`DyadicData` (see :class:`Description`).

    Examples
    --------
    >>> import pandas as pd
    >>> from dyadlab.data import DyadicData
    >>> df = pd.DataFrame({"couple": [1, 1], "x": [1.0, 2.0]})
    >>> describe(DyadicData(df, dyad="couple")).composition
    {'2 persons': 1}
    """
    df = data.data
    dyad = data.dyad
    persons_per_role: dict[str, int] = {}
    if data.role is not None:
        person_keys = [dyad, data.person or data.role]
        per_person = df.drop_duplicates(person_keys) if data.time else df
        counts = per_person[data.role].value_counts()
        persons_per_role = {str(v): int(counts.get(v, 0)) for v in role_values(df, data.role)}
        composition = _role_composition(data)
    else:
        composition = _size_composition(data)
    occasions = None
    if data.time is not None:
        who = [dyad, data.person or data.role]
        n_occasions = df.groupby(who, sort=False, observed=True).size().to_numpy()
        occasions = {
            "min": float(n_occasions.min()),
            "median": float(np.median(n_occasions)),
            "max": float(n_occasions.max()),
            "n_times": float(df[data.time].nunique()),
        }
    missing = data.missing()
    worst = [
        {"dyad": _plain(k), "n_missing": int(v)} for k, v in missing.by_dyad.iloc[:N_WORST].items()
    ]
    return Description(
        n_dyads=data.n_dyads,
        n_persons=data.n_persons,
        n_obs=data.n_obs,
        dyad=dyad,
        person=data.person,
        role=data.role,
        time=data.time,
        distinguishable=data.distinguishable,
        distinguishability=data.distinguishability,
        persons_per_role=persons_per_role,
        composition=composition,
        occasions=occasions,
        variables=list(data.variables),
        missing_by_variable={str(k): int(v) for k, v in missing.by_variable.items()},
        missing_worst_dyads=worst,
        n_dyads_with_missing=len(missing.by_dyad),
    )


def _role_composition(data: DyadicData) -> dict[str, int]:
    """Dyads per combination of roles, e.g. ``{"m/w": 80, "w/w": 12, "w": 1}``."""
    if data.role is None:
        return {}
    df = data.data
    who = [data.dyad, data.person] if data.person is not None else None
    members = df.drop_duplicates(who) if who is not None else df
    if data.time is not None and who is None:
        members = df.drop_duplicates([data.dyad, data.role])
    values = role_values(df, data.role)
    codes = pd.Series(pd.Index(values).get_indexer(members[data.role]), index=members.index)
    by_dyad = codes.groupby(members[data.dyad].to_numpy(), sort=False).agg(["min", "max", "size"])
    combos = by_dyad.value_counts().sort_index()
    result: dict[str, int] = {}
    for row, n in zip(combos.index.to_list(), combos.to_numpy(), strict=True):
        low, high, size = (int(v) for v in row)
        label = str(values[low]) if size == 1 else f"{values[low]}/{values[high]}"
        result[label] = int(n)
    return result


def _size_composition(data: DyadicData) -> dict[str, int]:
    df = data.data
    if data.person is not None:
        sizes = (
            df.drop_duplicates([data.dyad, data.person]).groupby(data.dyad, observed=True).size()
        )
    elif data.time is None:
        sizes = df.groupby(data.dyad, observed=True).size()
    else:
        sizes = df.groupby([data.dyad, data.time], observed=True).size().groupby(level=0).max()
    counts = sizes.value_counts().sort_index(ascending=False)
    return {
        f"{k} person{'s' if k != 1 else ''}": int(v)
        for k, v in zip(counts.index.astype(int), counts.to_numpy(), strict=True)
    }
