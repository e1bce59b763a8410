"""Coded events as time-unit grids: one integer code per stream and time unit.

A stream is one (session, partner, family) of one coder. Unit t covers
``[t·unit, (t+1)·unit)`` and takes the code of the state event covering its midpoint,
or 0 (the family's "none" code). Everything is one ``searchsorted`` over all streams.

Examples
--------
>>> import numpy as np
>>> grid = unit_grid(np.array([0, 0]), np.array([1, 2]), np.array([0.0, 2.0]),
...                  np.array([2.0, 3.0]), n_streams=1, n_units=4, unit=1.0)
>>> grid.tolist()
[[1, 1, 2, 0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["unit_grid"]


def unit_grid(
    stream: np.ndarray,
    code: np.ndarray,
    onset: np.ndarray,
    offset: np.ndarray,
    *,
    n_streams: int,
    n_units: int,
    unit: float,
) -> np.ndarray:
    """``grid[s, t]``: the code (≥ 1) covering unit t of stream s, 0 where none does.

    Events must be sorted by (stream, onset) and not overlap within a stream.
    """
    span = (n_units + 1) * unit
    start = stream * span + onset
    mid = np.arange(n_units) * unit + unit / 2
    key = (np.arange(n_streams)[:, None] * span + mid[None, :]).ravel()
    idx = np.searchsorted(start, key, side="right") - 1
    ok = idx >= 0
    s_of = np.repeat(np.arange(n_streams), n_units)
    ok[ok] &= stream[idx[ok]] == s_of[ok]
    ok[ok] &= (stream[idx[ok]] * span + offset[idx[ok]]) > key[ok]
    out = np.zeros(n_streams * n_units, dtype=np.int64)
    out[ok] = code[idx[ok]]
    return out.reshape(n_streams, n_units)
