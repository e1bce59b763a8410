"""Long ratings (one row per unit and coder) as a units × coders matrix of category codes.

Every agreement statistic starts here: categories are coded 0..K-1 once (sorted, numbers
numerically), so the statistics work on integer arrays with ``np.bincount``.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"u": [1, 1, 2, 2], "c": ["a", "b", "a", "b"], "k": ["x", "x", "y", "x"]})
>>> r = ratings_matrix(df, unit="u", coder="c", code="k", func="agreement")
>>> r.matrix.tolist(), r.categories
([[0, 0], [1, 0]], ['x', 'y'])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, show_ids
from dyadlab.exceptions import DyadicDataError

__all__ = ["Ratings", "ratings_matrix", "sorted_categories"]


@dataclass(frozen=True)
class Ratings:
    """``matrix[u, c]`` is the category code (0..K-1) coder ``c`` gave unit ``u``; -1 = none."""

    matrix: np.ndarray
    categories: list[Any]
    units: pd.Index  # not a list: half a million ids as a list cost more than the pivot
    coders: list[Any]

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    def counts(self) -> np.ndarray:
        """``counts[u, k]``: how many coders put unit ``u`` in category ``k``."""
        n_units, k = self.matrix.shape[0], self.n_categories
        rows = np.repeat(np.arange(n_units), self.matrix.shape[1])
        flat = self.matrix.ravel()
        ok = flat >= 0
        return np.bincount(rows[ok] * k + flat[ok], minlength=n_units * k).reshape(n_units, k)


def sorted_categories(values: pd.Series) -> list[Any]:
    """The distinct non-missing values, numbers in numeric order, others as text."""
    uniq = pd.unique(values.dropna())
    numeric = pd.to_numeric(pd.Series(uniq), errors="coerce")
    if len(uniq) and numeric.notna().all():
        return sorted(uniq.tolist(), key=float)
    return sorted(uniq.tolist(), key=str)


def ratings_matrix(data: pd.DataFrame, *, unit: str, coder: str, code: str, func: str) -> Ratings:
    """Pivot long ratings to a units × coders code matrix; duplicates are an error."""
    check_columns(data, [unit, coder, code], func=func)
    if data[unit].isna().any() or data[coder].isna().any():
        col = unit if data[unit].isna().any() else coder
        raise DyadicDataError(
            f"{func}(): column {col!r} has missing values; every row needs a unit and a coder."
        )
    c_codes, coders = pd.factorize(data[coder], sort=True)
    u_codes, units = pd.factorize(data[unit], sort=True)
    v_codes, present = pd.factorize(data[code], sort=False)
    categories = sorted_categories(pd.Series(present))
    # recode the factorised values into the sorted categories (-1 stays missing)
    remap = np.array([categories.index(v) for v in present] + [-1], dtype=np.int64)
    values = remap[v_codes]
    key = u_codes.astype(np.int64) * len(coders) + c_codes
    counts = np.bincount(key, minlength=len(units) * len(coders))
    dup = counts[key] > 1
    if dup.any():
        bad = data.loc[dup, [unit, coder]].drop_duplicates()
        raise DyadicDataError(
            f"{func}(): unit and coder must identify one rating, but "
            f"{len(bad)} unit–coder pairs occur more than once (first: unit "
            f"{show_ids([bad.iloc[0, 0]])}, coder {show_ids([bad.iloc[0, 1]])}). "
            "Keep one code per unit and coder."
        )
    mat = np.full((len(units), len(coders)), -1, dtype=np.int64)
    mat[u_codes, c_codes] = values
    # units stay a pandas Index: a list of half a million ids costs more than the pivot
    return Ratings(mat, categories, units, list(coders))
