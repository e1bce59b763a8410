"""Taylor-linearised variance of influence functions over a multi-stage design.

The one computation behind every survey estimate: given the influence function of each
estimate (an ``n × p`` matrix, zero outside the estimate's domain), sum it within
sampling units, centre the unit totals within strata and add the strata's
with-replacement (or finite-population-corrected) variances, stage by stage. This is
R ``survey``'s ``svyrecvar()`` (``multistage`` → ``onestage`` → ``onestrat``), written
as sums by unit and stratum codes (``np.bincount``) rather than loops over PSUs.

Examples
--------
>>> import numpy as np
>>> stage = make_stage(np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1]), None)
>>> x = np.array([[1.0], [-1.0], [2.0], [-2.0]])
>>> float(design_variance(x, [stage], lonely_psu="remove")[0, 0])
20.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["DomainColumns", "Stage", "design_variance", "make_stage", "rowsum"]

#: R's onestrat(): a stratum whose every unit has f < 1e-7 was sampled completely.
_CENSUS = 1e-7


def rowsum(x: np.ndarray, codes: np.ndarray, size: int) -> np.ndarray:
    """Sum the rows of ``x`` (n × p) by integer ``codes`` in 0..size-1 (R's ``rowsum``)."""
    if x.ndim == 1:
        return np.bincount(codes, weights=x, minlength=size)
    out = np.empty((size, x.shape[1]))
    for j in range(x.shape[1]):
        out[:, j] = np.bincount(codes, weights=x[:, j], minlength=size)
    return out


@dataclass(frozen=True)
class DomainColumns:
    """Influence functions of ``p`` domains: each row is in at most one domain.

    Stored as one value and one column per row (``column`` −1 outside every domain), so
    that summing by unit is one ``bincount`` rather than one per domain.
    """

    value: np.ndarray
    column: np.ndarray
    p: int

    def sum_by(self, codes: np.ndarray, size: int) -> np.ndarray:
        inside = self.column >= 0
        index = codes * self.p + np.where(inside, self.column, 0)
        sums = np.bincount(
            index, weights=np.where(inside, self.value, 0.0), minlength=size * self.p
        )
        return np.asarray(sums.reshape(size, self.p), dtype=float)

    def only(self, j: int) -> DomainColumns:
        """Domain ``j`` alone, as a one-column block."""
        mine = self.column == j
        return DomainColumns(np.where(mine, self.value, 0.0), np.where(mine, 0, -1), 1)

    def dense(self) -> np.ndarray:
        out = np.zeros((len(self.value), self.p))
        rows = np.flatnonzero(self.column >= 0)
        out[rows, self.column[rows]] = self.value[rows]
        return out


Influence = np.ndarray | Sequence[DomainColumns]


def _width(x: Influence) -> int:
    if isinstance(x, np.ndarray):
        return 1 if x.ndim == 1 else int(x.shape[1])
    return sum(b.p for b in x)


def _sum_by(x: Influence, codes: np.ndarray, size: int) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return rowsum(x.reshape(len(x), -1), codes, size)
    return np.hstack([b.sum_by(codes, size) for b in x])


@dataclass(frozen=True)
class Stage:
    """One stage of sampling, as integer codes.

    Attributes
    ----------
    unit : ndarray of int, shape (n,)
        The sampled unit (PSU at stage 1) of each row, 0..n_units-1.
    unit_stratum : ndarray of int, shape (n_units,)
        The stratum each unit was sampled in, 0..n_strata-1.
    n_sampled : ndarray of float, shape (n_strata,)
        Units sampled per stratum (R's ``fpc$sampsize``).
    f : ndarray of float, shape (n_units,)
        ``(N − n) / N`` of the unit's stratum; 1 without a population size.
    fraction : ndarray of float, shape (n_units,)
        ``n / N``, the multiplier of the next stage's variance; 0 without one.
    stratum_parent : ndarray of int, shape (n_strata,)
        The previous stage's unit each stratum lies in (0 at stage 1).
    """

    unit: np.ndarray
    unit_stratum: np.ndarray
    n_sampled: np.ndarray
    f: np.ndarray
    fraction: np.ndarray
    stratum_parent: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.unit_stratum)

    @property
    def n_strata(self) -> int:
        return len(self.n_sampled)

    @property
    def census(self) -> np.ndarray:
        """Per stratum: every unit has f < 1e-7, so it adds no variance."""
        fmax = np.full(self.n_strata, -np.inf)
        np.maximum.at(fmax, self.unit_stratum, self.f)
        return fmax < _CENSUS

    @property
    def lonely(self) -> np.ndarray:
        """Per stratum: one sampled unit and not a census."""
        return np.asarray((self.n_sampled == 1) & ~self.census, dtype=bool)


