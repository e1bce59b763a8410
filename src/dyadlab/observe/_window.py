"""``dl.observe.window_table``: time-window sequential tables, per session and pooled.

Examples
--------
>>> import pandas as pd
>>> import dyadlab as dl
>>> ev = pd.DataFrame({"couple": 1, "code": ["a", "b", "a", "b", "a"],
...                    "onset": [0.0, 2.0, 10.0, 11.5, 20.0], "offset": 25.0})
>>> res = dl.observe.window_table(ev, session="couple", code="code", onset="onset",
...                               offset="offset", window=3)
>>> res.table.query("session.isna() and given == 'a' and target == 'b'")[
...     ["count", "given_units", "target_units", "units"]].values.tolist()
[[2, 9, 2, 25]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_columns, check_range, show_ids
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._result import ModelResult, emit, estimates_frame
from dyadlab.observe._ratings import sorted_categories
from dyadlab.observe._window_counts import two_by_two, window_counts

__all__ = ["WINDOW_COLUMNS", "WindowResult", "window_table"]

WINDOW_COLUMNS = [
    "session",
    "given",
    "target",
    "count",
    "given_units",
    "target_units",
    "units",
    "expected",
    "transitional_probability",
    "adjusted_residual",
    "p",
    "yules_q",
    "yules_q_se",
    "odds_ratio",
]


class WindowResult(ModelResult):
    """A :class:`~dyadlab.models._result.ModelResult` whose ``table`` holds every 2 × 2 cell."""

    @property  # the cell table of this result; its APA table: dyadlab.report.apa_table
    def table(self) -> pd.DataFrame:  # type: ignore[override]
        """Every 2 × 2 cell, per session and pooled."""
        return pd.DataFrame(self.extra["table"], columns=WINDOW_COLUMNS)

    @property
    def window(self) -> float:
        """The window after the given code's onset, in seconds."""
        return float(self.extra["window"])

    @property
    def codes(self) -> list[str]:
        """The codes, as strings."""
        return [str(c) for c in self.extra["codes"]]


