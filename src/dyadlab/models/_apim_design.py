"""From individual-format data to the APIM's dyad-wide arrays and terms.

The APIM for the outcome of member ``r`` of a dyad (``o`` is the other member) is a
list of *terms*: the actor's and the partner's value of every predictor, of every
person-level covariate, the value of every dyad-level covariate, and with a moderator
its main effect(s) and products. A term knows how to compute its values for either
member from the dyad-wide arrays, so the same terms build

- the lavaan-style dyad-wide matrix ``(y_1, y_2, exogenous…)`` of the SEM, and
- the pairwise design matrix (one row per person) of the multilevel model.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"d": [1, 1, 2, 2, 3, 3], "r": ["w", "h"] * 3,
...                    "y": [1.0, 2, 3, 4, 5, 7], "x": [0.0, 1, 3, 1, 2, 2]})
>>> des = prepare(df, y="y", x=["x"], dyad="d", role="r", func="apim")
>>> des.roles
['h', 'w']
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from dyadlab._validation import show_ids
from dyadlab.data.checks import (
    check_analysis_variables,
    check_distinguishable,
    check_dyads,
)
from dyadlab.data.model_frame import model_frame
from dyadlab.exceptions import DyadicDataError

__all__ = ["ApimData", "Term", "prepare", "role_label"]

Array = NDArray[np.float64]


def role_label(value: object) -> str:
    """The role as a string exactly as it reads in the data (``-1``, not ``-1.0``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


@dataclass(frozen=True)
class Term:
    """One regressor of the APIM for the outcome of member ``r``.

    ``effect`` is ``actor``, ``partner``, ``actor:M`` or ``partner:M``; ``predictor`` the
    variable; ``kind`` one of ``x`` (a predictor), ``cov`` (a covariate), ``mod`` (a
    moderator's main effect), ``int`` (a product). ``source`` is ``actor``, ``partner``
    or ``dyad``: whose value is used; ``times`` the moderator multiplying it (its
    ``times_source`` says whose moderator value).
    """

    effect: str
    predictor: str
    kind: str
    source: str
    times: str | None = None
    times_source: str | None = None

    def key(self, r: int) -> str:
        """A name of the exogenous column this term uses for member ``r`` (0 or 1)."""

        def tag(src: str | None) -> str:
            return {"actor": str(r + 1), "partner": str(2 - r), "dyad": "d"}[src or "dyad"]

        base = f"{self.predictor}_{tag(self.source)}"
        if self.times is not None:
            base += f"*{self.times}_{tag(self.times_source)}"
        return base

    def values(self, wide: dict[str, Array], r: int) -> Array:
        """Values of the term for the outcome of member ``r``, one per dyad."""

        def col(var: str, src: str | None) -> Array:
            v = wide[var]
            if src == "dyad":
                return np.where(np.isnan(v[:, 0]), v[:, 1], v[:, 0])
            return v[:, r] if src == "actor" else v[:, 1 - r]

        out = col(self.predictor, self.source)
        if self.times is not None:
            out = out * col(self.times, self.times_source)
        return out


@dataclass
class ApimData:
    """The dyad-wide data and the terms of one APIM."""

    y: str
    x: list[str]
    dyad: str
    distinguishable: bool
    roles: list[str]
    dyad_ids: Sequence[Hashable] | pd.Index  # a pandas Index (a list after _listwise)
    wide: dict[str, Array]  # variable -> (n_dyads, 2) values of member 1 and 2
    terms: list[Term]
    person_covariates: list[str] = field(default_factory=list)
    dyad_covariates: list[str] = field(default_factory=list)
    moderator: str | None = None
    moderator_within: bool = False
    n_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    present: NDArray[np.bool_] | None = None  # (n_dyads, 2): the member has a row

    def who(self, dyad_index: int, member: int | None = None) -> str:
        """A person or dyad as a message names it: ``dyad 3 (wife)``, ``dyad 3``."""
        ident = self.dyad_ids[dyad_index]
        shown = show_ids([ident])
        if member is not None and self.distinguishable:
            return f"dyad {shown} ({self.roles[member]})"
        return f"dyad {shown}"

    @property
    def n_dyads(self) -> int:
        return len(self.dyad_ids)

    def sem_columns(self) -> tuple[list[str], Array]:
        """The lavaan-style dyad-wide matrix ``(y_1, y_2, exogenous…)`` of the SEM, and
        the names of its distinct exogenous columns (those of both outcomes' terms)."""
        keys: list[str] = []
        cols: list[Array] = [self.wide[self.y]]
        for r in range(2):
            for t in self.terms:
                k = t.key(r)
                if k not in keys:
                    keys.append(k)
                    cols.append(t.values(self.wide, r))
        return keys, np.column_stack(cols)


def _constant_within(values: Array) -> bool:
    """Both members' values equal (within 1e-12) in every dyad where both are present.

    One difference per dyad, no masked copies: a missing value makes the difference
    NaN, which is neither close nor far.
    """
    diff = values[:, 0] - values[:, 1]
    return not bool((np.abs(diff) > 1e-12).any())


def prepare(
    data: pd.DataFrame,
    *,
    y: str,
    x: Sequence[str],
    dyad: str,
    role: str | None = None,
    person: str | None = None,
    covariates: Sequence[str] = (),
    moderator: str | None = None,
    func: str = "apim",
) -> ApimData:
    """Check the data and turn it into a :class:`ApimData`.

    Raises
    ------
    DyadicDataError
        A column that is absent, not numeric or constant; a dyad of three or more
        rows; for distinguishable dyads, a role column that does not split every dyad
        in two (the message names the dyads); a predictor that is constant within
        every dyad (its partner effect is not identifiable).
    """
    variables = [y, *x, *covariates] + ([moderator] if moderator else [])
    if len(set(variables)) != len(variables):
        raise DyadicDataError(
            f"{func}(): a column is named twice among y, x, covariates and moderator "
            f"({variables}). Name each variable once."
        )
    check_analysis_variables(data, variables, func=func)
    keys = [dyad] + ([person] if person else []) + ([role] if role else [])
    from dyadlab._validation import check_columns

    check_columns(data, keys, func=func)
    mf = model_frame(data, dyad=dyad, person=person, role=role, func=func, drop_missing_dyad=True)
    df = mf.rows
    warnings = [f"{n} rows without a dyad id were left out." for n in mf.left_out.values()]
    check_dyads(df, dyad=dyad, person=person, allow_incomplete=True, func=func)
    for v in variables:
        infinite = np.isinf(pd.to_numeric(df[v], errors="coerce").to_numpy(dtype=float))
        if infinite.any():
            rows = ", ".join(map(str, df.index[infinite][:5].tolist()))
            raise DyadicDataError(
                f"{func}(): column {v!r} has {int(infinite.sum())} infinite value(s) (rows "
                f"{rows}). Replace them with a number, or with NaN if they are missing."
            )
    if role is not None:
        check_distinguishable(df, dyad=dyad, role=role, func=func)
        if df[role].isna().any():
            raise DyadicDataError(
                f"{func}(): column {role!r} is missing for some persons. Give every person "
                "a role, or leave role out for indistinguishable dyads."
            )
    wide = mf.wide(variables)
    ids = mf.dyad_index
    present = mf.present
    singles = np.flatnonzero(present[:, 0] != present[:, 1])  # one member of two
    if len(singles):
        shown = show_ids([ids[int(i)] for i in singles])
        warnings.append(
            f"{len(singles)} {'dyad has' if len(singles) == 1 else 'dyads have'} one person "
            f"only ({dyad} {shown}); the partner's values are missing."
        )
    for v in x:
        if _constant_within(wide[v]):
            raise DyadicDataError(
                f"{func}(): predictor {v!r} has the same value for both members of every "
                "dyad, so its actor and partner effects cannot be told apart. Use it as a "
                "dyad-level covariate (covariates=[...]) or choose a predictor that varies "
                "within dyads."
            )
    pcov = [c for c in covariates if not _constant_within(wide[c])]
    dcov = [c for c in covariates if c not in pcov]
    terms = [Term("actor", v, "x", "actor") for v in x]
    terms += [Term("partner", v, "x", "partner") for v in x]
    for c in pcov:
        terms += [Term("actor", c, "cov", "actor"), Term("partner", c, "cov", "partner")]
    terms += [Term("actor", c, "cov", "dyad") for c in dcov]
    within = False
    if moderator is not None:
        within = not _constant_within(wide[moderator])
        m_src = "actor" if within else "dyad"
        if within:
            terms += [
                Term("actor", moderator, "mod", "actor"),
                Term("partner", moderator, "mod", "partner"),
            ]
        else:
            terms.append(Term("actor", moderator, "mod", "dyad"))
        for v in x:
            terms.append(Term(f"actor:{moderator}", v, "int", "actor", moderator, m_src))
            terms.append(Term(f"partner:{moderator}", v, "int", "partner", moderator, m_src))
    return ApimData(
        y=y,
        x=list(x),
        dyad=dyad,
        distinguishable=role is not None,
        roles=[role_label(v) for v in mf.roles],
        dyad_ids=ids,
        wide=wide,
        terms=terms,
        person_covariates=pcov,
        dyad_covariates=dcov,
        moderator=moderator,
        moderator_within=within,
        n_rows=len(df),
        warnings=warnings,
        present=present,
    )


def pairwise_design(
    des: ApimData,
) -> tuple[
    Array, Array, NDArray[np.int64], NDArray[np.int64], list[tuple[str, str | None, int | None]]
]:
    """One row per person: outcome, design matrix, dyad code, member, and column labels.

    Labels are ``(effect, predictor, member)``; member None for pooled (indistinguishable)
    coefficients. Distinguishable: an intercept and every term per role
    (``y ~ 0 + role + role:term``); indistinguishable: ``y ~ 1 + terms``.
    """
    n = des.n_dyads
    ys, xs, dy, mem = [], [], [], []
    for r in range(2):
        ys.append(des.wide[des.y][:, r])
        xs.append(np.column_stack([t.values(des.wide, r) for t in des.terms]))
        dy.append(np.arange(n))
        mem.append(np.full(n, r))
    yv = np.concatenate(ys)
    tv = np.vstack(xs)
    dyv = np.concatenate(dy)
    mv = np.concatenate(mem)
    labels: list[tuple[str, str | None, int | None]] = []
    if des.distinguishable:
        cols = []
        for r in range(2):
            ind = (mv == r).astype(float)
            cols.append(ind)
            labels.append(("intercept", None, r))
        for k, t in enumerate(des.terms):
            for r in range(2):
                cols.append(tv[:, k] * (mv == r))
                labels.append((t.effect, t.predictor, r))
        xm = np.column_stack(cols)
        # a missing term value must make the row missing, also for the other role's column
        bad = np.isnan(tv).any(axis=1)
        xm[bad] = np.nan
    else:
        xm = np.column_stack([np.ones(len(yv)), tv])
        labels = [("intercept", None, None)] + [(t.effect, t.predictor, None) for t in des.terms]
    return yv, xm, dyv, mv, labels