def make_stage(
    unit: np.ndarray,
    stratum: np.ndarray,
    popsize: np.ndarray | None,
    stratum_parent: np.ndarray | None = None,
) -> Stage:
    """Build a :class:`Stage` from per-row unit and stratum codes (0-based, dense).

    ``popsize`` is the per-row population number of units in the row's stratum (or
    None: sampled with replacement); units are assumed nested in strata.
    """
    n_units = int(unit.max()) + 1
    first = np.full(n_units, -1, dtype=np.int64)
    rows = np.arange(len(unit))
    first[unit[::-1]] = rows[::-1]
    unit_stratum = stratum[first]
    n_strata = int(stratum.max()) + 1
    n_sampled = np.bincount(unit_stratum, minlength=n_strata).astype(float)
    n_u = n_sampled[unit_stratum]
    if popsize is None:
        f = np.ones(n_units)
        fraction = np.zeros(n_units)
    else:
        big_n = np.asarray(popsize, dtype=float)[first]
        f = np.where(np.isinf(big_n), 1.0, (big_n - n_u) / big_n)
        fraction = n_u / big_n
    parent = np.zeros(n_strata, dtype=np.int64) if stratum_parent is None else stratum_parent
    return Stage(unit, unit_stratum, n_sampled, f, fraction, parent)


def design_variance(
    x: Influence,
    stages: Sequence[Stage],
    *,
    lonely_psu: str,
    present: np.ndarray | None = None,
) -> np.ndarray:
    """The ``p × p`` design covariance of the influence functions ``x`` (n × p).

    Parameters
    ----------
    x : ndarray, shape (n,) or (n, p), or list of DomainColumns
        Influence functions, zero for rows outside an estimate's domain.
    stages : sequence of Stage
        Stage 1 first. Stage k > 1 adds its variance, weighted by the previous stages'
        sampling fractions, only where those have population sizes (R's multistage).
    lonely_psu : {"remove", "certainty", "adjust", "average", "fail"}
        R's ``options(survey.lonely.psu)``; "fail" is checked when the design is built.
    present : ndarray of bool, shape (n,), optional
        The rows of the estimate's (sub)sample; only "average" needs it, to count the
        strata R's subset would hold. Default: all rows.

    Returns
    -------
    ndarray, shape (p, p)
    """
    p = _width(x)
    total = np.zeros((p, p))
    multiplier = np.ones(stages[0].n_units)
    for k, stage in enumerate(stages):
        if k > 0:
            parent = stages[k - 1].unit[_first_rows(stage)]
            multiplier = multiplier[parent] * stages[k - 1].fraction[parent]
            if not np.any(multiplier > 0):
                break
        total += _one_stage(x, p, stage, multiplier, lonely_psu, present)
    return total


def _first_rows(stage: Stage) -> np.ndarray:
    first = np.full(stage.n_units, -1, dtype=np.int64)
    rows = np.arange(len(stage.unit))
    first[stage.unit[::-1]] = rows[::-1]
    return first


def _one_stage(
    x: Influence,
    p: int,
    stage: Stage,
    multiplier: np.ndarray,
    lonely_psu: str,
    present: np.ndarray | None,
) -> np.ndarray:
    z = _sum_by(x, stage.unit, stage.n_units)
    s_of_u = stage.unit_stratum
    n_h = stage.n_sampled
    means = rowsum(z, s_of_u, stage.n_strata) / n_h[:, None]
    n_u = n_h[s_of_u]
    scale = np.where(n_u > 1, stage.f * n_u / np.maximum(n_u - 1, 1), stage.f)
    census = stage.census
    scale[census[s_of_u]] = 0.0
    lonely_u = stage.lonely[s_of_u]
    centred = z - means[s_of_u]
    if lonely_psu == "adjust":
        # R centres a lonely PSU at zero (the population mean of an influence function)
        centred[lonely_u] = z[lonely_u]
    weight = scale * multiplier
    if lonely_psu == "average" and stage.lonely.any():
        factor = _average_factor(stage, present)
        if np.any(np.isinf(factor) | np.isnan(factor)):
            # a (sub)sample whose every stratum is lonely has no average to borrow: R
            # returns NaN, and so do we
            return np.full((p, p), np.nan)
        weight = weight * factor[s_of_u]
        weight[lonely_u] = 0.0
    return np.asarray((centred * weight[:, None]).T @ centred, dtype=float)


def _average_factor(stage: Stage, present: np.ndarray | None) -> np.ndarray:
    """Per stratum: (strata in the subset) / (those not lonely), within the parent unit."""
    if present is None:
        in_subset = np.ones(stage.n_strata, dtype=bool)
    else:
        rows = np.bincount(stage.unit, weights=present.astype(float), minlength=stage.n_units)
        in_subset = np.bincount(stage.unit_stratum, weights=rows, minlength=stage.n_strata) > 0
    groups = int(stage.stratum_parent.max()) + 1
    nstrat = np.bincount(stage.stratum_parent, weights=in_subset.astype(float), minlength=groups)
    ok = in_subset & ~stage.lonely
    nok = np.bincount(stage.stratum_parent, weights=ok.astype(float), minlength=groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(nstrat > 0, nstrat / nok, 1.0)
    return np.asarray(factor[stage.stratum_parent], dtype=float)
