"""Agreement of two coders' timed codes: time-unit κ per family and event-aligned κ.

* **Time-unit κ** (Bakeman & Quera 2011, ch. 5; Bakeman, Quera & Gnisci 2009): both
  coders' streams are cut into time units; each unit is a pair of codes (the family's
  "none" code where no code covers it). With a tolerance of w units, a unit where the
  coders differ counts as an agreement if the first coder's code occurs in the second
  coder's stream within ±w units.
* **Event-aligned κ**: the coders' events of one partner and family are paired when each
  is the other's nearest onset within ``tolerance`` seconds; unpaired events are paired
  with "nothing" (an omission or commission), and κ is computed on that table.

Both run over all sessions at once (grids and ``searchsorted``, no loop over sessions).

Examples
--------
>>> import dyadlab as dl
>>> s = dl.observe.simulate_sessions(3, minutes=2, rng=1)
>>> tk = dl.observe.time_unit_kappa(s, tolerance=1)
>>> tk.columns.tolist()[:4]
['family', 'kappa', 'se', 'ci_low']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from dyadlab._validation import check_range, show_ids
from dyadlab.exceptions import DyadicDataError
from dyadlab.observe._kappa import cohen_kappa
from dyadlab.observe._timeunits import unit_grid
from dyadlab.observe.sessions import CodedSessions

__all__ = ["event_kappa", "time_unit_kappa", "time_units"]

COLUMNS = ["family", "kappa", "se", "ci_low", "ci_high", "agreement", "n", "codes"]


def _streams(frame: pd.DataFrame) -> tuple[np.ndarray, pd.MultiIndex]:
    """Stream (session × partner) code of every row, streams in sorted order.

    Factorises the two columns separately and combines their integer codes: a
    ``MultiIndex`` of half a million rows would build as many tuples.
    """
    s_code, s_levels = pd.factorize(frame["session"], sort=True)
    p_code, p_levels = pd.factorize(frame["partner"], sort=True)
    combined = s_code.astype(np.int64) * max(len(p_levels), 1) + p_code
    codes, uniq = pd.factorize(combined, sort=True)
    uniq = np.asarray(uniq, dtype=np.int64)
    n_p = max(len(p_levels), 1)
    streams = pd.MultiIndex(
        levels=[list(s_levels), list(p_levels)],
        codes=[(uniq // n_p).tolist(), (uniq % n_p).tolist()],
    )
    return codes.astype(np.int64), streams


def _two_coders(
    sessions: CodedSessions, coders: tuple[Any, Any] | None, func: str
) -> tuple[Any, Any]:
    ev = sessions.events
    found = list(pd.unique(ev["coder"]))
    pair = coders or (tuple(found) if len(found) == 2 else None)
    if pair is None or len(pair) != 2:
        raise DyadicDataError(
            f"{func}(): needs exactly 2 coders, the sessions have {show_ids(found)}; name "
            "them with coders=(first, second)."
        )
    per = ev.groupby("session")["coder"].agg(lambda c: set(c) >= set(pair))
    if not per.all():
        bad = per.index[~per.to_numpy()][0]
        have = sorted(map(str, ev.loc[ev["session"] == bad, "coder"].unique()))
        raise DyadicDataError(
            f"{func}(): session {show_ids([bad])} is coded by coder {', '.join(have)} only; "
            f"agreement needs both coders {show_ids(list(pair))} in every session. Drop the "
            "session or add the second coder's file."
        )
    return pair[0], pair[1]


def _row(
    family: str, table: np.ndarray, labels: list[str], confidence: float, n: int
) -> dict[str, Any]:
    k, se = cohen_kappa(table)
    z = stats.norm.ppf(0.5 + confidence / 2)
    return {
        "family": family,
        "kappa": k,
        "se": se,
        "ci_low": k - z * se,
        "ci_high": k + z * se,
        "agreement": float(np.trace(table) / table.sum()) if table.sum() else np.nan,
        "n": n,
        "codes": labels,
        "table": table,
    }


def time_unit_kappa(
    sessions: CodedSessions,
    *,
    unit: float = 1.0,
    tolerance: int = 0,
    coders: tuple[Any, Any] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Time-unit κ per code family, with a tolerance window of ``tolerance`` units.

    Returns
    -------
    DataFrame
        One row per family: ``family, kappa, se, ci_low, ci_high, agreement`` (observed
        proportion), ``n`` (time units), ``codes`` (labels, "none" first), ``table``
        (the coders' K × K table of units).
    """
    func = "time_unit_kappa"
    check_range("unit", unit, func=func, low=0.0, inclusive=False)
    if tolerance < 0:
        raise DyadicDataError(f"{func}(): tolerance={tolerance!r} must be 0 or more units.")
    first, second = _two_coders(sessions, coders, func)
    ev = sessions.events[sessions.events["offset"].notna()]
    rows = []
    none = sessions.codebook.none if sessions.codebook else "none"
    for family, fam in ev.groupby("family", sort=True):
        labels = [none, *sorted(fam["code"].unique())]
        code = fam["code"].map({c: i for i, c in enumerate(labels)}).to_numpy(dtype=np.int64)
        s_codes, streams = _streams(fam)
        n_units = int(np.ceil(fam["offset"].max() / unit))
        grids = []
        for who in (first, second):
            m = (fam["coder"] == who).to_numpy()
            order = np.lexsort((fam["onset"].to_numpy()[m], s_codes[m]))
            grids.append(
                unit_grid(
                    s_codes[m][order],
                    code[m][order],
                    fam["onset"].to_numpy()[m][order],
                    fam["offset"].to_numpy()[m][order],
                    n_streams=len(streams),
                    n_units=n_units,
                    unit=unit,
                )
            )
        a, b = grids
        # a stream's length: the last unit either coder covers
        last = np.maximum(a.shape[1] - np.argmax((a[:, ::-1] > 0) | (b[:, ::-1] > 0), axis=1), 0)
        inside = np.arange(n_units)[None, :] < last[:, None]
        match = a == b
        for shift in range(1, tolerance + 1):
            match[:, shift:] |= a[:, shift:] == b[:, :-shift]
            match[:, :-shift] |= a[:, :-shift] == b[:, shift:]
        b_eff = np.where(match, a, b)[inside]
        k = len(labels)
        table = np.bincount(a[inside] * k + b_eff, minlength=k * k).reshape(k, k)
        rows.append(_row(str(family), table, labels, confidence, int(inside.sum())))
    return pd.DataFrame(rows, columns=[*COLUMNS, "table"])