def session_units(
    frame: pd.DataFrame,
    *,
    session: str,
    onset: str,
    offset: str | None,
    unit: float,
    func: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """Session index and onset unit of every event, and units per session.

    A session runs from the unit of its first onset to the unit of its last offset (or
    onset, without offsets).
    """
    on = pd.to_numeric(frame[onset], errors="coerce").to_numpy(dtype=float)
    if np.isnan(on).any():
        first = frame[session].iloc[int(np.flatnonzero(np.isnan(on))[0])]
        raise DyadicDataError(
            f"{func}(): {int(np.isnan(on).sum())} events have no numeric onset (first in "
            f"session {show_ids([first])}). Give every event its onset in seconds."
        )
    s_idx, sessions = pd.factorize(frame[session], sort=False)
    n_s = len(sessions)
    start = np.full(n_s, np.inf)
    np.minimum.at(start, s_idx, on)
    start_unit = np.floor(start / unit + 1e-9)
    onset_unit = (np.floor(on / unit + 1e-9) - start_unit[s_idx]).astype(np.int64)
    end = np.full(n_s, -np.inf)
    np.maximum.at(end, s_idx, on)
    last = np.floor(end / unit + 1e-9) + 1 - start_unit
    if offset is not None:
        off = pd.to_numeric(frame[offset], errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(off)
        off_end = np.full(n_s, -np.inf)
        np.maximum.at(off_end, s_idx[ok], off[ok])
        last = np.maximum(last, np.ceil(off_end / unit - 1e-9) - start_unit)
    return s_idx.astype(np.int64), onset_unit, last.astype(np.int64), sessions


def window_table(
    data: pd.DataFrame,
    *,
    session: str,
    code: str,
    onset: str,
    window: float,
    offset: str | None = None,
    unit: float = 1.0,
    confidence: float = 0.95,
) -> WindowResult:
    """Time-window tables (GSEQ's ``window``): given A, did B start within ``window`` s?

    Parameters
    ----------
    data : DataFrame
        One row per coded event with its session, code and onset (seconds).
    session, code, onset : str
        Columns of the session (couple) id, the code and the onset in seconds.
    window : float
        Width of the window after each given onset, in seconds (a multiple of ``unit``).
    offset : str, optional
        Offset column; the session then ends at its last offset, not its last onset.
    unit : float
        Length of a time unit in seconds (GSEQ's time unit; 1 s by default).
    confidence : float
        Confidence level of the pooled Yule's Q intervals.

    Returns
    -------
    WindowResult
        ``table``: per session and pooled (session null), one row per given → target
        pair: ``count`` (units in A's window where B starts), ``given_units`` (units in
        A's window), ``target_units`` (units where B starts), ``units`` (all units),
        ``expected, transitional_probability`` (count / given_units), ``adjusted_residual,
        p, yules_q, yules_q_se, odds_ratio``; ``estimates``: pooled Yule's Q per pair
        (``predictor`` ``"given->target"``).

    Notes
    -----
    Each session is cut into units of ``unit`` seconds from the unit of its first onset
    to the unit of its last offset (or onset). A unit is in A's window when an A onset
    fell in one of the ``window / unit`` units before it; it has target B when a B onset
    falls in it. So, at the grain of the time unit, B counts when it starts 1 to
    ``window / unit`` units after the unit of A's onset (a B onset in A's own unit does
    not count); take a smaller ``unit`` for a finer grain. Every given → target pair
    gets the 2 × 2 table (in window or not × B starts or not) over the session's units,
    and the statistics of a lag table:
    expected ``given·target/units``, Haberman's adjusted residual, Yule's Q with SE
    ``(1 − Q²)/2 · sqrt(1/a + 1/b + 1/c + 1/d)`` and the odds ratio (Bakeman & Quera
    2011, ch. 10; Bakeman & Quera 1995, GSEQ). The pooled table sums the sessions'
    2 × 2 tables.
    """
    func = "window_table"
    check_columns(data, [session, code, onset, offset], func=func)
    check_range("unit", unit, func=func, low=0.0, inclusive=False)
    check_range("window", window, func=func, low=0.0, inclusive=False)
    check_range("confidence", confidence, func=func, low=0.0, high=1.0, inclusive=False)
    width = round(window / unit)
    if width < 1 or abs(width * unit - window) > 1e-9 * max(1.0, window):
        raise OptionError(
            f"{func}(): window={window!r} must be a whole number of time units of "
            f"unit={unit!r} seconds; use e.g. window={max(width, 1) * unit:g}."
        )
    missing = data[code].isna() | data[session].isna()
    if missing.any():
        first = data.loc[missing, session].iloc[0]
        raise DyadicDataError(
            f"{func}(): {int(missing.sum())} events have no code or no session (first in "
            f"session {show_ids([first])}). Code every event or drop it."
        )
    s_idx, onset_unit, n_units, sessions = session_units(
        data, session=session, onset=onset, offset=offset, unit=unit, func=func
    )
    categories = sorted_categories(data[code])
    c_idx = data[code].map({v: i for i, v in enumerate(categories)}).to_numpy(dtype=np.int64)
    k = len(categories)
    counts = window_counts(s_idx, c_idx, onset_unit, n_units, k=k, width=width)
    joint = np.concatenate([counts.joint, counts.joint.sum(axis=0)[None]])
    given = np.concatenate([counts.given, counts.given.sum(axis=0)[None]])
    target = np.concatenate([counts.target, counts.target.sum(axis=0)[None]])
    units = np.concatenate([counts.units, [counts.units.sum()]])
    table = tidy_window(joint, given, target, units, [*sessions, None], categories)
    pooled = table[table["session"].isna()]
    rows = [
        {
            "effect": "yules_q",
            "predictor": f"{r.given}->{r.target}",
            "role": None,
            "estimate": r.yules_q,
            "se": r.yules_q_se,
        }
        for r in pooled.itertuples(index=False)
    ]
    warnings = []
    if (pooled["expected"] < 5).any():
        warnings.append("Some pooled expected counts are below 5; adjusted residuals are rough.")
    call: dict[str, Any] = {"session": session, "code": code, "onset": onset, "offset": offset}
    call.update({"window": window, "unit": unit})
    return WindowResult(
        model="observe_window",
        estimates=estimates_frame(rows, level=confidence),
        n_dyads=len(sessions),
        n_obs=len(data),
        distinguishable=False,
        roles=[],
        estimation="time-window sequential (Bakeman & Quera 2011)",
        warnings=emit(warnings),
        level=confidence,
        call=call,
        extra={
            "window": window,
            "unit": unit,
            "codes": [str(c) for c in categories],
            "table": table,
        },
    )


def tidy_window(
    joint: np.ndarray,
    given: np.ndarray,
    target: np.ndarray,
    units: np.ndarray,
    sessions: list[Any],
    categories: list[Any],
) -> pd.DataFrame:
    """One row per session (and pooled) × given × target of the 2 × 2 statistics."""
    n_t, k = joint.shape[0], joint.shape[1]
    g = np.broadcast_to(given[:, :, None], joint.shape)
    t = np.broadcast_to(target[:, None, :], joint.shape)
    n = np.broadcast_to(units[:, None, None], joint.shape)
    st = two_by_two(joint, g, t, n)
    labels = np.array([str(c) for c in categories], dtype=object)
    resid = st["adjusted_residual"].ravel()
    ok = np.isfinite(st["yules_q_se"]) & (st["yules_q_se"] > 0)
    return pd.DataFrame(
        {
            "session": np.repeat(np.array(sessions, dtype=object), k * k),
            "given": np.tile(np.repeat(labels, k), n_t),
            "target": np.tile(labels, n_t * k),
            "count": joint.ravel(),
            "given_units": g.ravel(),
            "target_units": t.ravel(),
            "units": n.ravel(),
            "expected": st["expected"].ravel(),
            "transitional_probability": st["transitional_probability"].ravel(),
            "adjusted_residual": resid,
            "p": 2 * stats.norm.sf(np.abs(resid)),
            "yules_q": st["yules_q"].ravel(),
            "yules_q_se": np.where(ok, st["yules_q_se"], np.nan).ravel(),
            "odds_ratio": st["odds_ratio"].ravel(),
        },
        columns=WINDOW_COLUMNS,
    )
