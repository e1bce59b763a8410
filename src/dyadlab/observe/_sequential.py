"""``dl.observe.sequential``: lag-sequential analysis per session and pooled, as GSEQ.

Examples
--------
>>> import pandas as pd
>>> import dyadlab as dl
>>> df = pd.DataFrame({"couple": [1] * 6, "code": list("ababab")})
>>> res = dl.observe.sequential(df, session="couple", code="code")
>>> res.table.query("session.isna()")[["given", "target", "count"]].values.tolist()
[['a', 'a', 0], ['a', 'b', 3], ['b', 'a', 2], ['b', 'b', 0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_range, show_ids
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._result import ModelResult, emit, estimates_frame
from dyadlab.observe._lag_tables import lag_counts, table_statistics
from dyadlab.observe._ratings import sorted_categories

__all__ = ["SequentialResult", "sequential"]

TABLE_COLUMNS = [
    "session",
    "given",
    "target",
    "count",
    "expected",
    "transitional_probability",
    "adjusted_residual",
    "p",
    "yules_q",
    "odds_ratio",
]


class SequentialResult(ModelResult):
    """A :class:`~dyadlab.models._result.ModelResult` whose ``table`` holds every cell.

    ``table`` columns: ``session`` (null for the pooled table), ``given, target, count,
    expected, transitional_probability, adjusted_residual, p, yules_q, odds_ratio``.
    """

    @property  # the cell table of this result; its APA table: dyadlab.report.apa_table
    def table(self) -> pd.DataFrame:  # type: ignore[override]
        """Every cell, per session and pooled (the columns above)."""
        return pd.DataFrame(self.extra["table"], columns=TABLE_COLUMNS)

    @property
    def lag(self) -> int:
        """The lag of the given → target pairs."""
        return int(self.extra["lag"])

    @property
    def codes(self) -> list[str]:
        """The codes, as strings."""
        return [str(c) for c in self.extra["codes"]]


def _structural(zeros: Any, categories: list[Any], func: str) -> np.ndarray | None:
    if zeros is None:
        return None
    k = len(categories)
    allowed = np.ones((k, k), dtype=bool)
    lookup = {str(c): i for i, c in enumerate(categories)}
    if zeros == "diagonal":
        np.fill_diagonal(allowed, False)
        return allowed
    for pair in zeros:
        g, t = (str(v) for v in pair)
        if g not in lookup or t not in lookup:
            raise OptionError(
                f"{func}(): structural zero {pair!r} names a code not in the data; codes "
                f"are {show_ids([str(c) for c in categories])}."
            )
        allowed[lookup[g], lookup[t]] = False
    return allowed


def sequential(
    data: pd.DataFrame,
    *,
    session: str,
    code: str,
    lag: int = 1,
    order: str | None = None,
    structural_zeros: Any = None,
    confidence: float = 0.95,
) -> SequentialResult:
    """Lag-L transition tables with GSEQ's statistics, per session and pooled.

    Parameters
    ----------
    data : DataFrame
        One row per coded event, in order within each session (or ordered by ``order``).
    session : str
        Session (couple) id column; transitions never cross sessions.
    code : str
        The event code column.
    lag : int
        Count ``given`` at event i followed by ``target`` at event i + lag.
    order : str, optional
        Column to sort events by within a session (onset time or event number).
    structural_zeros : {None, "diagonal"} or list of (given, target)
        Cells that cannot occur; "diagonal" when codes cannot repeat. Expected counts
        then come from iterative proportional fitting and the df drop by one per cell.
    confidence : float
        Confidence level of the pooled Yule's Q intervals.

    Returns
    -------
    SequentialResult
        ``table``: one row per given → target pair per session and pooled (session
        null), columns ``given, target, count, expected, transitional_probability,
        adjusted_residual, p, yules_q, odds_ratio``; ``estimates``: the pooled Yule's Q
        per pair (``effect`` ``yules_q``, ``predictor`` ``"given->target"``) with the SE
        ``(1 − Q²)/2 · sqrt(1/a + 1/b + 1/c + 1/d)``; ``tests``: the pooled table's
        likelihood-ratio chi-square with its df.

    Notes
    -----
    Adjusted residuals as GSEQ and ``LagSequential::sequential`` (Bakeman & Quera 2011);
    the pooled table sums the sessions' tables. Reproduces Griffin & Gottman's (1990,
    p. 137) husband–wife lag-1 table (adjusted residual Ho → Wo = 6.26).
    """
    func = "sequential"
    check_columns(data, [session, code, order], func=func)
    if not isinstance(lag, int | np.integer) or lag < 1:
        raise OptionError(f"{func}(): lag={lag!r} must be a positive whole number of events.")
    check_range("confidence", confidence, func=func, low=0.0, high=1.0, inclusive=False)
    frame = data[[c for c in dict.fromkeys([session, code, order]) if c is not None]]
    missing = frame[code].isna() | frame[session].isna()
    if missing.any():
        first = frame.loc[missing, session].iloc[0]
        raise DyadicDataError(
            f"{func}(): {int(missing.sum())} events have no code or no session (first in "
            f"session {show_ids([first])}). Code every event or drop it."
        )
    if order is not None:
        frame = frame.sort_values([session, order], kind="stable")
    s_codes, sessions = pd.factorize(frame[session], sort=False)
    categories = sorted_categories(frame[code])
    lookup = {v: i for i, v in enumerate(categories)}
    c_codes = frame[code].map(lookup).to_numpy(dtype=np.int64)
    if order is None and not (np.diff(s_codes) >= 0).all():
        # events of a session must be contiguous: a stable sort keeps their order
        perm = np.argsort(s_codes, kind="stable")
        s_codes, c_codes = s_codes[perm], c_codes[perm]
    k, n_s = len(categories), len(sessions)
    allowed = _structural(structural_zeros, categories, func)
    counts = lag_counts(s_codes.astype(np.int64), c_codes, lag=lag, n_sessions=n_s, k=k)
    if allowed is not None:
        bad = counts[:, ~allowed].sum(axis=1)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DyadicDataError(
                f"{func}(): session {show_ids([sessions[i]])} has {int(bad[i])} transitions in "
                "cells declared structural zeros. Check the codes or the structural_zeros."
            )
    stack = np.concatenate([counts, counts.sum(axis=0)[None]], axis=0)
    st = table_statistics(stack, allowed)
    table = _tidy(stack, st, list(sessions), categories)
    pooled = stack[-1]
    est, lr, df = _pooled_estimates(pooled, st, categories, allowed, confidence)
    warnings = []
    if (st["expected"][-1][pooled.sum(axis=1) > 0] < 5).any():
        warnings.append(
            "Some pooled expected counts are below 5; adjusted residuals are rough there."
        )
    return SequentialResult(
        model="observe_sequential",
        estimates=est,
        n_dyads=n_s,
        n_obs=len(c_codes),
        distinguishable=False,
        roles=[],
        estimation="lag-sequential (Bakeman & Quera 2011)",
        tests=[
            {
                "name": "pooled_lr_chisq",
                "statistic": lr,
                "df": df,
                "p": float(stats.chi2.sf(lr, df)) if df > 0 else None,
            }
        ],
        warnings=emit(warnings),
        level=confidence,
        call={"session": session, "code": code, "lag": lag, "order": order},
        extra={"lag": lag, "codes": [str(c) for c in categories], "table": table},
    )


def _tidy(
    stack: np.ndarray, st: dict[str, np.ndarray], sessions: list[Any], categories: list[Any]
) -> pd.DataFrame:
    n_t, k = stack.shape[0], stack.shape[1]
    labels = np.array([str(c) for c in categories], dtype=object)
    sess = np.array([*sessions, None], dtype=object)
    resid = st["adjusted_residual"].ravel()
    return pd.DataFrame(
        {
            "session": np.repeat(sess, k * k),
            "given": np.tile(np.repeat(labels, k), n_t),
            "target": np.tile(labels, n_t * k),
            "count": stack.ravel(),
            "expected": st["expected"].ravel(),
            "transitional_probability": st["transitional_probability"].ravel(),
            "adjusted_residual": resid,
            "p": 2 * stats.norm.sf(np.abs(resid)),
            "yules_q": st["yules_q"].ravel(),
            "odds_ratio": st["odds_ratio"].ravel(),
        },
        columns=TABLE_COLUMNS,
    )


def _pooled_estimates(
    pooled: np.ndarray,
    st: dict[str, np.ndarray],
    categories: list[Any],
    allowed: np.ndarray | None,
    confidence: float,
) -> tuple[pd.DataFrame, float, int]:
    x = pooled.astype(float)
    k = len(categories)
    n = x.sum()
    rows, cols = x.sum(axis=1)[:, None], x.sum(axis=0)[None, :]
    a, b, c = x, rows - x, cols - x
    d = n - rows - cols + x
    q = st["yules_q"][-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        se = (1 - q**2) / 2 * np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        e = st["expected"][-1]
        lr = float(2 * np.nansum(np.where(x > 0, x * np.log(x / e), 0.0)))
    n_zero = 0 if allowed is None else int((~allowed).sum())
    df = (k - 1) ** 2 - n_zero
    out = []
    for i in range(k):
        for j in range(k):
            ok = np.isfinite(se[i, j]) and se[i, j] > 0 and np.isfinite(q[i, j])
            out.append(
                {
                    "effect": "yules_q",
                    "predictor": f"{categories[i]}->{categories[j]}",
                    "role": None,
                    "estimate": float(q[i, j]) if np.isfinite(q[i, j]) else None,
                    "se": float(se[i, j]) if ok else None,
                }
            )
    return estimates_frame(out, level=confidence), lr, df