def event_kappa(
    sessions: CodedSessions,
    *,
    tolerance: float = 2.0,
    coders: tuple[Any, Any] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Event-aligned κ per family: events paired by mutually nearest onsets.

    Returns the columns of :func:`time_unit_kappa`; ``n`` counts aligned pairs,
    ``codes`` ends with ``"nothing"`` (an event the other coder did not code).
    """
    func = "event_kappa"
    check_range("tolerance", tolerance, func=func, low=0.0)
    first, second = _two_coders(sessions, coders, func)
    ev = sessions.events
    rows = []
    for family, fam in ev.groupby("family", sort=True):
        labels = [*sorted(fam["code"].unique()), "nothing"]
        nothing = len(labels) - 1
        code = fam["code"].map({c: i for i, c in enumerate(labels)}).to_numpy(dtype=np.int64)
        s_codes, _ = _streams(fam)
        span = float(fam["onset"].max()) + 10 * tolerance + 1
        key = s_codes * span + fam["onset"].to_numpy()
        ma, mb = (fam["coder"] == first).to_numpy(), (fam["coder"] == second).to_numpy()
        ka, kb = np.sort(key[ma]), np.sort(key[mb])
        ca, cb = code[ma][np.argsort(key[ma])], code[mb][np.argsort(key[mb])]
        near_ab = _nearest(ka, kb)
        near_ba = _nearest(kb, ka)
        ok = near_ab >= 0
        ok[ok] &= np.abs(kb[near_ab[ok]] - ka[ok]) <= tolerance
        ok[ok] &= near_ba[near_ab[ok]] == np.flatnonzero(ok)
        pa = np.flatnonzero(ok)
        pb = near_ab[ok]
        lonely_b = np.ones(len(kb), dtype=bool)
        lonely_b[pb] = False
        g = np.concatenate([ca[pa], ca[~ok], np.full(lonely_b.sum(), nothing)])
        t = np.concatenate([cb[pb], np.full((~ok).sum(), nothing), cb[lonely_b]])
        k = len(labels)
        table = np.bincount(g * k + t, minlength=k * k).reshape(k, k)
        rows.append(_row(str(family), table, labels, confidence, len(g)))
    return pd.DataFrame(rows, columns=[*COLUMNS, "table"])


def _nearest(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index of the nearest value in sorted ``y`` for each of sorted ``x`` (-1 if y empty)."""
    if len(y) == 0:
        return np.full(len(x), -1)
    right = np.clip(np.searchsorted(y, x), 0, len(y) - 1)
    left = np.clip(right - 1, 0, len(y) - 1)
    return np.where(np.abs(y[left] - x) <= np.abs(y[right] - x), left, right)


def time_units(
    sessions: CodedSessions, *, family: str | None = None, unit: float = 1.0
) -> pd.DataFrame:
    """Long table of time units for :func:`~dyadlab.observe.agreement`: one row per unit and coder.

    Columns ``unit`` (``"session|partner|t"``), ``session, partner, time, coder, code``
    (the family's "none" code where no code covers the unit).

    Examples
    --------
    >>> import dyadlab as dl
    >>> s = dl.observe.simulate_sessions(2, minutes=1, rng=1)
    >>> tu = dl.observe.time_units(s)
    >>> res = dl.observe.agreement(tu, unit="unit", coder="coder", code="code", method="cohen")
    >>> bool(res.estimates.loc[0, "estimate"] > 0.5)
    True
    """
    ev = sessions.events[sessions.events["offset"].notna()]
    fams = sorted(ev["family"].unique())
    fam = family if family is not None else (fams[0] if len(fams) == 1 else None)
    if fam is None:
        raise DyadicDataError(
            f"time_units(): the sessions have families {show_ids(fams)}; choose one with family=."
        )
    ev = ev[ev["family"] == fam]
    none = sessions.codebook.none if sessions.codebook else "none"
    labels = np.array([none, *sorted(ev["code"].unique())], dtype=object)
    code = ev["code"].map({c: i for i, c in enumerate(labels)}).to_numpy(dtype=np.int64)
    s_codes, streams = _streams(ev)
    n_units = int(np.ceil(ev["offset"].max() / unit))
    coders = list(pd.unique(ev["coder"]))
    frames = []
    for who in coders:
        m = (ev["coder"] == who).to_numpy()
        order = np.lexsort((ev["onset"].to_numpy()[m], s_codes[m]))
        grid = unit_grid(
            s_codes[m][order],
            code[m][order],
            ev["onset"].to_numpy()[m][order],
            ev["offset"].to_numpy()[m][order],
            n_streams=len(streams),
            n_units=n_units,
            unit=unit,
        )
        frames.append(grid)
    covered = np.zeros(frames[0].shape, dtype=bool)
    for g in frames:
        covered |= g > 0
    last = n_units - np.argmax(covered[:, ::-1], axis=1)
    inside = np.arange(n_units)[None, :] < last[:, None]
    srow, t = np.nonzero(inside)
    # categoricals keep a million-row table cheap to build and to factorise
    mi = streams
    sess = pd.Categorical.from_codes(np.asarray(mi.codes[0])[srow], mi.levels[0])
    part = pd.Categorical.from_codes(np.asarray(mi.codes[1])[srow], mi.levels[1])
    uid = srow.astype(np.int64) * n_units + t
    n = len(uid)
    return pd.DataFrame(
        {
            "unit": np.tile(uid, len(coders)),
            "session": pd.Categorical.from_codes(np.tile(sess.codes, len(coders)), sess.categories),
            "partner": pd.Categorical.from_codes(np.tile(part.codes, len(coders)), part.categories),
            "time": np.tile(t * unit, len(coders)),
            "coder": pd.Categorical.from_codes(
                np.repeat(np.arange(len(coders)), n), pd.Index(coders)
            ),
            "code": pd.Categorical.from_codes(
                np.concatenate([g[inside] for g in frames]), pd.Index(labels)
            ),
        }
    )
