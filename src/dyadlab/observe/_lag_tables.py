"""Lag tables of all sessions at once and their GSEQ statistics.

Counts come from one ``np.bincount`` over ``(session, given, target)`` indices; the
statistics are array operations over the ``sessions × K × K`` stack. Structural zeros
(cells that cannot occur, such as a code following itself when repeats are not coded)
get expected counts by iterative proportional fitting (Bakeman & Quera 2011, ch. 11),
their adjusted residuals from the hat matrix of the quasi-independence log-linear model
(Christensen 1997, p. 357; O'Connor 1999), and the table's df is
``(K−1)² − number of structural zeros``.

Examples
--------
>>> import numpy as np
>>> counts = lag_counts(np.array([0, 0, 0]), np.array([0, 1, 0]), lag=1, n_sessions=1, k=2)
>>> counts[0].tolist()
[[0, 1], [1, 0]]
"""

from __future__ import annotations

import numpy as np

__all__ = ["ipf_expected", "lag_counts", "table_statistics"]


def lag_counts(
    session: np.ndarray, code: np.ndarray, *, lag: int, n_sessions: int, k: int
) -> np.ndarray:
    """``counts[s, given, target]`` for events ``lag`` apart within a session.

    ``session`` and ``code`` are integer arrays in event order (grouped by session).
    """
    same = session[:-lag] == session[lag:] if len(session) > lag else np.zeros(0, dtype=bool)
    s = session[:-lag][same]
    idx = (s * k + code[:-lag][same]) * k + code[lag:][same]
    return np.bincount(idx, minlength=n_sessions * k * k).reshape(n_sessions, k, k)


def ipf_expected(counts: np.ndarray, allowed: np.ndarray, iterations: int = 200) -> np.ndarray:
    """Expected counts under quasi-independence by IPF, for all sessions at once."""
    obs = counts.astype(float)
    rows, cols = obs.sum(axis=2), obs.sum(axis=1)
    e = np.broadcast_to(allowed.astype(float), obs.shape).copy()
    for _ in range(iterations):
        with np.errstate(divide="ignore", invalid="ignore"):
            e *= np.nan_to_num(rows / e.sum(axis=2))[:, :, None]
            e *= np.nan_to_num(cols / e.sum(axis=1))[:, None, :]
        if np.abs(e.sum(axis=2) - rows).max(initial=0) < 1e-10:
            break
    return e


def _hat_diagonal(expected: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Diagonal of the quasi-independence model's weighted hat matrix per cell."""
    k = allowed.shape[0]
    i, j = np.nonzero(allowed)
    design = np.zeros((len(i), 2 * k - 1))
    design[:, 0] = 1.0
    design[i > 0, i[i > 0]] = 1.0
    design[j > 0, k - 1 + j[j > 0]] = 1.0
    w = expected[:, i, j]
    info = np.einsum("mp,sm,mq->spq", design, w, design)
    inv = np.linalg.pinv(info)
    h = np.einsum("mp,spq,mq->sm", design, inv, design) * w
    out = np.zeros(expected.shape)
    out[:, i, j] = h
    return out


def table_statistics(
    counts: np.ndarray, allowed: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Expected counts, transitional probabilities, adjusted residuals, Yule's Q, odds ratios.

    Without structural zeros the adjusted residual is Haberman's
    ``(x − e) / sqrt(e (1 − p_row)(1 − p_col))``; Yule's Q and the odds ratio come from
    the 2 × 2 collapse of each cell (given / not given × target / not target).
    """
    x = counts.astype(float)
    n = x.sum(axis=(1, 2))[:, None, None]
    rows = x.sum(axis=2)[:, :, None]
    cols = x.sum(axis=1)[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        if allowed is None or allowed.all():
            e = rows * cols / n
            resid = (x - e) / np.sqrt(e * (1 - rows / n) * (1 - cols / n))
        else:
            e = ipf_expected(counts, allowed)
            h = _hat_diagonal(e, allowed)
            resid = np.where(allowed, (x - e) / np.sqrt(e * (1 - h)), np.nan)
        tp = x / rows
        a, b, c = x, rows - x, cols - x
        d = n - rows - cols + x
        q = (a * d - b * c) / (a * d + b * c)
        odds = (a * d) / (b * c)
    if allowed is not None and not allowed.all():
        q = np.where(allowed, q, np.nan)
        odds = np.where(allowed, odds, np.nan)
    return {
        "expected": e,
        "transitional_probability": tp,
        "adjusted_residual": resid,
        "yules_q": q,
        "odds_ratio": odds,
    }
