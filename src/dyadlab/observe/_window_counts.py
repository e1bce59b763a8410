"""Time-window 2 × 2 tallies of all sessions and codes at once (GSEQ's window command).

Each session is cut into time units. A unit is *in the window* of code A when an A onset
fell in one of the ``width`` units before it (units ``u + 1 … u + width`` after the unit
``u`` holding the onset); a unit *has* target B when a B onset falls in it. For every
given A and target B, the units of a session form a 2 × 2 table (in A's window or not ×
B starts or not; Bakeman & Quera 2011, ch. 10), from which the same statistics as a lag
table follow.

Onset indicators are a ``codes × units`` boolean array over the concatenated sessions;
windows come from its cumulative sum, and the joint counts from the window column at
every target onset — no loop over sessions or events.

Examples
--------
>>> import numpy as np
>>> t = window_counts(np.array([0, 0]), np.array([0, 1]), np.array([0, 2]),
...                   np.array([5]), k=2, width=2)
>>> t.joint[0].tolist(), t.given[0].tolist(), t.target[0].tolist(), t.units.tolist()
([[0, 1], [0, 0]], [2, 2], [1, 1], [5])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WindowCounts", "two_by_two", "window_counts"]


@dataclass(frozen=True)
class WindowCounts:
    """``joint[s, A, B]``: units of session s in A's window where B starts;
    ``given[s, A]``: units in A's window; ``target[s, B]``: units where B starts;
    ``units[s]``: units in the session."""

    joint: np.ndarray
    given: np.ndarray
    target: np.ndarray
    units: np.ndarray


def window_counts(
    session: np.ndarray,
    code: np.ndarray,
    onset_unit: np.ndarray,
    n_units: np.ndarray,
    *,
    k: int,
    width: int,
) -> WindowCounts:
    """Tally window tables for sessions ``0..S-1`` (``n_units[s]`` units each).

    ``session``, ``code`` and ``onset_unit`` (the unit index of each onset within its
    session, ``0 ≤ onset_unit < n_units[session]``) are integer arrays, one per event.
    """
    n_units = np.asarray(n_units, dtype=np.int64)
    n_s = len(n_units)
    base = np.concatenate([[0], np.cumsum(n_units)])
    total = int(base[-1])
    flat = base[session] + onset_unit
    onsets = np.zeros((k, total), dtype=bool)
    onsets[code, flat] = True
    # cum[:, i] = onsets before flat unit i; a unit v is in A's window when an A onset
    # lies in units max(v - width, session start) … v - 1
    cum = np.zeros((k, total + 1), dtype=np.int64)
    np.cumsum(onsets, axis=1, out=cum[:, 1:])
    unit_session = np.repeat(np.arange(n_s), n_units)
    v = np.arange(total)
    lo = np.maximum(v - width, base[unit_session])
    window = (cum[:, v] - cum[:, lo]) > 0
    starts = base[:-1][n_units > 0]
    given = np.zeros((n_s, k), dtype=np.int64)
    target = np.zeros((n_s, k), dtype=np.int64)
    if total:
        given[n_units > 0] = np.add.reduceat(window, starts, axis=1).T
        target[n_units > 0] = np.add.reduceat(onsets, starts, axis=1).T
    b_code, b_unit = np.nonzero(onsets)
    idx = unit_session[b_unit] * k + b_code
    joint = np.empty((n_s, k, k), dtype=np.int64)
    for a in range(k):
        w = window[a, b_unit].astype(np.int64)
        joint[:, a, :] = np.bincount(idx, weights=w, minlength=n_s * k).reshape(n_s, k)
    return WindowCounts(joint=joint, given=given, target=target, units=n_units)


def two_by_two(
    joint: np.ndarray, given: np.ndarray, target: np.ndarray, units: np.ndarray
) -> dict[str, np.ndarray]:
    """Expected count, transitional probability, adjusted residual, Yule's Q, odds ratio.

    Arguments broadcast: ``a = joint``, row total ``given``, column total ``target``, ``n
    = units``; ``b = given − a``, ``c = target − a``, ``d = n − given − target + a``.
    The adjusted residual is Haberman's ``(a − e) / sqrt(e (1 − given/n)(1 − target/n))``.
    """
    a = joint.astype(float)
    row = np.broadcast_to(given, a.shape).astype(float)
    col = np.broadcast_to(target, a.shape).astype(float)
    n = np.broadcast_to(units, a.shape).astype(float)
    b, c = row - a, col - a
    d = n - row - col + a
    with np.errstate(divide="ignore", invalid="ignore"):
        e = row * col / n
        resid = (a - e) / np.sqrt(e * (1 - row / n) * (1 - col / n))
        q = (a * d - b * c) / (a * d + b * c)
        se_q = (1 - q**2) / 2 * np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        return {
            "expected": e,
            "transitional_probability": a / row,
            "adjusted_residual": resid,
            "yules_q": q,
            "yules_q_se": se_q,
            "odds_ratio": (a * d) / (b * c),
        }
