"""Residual covariance structures for the engine (:mod:`dyadlab.models._engine`).

The residual covariance of a dyad is ``sigma2 * Lambda(theta)``, member 0's variance being
``sigma2``. Each structure writes the precision ``Lambda^{-1}`` as a weighted sum of fixed
*patterns* — sets of row pairs such as "the two partners on one occasion" or "one person
on consecutive occasions ``d`` days apart" — whose weights depend only on ``theta``.
The cross products of the data with each pattern are summed per dyad once
(:class:`PatternSums`, O(N)); a likelihood evaluation combines them (O(dyads)).

- :class:`Independent`: independent residuals, member-specific variances (``varIdent``).
- :class:`CompoundSymmetry` (``"cs"``): partners' residuals correlate ``rho`` within an
  occasion, member-specific variances — nlme ``corCompSymm(form = ~ 1 | dyad/time)`` with
  ``varIdent(form = ~ 1 | role)``. ``Lambda`` is block diagonal over occasions with
  2 × 2 (or 1 × 1) blocks.
- :class:`AR1` (``"ar1"``): AR(1) over occasions within person, correlation
  ``phi^|t - s|`` for integer times ``t, s`` — nlme ``corAR1(form = ~ time | dyad/person)``
  (which uses the time differences, so gaps count). On an irregular integer grid the
  process is Markov, so the precision is tridiagonal: for consecutive observations ``d``
  apart, ``e'Q e = e_1² + Σ (e_k - phi^d e_{k-1})² / (1 - phi^{2d})``.
- :class:`Kronecker` (``"kronecker"``): unstructured 2 × 2 between partners ⊗ AR(1) over
  occasions (SAS ``type=un@ar(1)``). For a dyad whose partners are observed on the same
  occasions ``Lambda = S ⊗ C``, ``Lambda^{-1} = S^{-1} ⊗ C^{-1}``: patterns again. Dyads
  whose partners' occasions differ break the Kronecker form; for them the bivariate AR(1)
  is run as a prediction-error (Kalman) recursion over occasions, vectorised over those
  dyads — exact and O(n) per dyad, but a Python loop over occasions at every evaluation.

Examples
--------
>>> import numpy as np
>>> lay = RowLayout(dyad=np.array([0, 0]), member=np.array([0, 1]), time=np.array([1, 1]))
>>> CompoundSymmetry(distinguishable=False).dense(np.array([np.arctanh(0.5)]), lay)[0]
array([[1. , 0.5],
       [0.5, 1. ]])
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AR1",
    "CompoundSymmetry",
    "Independent",
    "Kronecker",
    "PatternSums",
    "ResidualStructure",
    "RowLayout",
]

_ATANH_BOUNDS = (-7.5, 7.5)
_LOG_RATIO_BOUNDS = (-10.0, 10.0)
_CORR_BOUNDARY = 0.9999


@dataclass(frozen=True)
class RowLayout:
    """Dyad code (0..D-1, rows grouped by dyad), member (0 or 1) and time of every row."""

    dyad: np.ndarray
    member: np.ndarray
    time: np.ndarray

    @property
    def n_dyads(self) -> int:
        return int(self.dyad.max()) + 1 if len(self.dyad) else 0


class PatternSums:
    """Per-dyad and total cross products ``Σ sym(w_i w_j')`` of row-pair patterns.

    ``patterns`` is a list of ``(i, j)`` index arrays; ``i is j`` marks a diagonal pattern
    (``Σ w_i w_i'``), otherwise both orders are added (``w_i w_j' + w_j w_i'``). Only the
    first ``q`` columns (Z) are kept per dyad: ``zw`` has shape (K, q, m, D) — dyads last,
    so that every later per-dyad operation runs over contiguous vectors of length D.
    """

    def __init__(
        self,
        W: np.ndarray,
        q: int,
        dyad: np.ndarray,
        n_dyads: int,
        patterns: list[tuple[np.ndarray, np.ndarray]],
    ) -> None:
        m = W.shape[1]
        K = len(patterns)
        self.zw = np.zeros((K, q, m, n_dyads))
        self.ww = np.zeros((K, m, m))
        # columns as contiguous rows: the products and segment sums below run along them
        WT = np.ascontiguousarray(W.T)
        # the data of each index array, gathered once, and their per-dyad sums (the
        # index arrays are kept with them, so that an id is never reused meanwhile)
        rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        sums: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

        def take(idx: np.ndarray) -> np.ndarray:
            if id(idx) not in rows:
                rows[id(idx)] = (idx, np.take(WT, idx, axis=1))
            return rows[id(idx)][1]

        def segment_sum(data: np.ndarray, idx: np.ndarray | None, starts: np.ndarray) -> Any:
            """Per-dyad sums of the columns of ``data`` (the rows ``idx``, if given)."""
            if idx is None:
                return np.add.reduceat(data, starts, axis=1)
            hit = sums.get(id(idx))
            if hit is None or hit[0] is not idx or not np.array_equal(hit[1], starts):
                hit = sums[id(idx)] = (idx, starts, np.add.reduceat(data, starts, axis=1))
            return hit[2]

        for c, (i, j) in enumerate(patterns):
            if len(i) == 0:
                continue
            diag = i is j
            d = dyad[i]
            if np.any(d[1:] < d[:-1]):  # segment sums need the pairs grouped by dyad
                o = np.argsort(d, kind="stable")
                i, j, d = i[o], (i[o] if diag else j[o]), d[o]
            Wi, Wj = take(i), take(j)
            ww = Wi @ Wj.T
            self.ww[c] = ww if diag else ww + ww.T
            starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
            present = d[starts] if len(starts) < n_dyads else slice(None)
            for a in range(q):
                # a Z column that is 0 or 1 on these rows (a member's indicator) needs
                # no products: its sums are those of the rows where it is 1
                terms = [(Wi[a], Wj, j), (Wj[a], Wi, i)] if not diag else [(Wi[a], Wj, j)]
                total = None
                for z, other, idx in terms:
                    if not z.any():
                        continue
                    if np.all(z == 1.0):
                        part = segment_sum(other, idx, starts)
                    else:
                        part = segment_sum(z * other, None, starts)
                    total = part if total is None else total + part
                if total is not None:
                    self.zw[c, a][:, present] = total

    def combine(self, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(Σ_c coef_c zw_c, Σ_c coef_c ww_c)``.

        ``einsum`` (one pass, no BLAS): a BLAS ``gemv`` on the (K, q·m·D) layout is ~20
        times slower here, and multi-threaded BLAS stalls on a loaded machine.
        """
        K = len(coefs)
        zw = np.einsum("k,kn->n", coefs, self.zw.reshape(K, -1)).reshape(self.zw.shape[1:])
        ww = np.einsum("k,kn->n", coefs, self.ww.reshape(K, -1)).reshape(self.ww.shape[1:])
        return zw, ww


class ResidualStructure:
    """Base class of the residual structures."""

    distinguishable: bool
    param_names: tuple[str, ...]

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def prepare(self, W: np.ndarray, q: int, layout: RowLayout) -> Any:  # pragma: no cover
        raise NotImplementedError

    def natural(self, theta: np.ndarray) -> dict[str, float]:
        """Parameters on their natural scale: ``sd_ratio`` (member 1 / member 0), ``rho``,
        ``phi``."""
        out: dict[str, float] = {}
        for name, value in zip(self.param_names, theta, strict=True):
            if name == "log_sd_ratio":
                out["sd_ratio"] = float(math.exp(value))
            else:
                out[name.removeprefix("atanh_")] = float(math.tanh(value))
        return out

    def _parts(self, theta: np.ndarray) -> tuple[float, float, float]:
        nat = self.natural(np.asarray(theta, dtype=float))
        return nat.get("sd_ratio", 1.0), nat.get("rho", 0.0), nat.get("phi", 0.0)

    def bounds(self) -> list[tuple[float | None, float | None]]:
        return [
            _LOG_RATIO_BOUNDS if n == "log_sd_ratio" else _ATANH_BOUNDS for n in self.param_names
        ]

    def at_boundary(self, theta: np.ndarray) -> list[str]:
        out = []
        for name, value in zip(self.param_names, theta, strict=True):
            if name.startswith("atanh_") and abs(math.tanh(value)) > _CORR_BOUNDARY:
                out.append(f"residual {name.removeprefix('atanh_')} at its boundary (±1)")
            if name == "log_sd_ratio" and abs(value) > _LOG_RATIO_BOUNDS[1] - 1:
                out.append("residual SD ratio of the partners at its boundary")
        return out

    def start(self, resid: np.ndarray, layout: RowLayout) -> np.ndarray:
        """Moment starting values from least-squares residuals."""
        out = []
        for name in self.param_names:
            if name == "log_sd_ratio":
                s0 = np.std(resid[layout.member == 0])
                s1 = np.std(resid[layout.member == 1])
                out.append(math.log(s1 / s0) if s0 > 0 and s1 > 0 else 0.0)
            elif name == "atanh_rho":
                a, b, _ = _occasion_pairs(layout)
                r = np.corrcoef(resid[a], resid[b])[0, 1] if len(a) > 2 else 0.0
                out.append(math.atanh(float(np.clip(np.nan_to_num(r), -0.9, 0.9))))
            else:
                out.append(math.atanh(0.2))
        return np.array(out)

    # -- the dense definition, used for dyads that break a structure and in tests --------
    def dense(self, theta: np.ndarray, layout: RowLayout) -> np.ndarray:
        """``Lambda`` of every dyad as a padded (D, n_max, n_max) array (identity padding)."""
        delta, rho, phi = self._parts(theta)
        order, starts, sizes = _dyad_blocks(layout)
        D, nmax = len(starts), int(sizes.max())
        pos = np.arange(len(order)) - np.repeat(starts, sizes)
        dcode = np.repeat(np.arange(D), sizes)
        mem = np.zeros((D, nmax), dtype=int)
        tim = np.zeros((D, nmax))
        valid = np.zeros((D, nmax), dtype=bool)
        mem[dcode, pos] = layout.member[order]
        tim[dcode, pos] = layout.time[order]
        valid[dcode, pos] = True
        scale = np.where(mem == 1, delta, 1.0)
        same_person = mem[:, :, None] == mem[:, None, :]
        same_time = tim[:, :, None] == tim[:, None, :]
        corr = self._dense_corr(same_person, same_time, tim, rho, phi)
        lam = corr * scale[:, :, None] * scale[:, None, :]
        both = valid[:, :, None] & valid[:, None, :]
        lam = np.where(both, lam, 0.0)
        idx = np.arange(nmax)
        lam[:, idx, idx] = np.where(valid, lam[:, idx, idx], 1.0)
        return lam

    def _dense_corr(
        self,
        same_person: np.ndarray,
        same_time: np.ndarray,
        tim: np.ndarray,
        rho: float,
        phi: float,
    ) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


def _dyad_blocks(layout: RowLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(layout.dyad, kind="stable")
    d = layout.dyad[order]
    starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
    sizes = np.diff(np.r_[starts, len(d)])
    return order, starts, sizes


def _lexorder(keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """``np.lexsort(keys)`` (last key primary), without sorting rows already in order.

    The models pass rows sorted by dyad, occasion and member, so a check (a few
    comparisons per row) replaces a three-key sort of the whole data.
    """
    n = len(keys[0])
    if n > 1:
        rising = np.zeros(n - 1, dtype=bool)  # rows i, i + 1 strictly ordered so far
        for k in reversed(keys):
            if not np.all(rising | (k[1:] >= k[:-1])):  # NaN compares False: sort
                return np.lexsort(keys)
            rising |= k[1:] > k[:-1]
    return np.arange(n)


def _occasion_pairs(layout: RowLayout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of member 0 (a) and member 1 (b) on a shared occasion, and unpaired rows."""
    o = _lexorder((layout.member, layout.time, layout.dyad))
    d, t = layout.dyad[o], layout.time[o]
    same = (d[1:] == d[:-1]) & (t[1:] == t[:-1])
    a, b = o[:-1][same], o[1:][same]
    paired = np.zeros(len(o), dtype=bool)
    paired[a] = True
    paired[b] = True
    return a, b, np.flatnonzero(~paired)


def _consecutive(
    layout: RowLayout, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Within person (dyad, member): current rows, previous rows, their gaps, first rows."""
    sel = np.arange(len(layout.dyad)) if rows is None else rows
    o = sel[_lexorder((layout.time[sel], layout.member[sel], layout.dyad[sel]))]
    d, m, t = layout.dyad[o], layout.member[o], layout.time[o]
    same = (d[1:] == d[:-1]) & (m[1:] == m[:-1])
    cur, prev = o[1:][same], o[:-1][same]
    gap = np.rint(t[1:][same] - t[:-1][same]).astype(np.int64)
    first = o[np.r_[True, ~same]]
    return cur, prev, gap, first


def _ar1_coefs(kind: np.ndarray, gap: np.ndarray, phi: float) -> np.ndarray:
    """Weights of the AR(1) precision patterns: first, current, previous, cross."""
    f = np.power(phi, np.where(kind == "first", 1.0, gap))
    den = 1.0 - f * f
    return np.select(
        [kind == "first", kind == "cur", kind == "prev"],
        [np.ones_like(f), 1 / den, f * f / den],
        -f / den,
    )


class CompoundSymmetry(ResidualStructure):
    """Partners' residuals correlated within an occasion; member-specific variances."""

    def __init__(self, *, distinguishable: bool) -> None:
        self.distinguishable = distinguishable
        self.param_names = ("log_sd_ratio", "atanh_rho") if distinguishable else ("atanh_rho",)

    def _dense_corr(self, same_person, same_time, tim, rho, phi):  # type: ignore[no-untyped-def]
        return np.where(same_person & same_time, 1.0, np.where(same_time, rho, 0.0))

    def coefs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights of the five patterns (..., 5) and of the log-determinant's two counts
        (..., 2) at ``theta`` (..., n_params): one set of parameters, or a stack of them.

        The patterns: member 0's rows of the pairs, member 1's, the pairs' cross products
        (the first three: the inverse of the pair's covariance ``[[1, rho delta], [rho
        delta, delta²]]``), member 0's and member 1's rows without partner; the counts:
        pairs (``log`` of the pair's covariance determinant) and member 1's single rows.
        """
        theta = np.asarray(theta, dtype=float)
        log_delta = theta[..., 0] if self.distinguishable else np.zeros(theta.shape[:-1])
        rho = np.tanh(theta[..., -1])
        d2, one = np.exp(2 * log_delta), 1.0 - rho * rho
        coefs = [1 / one, 1 / (d2 * one), -rho / (np.sqrt(d2) * one), np.ones_like(rho), 1 / d2]
        return np.stack(coefs, -1), np.stack([2 * log_delta + np.log(one), 2 * log_delta], -1)

    def prepare(self, W: np.ndarray, q: int, layout: RowLayout) -> _CSPrepared:
        a, b, single = _occasion_pairs(layout)
        s0 = single[layout.member[single] == 0]
        s1 = single[layout.member[single] == 1]
        sums = PatternSums(
            W, q, layout.dyad, layout.n_dyads, [(a, a), (b, b), (a, b), (s0, s0), (s1, s1)]
        )
        D = layout.n_dyads
        counts = np.stack(
            [np.bincount(layout.dyad[a], minlength=D), np.bincount(layout.dyad[s1], minlength=D)]
        )
        return _CSPrepared(self, sums, counts.astype(float))


class _CSPrepared:
    def __init__(self, st: CompoundSymmetry, sums: PatternSums, counts: np.ndarray) -> None:
        #: per dyad (2, D): the pairs, and member 1's rows without partner
        self.st, self.sums, self.counts = st, sums, counts

    def coefs(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`CompoundSymmetry.coefs`."""
        return self.st.coefs(theta)

    def pattern_coefs(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """The weights of the precision's patterns and ``log|Lambda|``."""
        coefs, logdet = self.coefs(theta)
        return coefs, float(logdet @ self.counts.sum(axis=1))

    def cross(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        coefs, logdet = self.pattern_coefs(theta)
        zw, ww = self.sums.combine(coefs)
        return zw, ww, logdet


class Independent(ResidualStructure):
    """Independent residuals with member-specific variances (nlme ``varIdent`` alone)."""

    def __init__(self, *, distinguishable: bool) -> None:
        self.distinguishable = distinguishable
        self.param_names = ("log_sd_ratio",) if distinguishable else ()

    def _dense_corr(self, same_person, same_time, tim, rho, phi):  # type: ignore[no-untyped-def]
        return np.where(same_person & same_time, 1.0, 0.0)

    def prepare(self, W: np.ndarray, q: int, layout: RowLayout) -> _IndependentPrepared:
        r0 = np.flatnonzero(layout.member == 0)
        r1 = np.flatnonzero(layout.member == 1)
        sums = PatternSums(W, q, layout.dyad, layout.n_dyads, [(r0, r0), (r1, r1)])
        return _IndependentPrepared(self, sums, len(r1))


class _IndependentPrepared:
    def __init__(self, st: Independent, sums: PatternSums, n1: int) -> None:
        self.st, self.sums, self.n1 = st, sums, n1

    def pattern_coefs(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """The weights of the precision's patterns and ``log|Lambda|``."""
        delta, _, _ = self.st._parts(theta)
        return np.array([1.0, 1.0 / (delta * delta)]), self.n1 * 2 * math.log(delta)

    def cross(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        coefs, logdet = self.pattern_coefs(theta)
        zw, ww = self.sums.combine(coefs)
        return zw, ww, logdet


class AR1(ResidualStructure):
    """AR(1) over integer occasions within person; member-specific variances."""

    def __init__(self, *, distinguishable: bool) -> None:
        self.distinguishable = distinguishable
        self.param_names = ("log_sd_ratio", "atanh_phi") if distinguishable else ("atanh_phi",)

    def _dense_corr(self, same_person, same_time, tim, rho, phi):  # type: ignore[no-untyped-def]
        lag = np.abs(tim[:, :, None] - tim[:, None, :])
        return np.where(same_person, np.power(phi, lag), 0.0)

    def prepare(self, W: np.ndarray, q: int, layout: RowLayout) -> _AR1Prepared:
        cur, prev, gap, first = _consecutive(layout)
        patterns: list[tuple[np.ndarray, np.ndarray]] = []
        keys: list[tuple[int, int, str]] = []
        counts: list[tuple[int, int, int]] = []
        for r in (0, 1):
            f = first[layout.member[first] == r]
            patterns.append((f, f))
            keys.append((r, 0, "first"))
            mr = layout.member[cur] == r
            for g in np.unique(gap[mr]):
                sel = mr & (gap == g)
                c, p = cur[sel], prev[sel]
                patterns += [(c, c), (p, p), (c, p)]
                keys += [(r, int(g), "cur"), (r, int(g), "prev"), (r, int(g), "cross")]
                counts.append((r, int(g), int(sel.sum())))
        sums = PatternSums(W, q, layout.dyad, layout.n_dyads, patterns)
        n_member1 = int(np.sum(layout.member == 1))
        return _AR1Prepared(self, sums, keys, counts, n_member1)


class _AR1Prepared:
    def __init__(
        self,
        st: AR1,
        sums: PatternSums,
        keys: list[tuple[int, int, str]],
        counts: list[tuple[int, int, int]],
        n1: int,
    ) -> None:
        self.st, self.sums, self.keys, self.counts, self.n1 = st, sums, keys, counts, n1
        self.member = np.array([k[0] for k in keys])
        self.gap = np.array([k[1] for k in keys], dtype=float)
        self.kind = np.array([k[2] for k in keys])
        self.cnt_gap = np.array([c[1] for c in counts], dtype=float)
        self.cnt_n = np.array([c[2] for c in counts], dtype=float)

    def pattern_coefs(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """The weights of the precision's patterns and ``log|Lambda|``."""
        delta, _, phi = self.st._parts(theta)
        scale = np.where(self.member == 1, 1 / (delta * delta), 1.0)
        coef = _ar1_coefs(self.kind, self.gap, phi)
        logdet = self.n1 * 2 * math.log(delta) + float(
            np.sum(self.cnt_n * np.log1p(-np.power(phi, 2 * self.cnt_gap)))
        )
        return coef * scale, logdet

    def cross(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        coefs, logdet = self.pattern_coefs(theta)
        zw, ww = self.sums.combine(coefs)
        return zw, ww, logdet


class Kronecker(ResidualStructure):
    """Unstructured 2 × 2 between partners ⊗ AR(1) over integer occasions."""

    def __init__(self, *, distinguishable: bool) -> None:
        self.distinguishable = distinguishable
        self.param_names = (
            ("log_sd_ratio", "atanh_rho", "atanh_phi")
            if distinguishable
            else ("atanh_rho", "atanh_phi")
        )

    def _dense_corr(self, same_person, same_time, tim, rho, phi):  # type: ignore[no-untyped-def]
        lag = np.abs(tim[:, :, None] - tim[:, None, :])
        return np.power(phi, lag) * np.where(same_person, 1.0, rho)

    def prepare(self, W: np.ndarray, q: int, layout: RowLayout) -> _KronPrepared:
        a, b, single = _occasion_pairs(layout)
        D = layout.n_dyads
        broken = np.zeros(D, dtype=bool)
        broken[layout.dyad[single]] = True
        # complete dyads: occasions in time order, consecutive occasions within dyad
        ok = ~broken[layout.dyad[a]]
        a, b = a[ok], b[ok]
        o = _lexorder((layout.time[a], layout.dyad[a]))
        a, b = a[o], b[o]
        da = layout.dyad[a]
        same = da[1:] == da[:-1]
        first = np.r_[True, ~same] if len(a) else np.zeros(0, dtype=bool)
        ac, bc, ap, bp = a[1:][same], b[1:][same], a[:-1][same], b[:-1][same]
        gap = np.rint(layout.time[ac] - layout.time[ap]).astype(np.int64)
        a1, b1 = a[first], b[first]
        patterns = [(a1, a1), (b1, b1), (a1, b1)]
        keys: list[tuple[str, str, int]] = [
            ("aa", "first", 0),
            ("bb", "first", 0),
            ("ab", "first", 0),
        ]
        counts = []
        for g in np.unique(gap):
            s = gap == g
            A, B, AP, BP = ac[s], bc[s], ap[s], bp[s]
            patterns += [
                (A, A),
                (B, B),
                (A, B),
                (AP, AP),
                (BP, BP),
                (AP, BP),
                (A, AP),
                (B, BP),
                (A, BP),
                (B, AP),
            ]
            gi = int(g)
            keys += [
                ("aa", "cur", gi),
                ("bb", "cur", gi),
                ("ab", "cur", gi),
                ("aa", "prev", gi),
                ("bb", "prev", gi),
                ("ab", "prev", gi),
                ("aa", "cross", gi),
                ("bb", "cross", gi),
                ("ab", "cross", gi),
                ("ab", "cross", gi),
            ]
            counts.append((gi, int(s.sum())))
        sums = PatternSums(W, q, layout.dyad, D, patterns)
        broken_ids = np.flatnonzero(broken)
        dense = None
        if len(broken_ids):
            rows = np.flatnonzero(broken[layout.dyad])
            sub = RowLayout(
                dyad=np.searchsorted(broken_ids, layout.dyad[rows]),
                member=layout.member[rows],
                time=layout.time[rows],
            )
            dense = _KalmanBlocks(self, W[rows], q, sub, broken_ids)
        return _KronPrepared(self, sums, keys, counts, len(a1), len(a), dense)


class _KalmanBlocks:
    """Kronecker dyads whose partners' occasions differ: the innovations of the bivariate
    AR(1) process, vectorised over those dyads (a loop over occasions, not dyads).

    The residuals of a dyad are a stationary VAR(1), ``s_t = phi s_{t-1} + eta_t`` with
    ``Var(s_t) = S``; over a gap of ``d`` days ``s_t = phi^d s_{t-d} + N(0, (1 - phi^{2d})
    S)``. Processing the observations in time order, member 0 before member 1, the
    standardised one-step prediction errors of the data columns are ``L^{-1} W`` for the
    Cholesky factor ``L`` of the dyad's ``Lambda``, and the log prediction-error
    variances sum to ``log|Lambda|`` — exact, O(n) per dyad.
    """

    def __init__(
        self, st: ResidualStructure, W: np.ndarray, q: int, layout: RowLayout, ids: np.ndarray
    ) -> None:
        self.st, self.q, self.ids = st, q, ids
        o = _lexorder((layout.member, layout.time, layout.dyad))
        d, t = layout.dyad[o], layout.time[o]
        new_occ = np.r_[True, (d[1:] != d[:-1]) | (t[1:] != t[:-1])]
        occ = np.cumsum(new_occ) - 1  # occasion number over all dyads
        first_occ = np.r_[True, d[1:] != d[:-1]]
        occ_start = np.maximum.accumulate(np.where(first_occ, occ, 0))
        k = occ - occ_start  # occasion index within dyad
        D = int(d.max()) + 1 if len(d) else 0
        K = int(k.max()) + 1 if len(k) else 0
        m = W.shape[1]
        self.D, self.K, self.m = D, K, m
        self.W = np.zeros((K, 2, m, D))
        self.obs = np.zeros((K, 2, D), dtype=bool)
        mem = layout.member[o]
        self.W[k, mem, :, d] = W[o]
        self.obs[k, mem, d] = True
        times = np.full((K, D), np.nan)
        times[k, d] = t
        gap = np.zeros((K, D))
        gap[1:] = times[1:] - times[:-1]
        self.gap = np.nan_to_num(gap, nan=1.0)

    def cross(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        delta, rho, phi = self.st._parts(theta)
        S = np.array([[1.0, rho * delta], [rho * delta, delta * delta]])
        D, m, q = self.D, self.m, self.q
        mean = np.zeros((2, m, D))
        P = np.broadcast_to(S[:, :, None], (2, 2, D)).copy()
        zw = np.zeros((q, m, D))
        ww = np.zeros((m, m))
        logdet = 0.0
        for k in range(self.K):
            if k > 0:
                f = np.power(phi, self.gap[k])
                mean *= f
                P = P * (f * f) + S[:, :, None] * (1.0 - f * f)
            for j in (0, 1):
                ob = self.obs[k, j]
                if not ob.any():
                    continue
                F = P[j, j]
                v = self.W[k, j] - mean[j]  # (m, D)
                gain = P[:, j] / F  # (2, D)
                sd = np.sqrt(F)
                vt = np.where(ob, v / sd, 0.0)
                zw += vt[:q, None, :] * vt[None, :, :]
                ww += vt @ vt.T
                logdet += float(np.log(F[ob]).sum())
                mean = np.where(ob, mean + gain[:, None, :] * v[None, :, :], mean)
                upd = P - gain[:, None, :] * P[j][None, :, :]
                P = np.where(ob, upd, P)
        return zw, ww, logdet


class _KronPrepared:
    def __init__(
        self,
        st: Kronecker,
        sums: PatternSums,
        keys: list[tuple[str, str, int]],
        counts: list[tuple[int, int]],
        n_dyads_complete: int,
        n_occasions: int,
        dense: _KalmanBlocks | None,
    ) -> None:
        self.st, self.sums, self.dense = st, sums, dense
        self.block = np.array([k[0] for k in keys])
        self.kind = np.array([k[1] for k in keys])
        self.gap = np.array([k[2] for k in keys], dtype=float)
        self.cnt_gap = np.array([c[0] for c in counts], dtype=float)
        self.cnt_n = np.array([c[1] for c in counts], dtype=float)
        self.n_occ = n_occasions

    def pattern_coefs(self, theta: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The weights of the precision's patterns and ``log|Lambda|``; None when some
        dyads break the Kronecker form (their part is not a pattern sum)."""
        if self.dense is not None:
            return None
        return self._pattern_coefs(theta)

    def _pattern_coefs(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        delta, rho, phi = self.st._parts(theta)
        one = 1.0 - rho * rho
        s = {"aa": 1 / one, "bb": 1 / (delta * delta * one), "ab": -rho / (delta * one)}
        sblock = np.array([s[b] for b in self.block])
        q = _ar1_coefs(self.kind, self.gap, phi)
        logdet = self.n_occ * (2 * math.log(delta) + math.log(one)) + 2.0 * float(
            np.sum(self.cnt_n * np.log1p(-np.power(phi, 2 * self.cnt_gap)))
        )
        return sblock * q, logdet

    def cross(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        coefs, logdet = self._pattern_coefs(theta)
        zw, ww = self.sums.combine(coefs)
        if self.dense is not None:
            dzw, dww, dld = self.dense.cross(theta)
            zw = zw.copy()
            zw[:, :, self.dense.ids] += dzw
            ww = ww + dww
            logdet += dld
        return zw, ww, logdet
