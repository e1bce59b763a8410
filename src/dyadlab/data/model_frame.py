"""The one step from data to a model: member codes, partners and dyad-wide arrays.

Every model calls :func:`model_frame` on what the user passed (a DataFrame or a
:class:`~dyadlab.data.DyadicData`) and reads what it needs from the
:class:`ModelFrame` it returns: the member (0 or 1) of every row, the two roles in the
order the model reports them, each row's partner row (the rule of :func:`to_pairwise`)
and dyad-wide ``(n_dyads, 2)`` arrays (the values :func:`to_dyad` gives; without an
occasion gathered straight from the rows, no data frame in between). The caller's data
are never changed.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"d": [1, 1, 2, 2, None], "r": ["w", "h", "h", "w", "h"],
...                    "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
>>> mf = model_frame(df, dyad="d", role="r", drop_missing_dyad=True,
...                  func="example")
>>> mf.roles, mf.member.tolist(), dict(mf.left_out)
(('h', 'w'), [1, 0, 0, 1], {'no dyad id': 1})
>>> mf.wide(["y"])["y"].tolist()
[[2.0, 1.0], [3.0, 4.0]]
>>> mf.partner.tolist()
[1, 0, 3, 2]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dyadlab.data.checks import factorize_key, role_values
from dyadlab.data.convert import (
    _member_codes,
    member_positions,
    partner_positions,
    spread,
    spread_rows,
)
from dyadlab.data.dyadic_data import DyadicData
from dyadlab.exceptions import OptionError

__all__ = ["ModelFrame", "keys_of", "model_frame"]

#: separator of the dyad-wide columns: no column name contains it, so none clash
_SEP = "\x1f"


@dataclass(frozen=True)
class ModelFrame:
    """The rows of one model with their member codes (see :func:`model_frame`).

    Everything is computed when first read, after the model's own checks.

    Attributes
    ----------
    rows : DataFrame
        The rows the model uses, in the order of the data: the caller's frame itself
        unless rows were left out, so never written to.
    dyad, person, role, time : str or None
        The key columns.
    member : ndarray of int64
        0 or 1 per row: the position of the row's role in ``roles``, or without a role
        the rank of the person id (row order without a person column) within the dyad.
    roles : tuple
        The two role values as in the data, member 0's first; empty without a role.
    left_out : Mapping of str to int
        Rows of the input left out, by reason (only reasons that occurred).
    """

    rows: pd.DataFrame
    dyad: str
    person: str | None
    role: str | None
    time: str | None
    order: Literal["value", "text"] = "value"
    left_out: Mapping[str, int] = field(default_factory=dict)

    @cached_property
    def _members(self) -> tuple[NDArray[np.int64], tuple[Any, ...]]:
        rows, role = self.rows, self.role
        if self.order == "text":
            return _text_members(rows, dyad=self.dyad, person=self.person, role=role)
        codes = _member_codes(rows, dyad=self.dyad, person=self.person, role=role, time=self.time)
        member = codes[0].astype(np.int64, copy=False)
        return member, tuple(role_values(rows, role)) if role is not None else ()

    @property
    def member(self) -> NDArray[np.int64]:
        return self._members[0]

    @property
    def roles(self) -> tuple[Any, ...]:
        return self._members[1]

    @cached_property
    def _dyads(self) -> tuple[NDArray[np.int64], pd.Index]:
        codes, ids = factorize_key(self.rows, self.dyad)
        return codes.astype(np.int64, copy=False), ids

    @property
    def dyad_codes(self) -> NDArray[np.int64]:
        """0, 1, … per row: the dyads numbered in order of first appearance."""
        return self._dyads[0]

    @property
    def dyad_ids(self) -> list[Any]:
        """The dyad ids in order of first appearance."""
        return self._dyads[1].tolist()

    @property
    def dyad_index(self) -> pd.Index:
        """:attr:`dyad_ids` as the Index of :func:`pandas.factorize` (no list of Python
        objects: on 100,000 dyads that list costs more than the reshape)."""
        return self._dyads[1]

    @cached_property
    def partner(self) -> NDArray[np.intp]:
        """Position in ``rows`` of each row's partner row (same occasion), -1 if none."""
        return partner_positions(self.rows, dyad=self.dyad, time=self.time)

    def partner_values(self, column: str) -> NDArray[np.float64]:
        """The partner's value of ``column`` as floats (NaN without a partner row)."""
        values = pd.to_numeric(self.rows[column], errors="coerce").to_numpy(dtype=float)
        out = np.full(len(values), np.nan)
        has = self.partner >= 0
        out[has] = values[self.partner[has]]
        return out

    @cached_property
    def positions(self) -> NDArray[np.intp]:
        """``(n_dyads, 2)``: the row of member 0 and of member 1 of every dyad, -1 where
        the member has no row (without ``time``: one row per person)."""
        if self.time is not None:
            raise ValueError("ModelFrame.positions: one row per person only (no time).")
        return member_positions(self.dyad_codes, self.member, len(self._dyads[1]))

    def gather(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """``(n_dyads, 2)``: ``values`` (floats, one per row of ``rows``) of member 0
        and 1 of every dyad, NaN where a member has no row (without ``time``)."""
        return spread_rows(values, self.positions)

    def wide(self, variables: Sequence[str]) -> dict[str, NDArray[np.float64]]:
        """``(n, 2)`` float values of each variable, member 0 in column 0.

        One row per dyad (per dyad and occasion with ``time``), in the order of
        :func:`to_dyad`; a member without a row has NaN. Without ``time`` each
        variable is gathered straight from the rows (:meth:`gather`); with ``time`` the
        reshape of :func:`to_dyad` makes them.
        """
        if self.time is None:
            return {v: self.gather(_floats(self.rows[v])) for v in variables}
        wide = spread(self.rows, self.member, ["0", "1"], dyad=self.dyad, person=None,
                      role=None, time=self.time, variables=variables, sep=_SEP)  # fmt: skip

        return {
            v: np.column_stack([_floats(wide[f"{v}{_SEP}{k}"]) for k in "01"]) for v in variables
        }

    @cached_property
    def present(self) -> NDArray[np.bool_]:
        """``(n_dyads, 2)``: whether the member has a row (one row per person)."""
        if self.time is None:
            return np.asarray(self.positions >= 0)
        out = np.zeros((len(self._dyads[1]), 2), dtype=bool)
        out[self.dyad_codes, self.member] = True
        return out


def _floats(column: pd.Series) -> NDArray[np.float64]:
    """A column's values as floats, NaN where they are not numbers."""
    return pd.to_numeric(column, errors="coerce").to_numpy(float)


def keys_of(
    data: pd.DataFrame | DyadicData,
    *,
    dyad: str | None,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    func: str,
) -> tuple[pd.DataFrame, str, str | None, str | None, str | None]:
    """The data frame and the keys: those passed, else those of a :class:`DyadicData`.

    Examples
    --------
    >>> dd = DyadicData(pd.DataFrame({"c": [1, 1], "y": [1.0, 2.0]}), dyad="c")
    >>> keys_of(dd, dyad=None, func="f")[1:]
    ('c', None, None, None)
    """
    if isinstance(data, DyadicData):
        dyad = dyad or data.dyad
        person = person or data.person
        role = role or data.role
        time = time or data.time
        data = data.data
    if not isinstance(data, pd.DataFrame):
        raise OptionError(
            f"{func}(): data must be a pandas DataFrame or a DyadicData, not {type(data).__name__}."
        )
    if dyad is None:
        raise OptionError(f"{func}(): give dyad= (the column with the dyad id).")
    return data, dyad, person, role, time


def model_frame(
    data: pd.DataFrame | DyadicData,
    *,
    func: str,
    dyad: str | None = None,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    order: Literal["value", "text"] = "value",
    drop_missing_dyad: bool = False,
) -> ModelFrame:
    """Member codes, partners and dyad-wide arrays of a model's data, in one step.

    Parameters
    ----------
    data : DataFrame or DyadicData
        Individual format. A :class:`DyadicData` gives the keys not passed here.
    func : str
        The model's name, for messages.
    dyad, person, role, time : str, optional
        Key columns (the model checks them before).
    order : {"value", "text"}
        How the two roles (and, without a role, the person ids) are ordered: by value
        (categories in their order; as :func:`to_dyad`) or by their text (``"10"``
        before ``"9"``).
    drop_missing_dyad : bool
        Leave out rows without a dyad id (counted in ``left_out``) instead of keeping them.

    Returns
    -------
    ModelFrame

    Examples
    --------
    >>> df = pd.DataFrame({"d": [1, 1], "g": [10, 9], "y": [1.0, 2.0]})
    >>> model_frame(df, dyad="d", role="g", func="f").roles
    (9, 10)
    >>> model_frame(df, dyad="d", role="g", func="f", order="text").roles
    (10, 9)
    """
    data, dyad, person, role, time = keys_of(
        data, dyad=dyad, person=person, role=role, time=time, func=func
    )
    rows = data
    left_out: dict[str, int] = {}
    if drop_missing_dyad:
        has_id = rows[dyad].notna().to_numpy()
        if not has_id.all():
            left_out["no dyad id"] = int((~has_id).sum())
            rows = rows[has_id]
    return ModelFrame(rows, dyad, person, role, time, order, left_out)


def _text_members(
    rows: pd.DataFrame, *, dyad: str, person: str | None, role: str | None
) -> tuple[NDArray[np.int64], tuple[Any, ...]]:
    """Member codes with roles (else person ids) ordered by their text."""
    if role is not None:
        values = sorted(pd.unique(rows[role]), key=str)
        roles = tuple(v.item() if isinstance(v, np.generic) else v for v in values)
        member = rows[role].astype(str).to_numpy() == str(values[-1])
        return member.astype(np.int64), roles
    if person is None:
        return rows.groupby(dyad, sort=False).cumcount().to_numpy().astype(np.int64), ()
    key = rows[person].astype(str)
    first = key.groupby(rows[dyad], sort=False).transform("min")
    return (key != first).to_numpy().astype(np.int64), ()
