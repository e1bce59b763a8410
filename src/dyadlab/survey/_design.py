"""``dl.survey.design``: weights, strata, multi-stage clusters and population sizes.

A :class:`SurveyDesign` holds the data unchanged and the design as integer codes per
stage (see :mod:`dyadlab.survey._variance`), built exactly as R's ``svydesign()``
builds its design: later-stage units are nested in earlier ones, ``nest=True`` makes
PSU ids unique within strata, an ``fpc`` column gives population sizes (all values
≥ 1) or sampling fractions (all ≤ 1), and without weights the weights follow from the
population sizes.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"w": [2.0, 2, 3, 3], "s": [1, 1, 2, 2], "y": [1.0, 2, 3, 5]})
>>> d = design(df, weights="w", strata="s")
>>> d.df, d.n_psu, d.n_strata
(2, 4, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric, check_option, show_ids
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.survey._variance import Stage, make_stage

if TYPE_CHECKING:
    from dyadlab.survey._replicate import ReplicateDesign
    from dyadlab.survey._result import SurveyResult

__all__ = ["LONELY_PSU", "SurveyDesign", "design"]

#: R's options(survey.lonely.psu)
LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")
_FUNC = "survey.design"


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _codes(values: Any) -> tuple[np.ndarray, np.ndarray]:
    codes, uniques = pd.factorize(pd.Series(values), sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def _combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense codes of the pairs (a, b): R's ``interaction``."""
    codes, _ = pd.factorize(a * (int(b.max()) + 1) + b, sort=True)
    return np.asarray(codes, dtype=np.int64)


def _no_missing(data: pd.DataFrame, column: str, role: str, fix: str) -> None:
    missing = data[column].isna().to_numpy()
    if missing.any():
        rows = data.index[missing]
        raise DyadicDataError(
            f"{_FUNC}(): the {role} column {column!r} has {int(missing.sum())} missing "
            f"values (rows {show_ids(list(rows))}); {fix}"
        )


class SurveyDesign:
    """A complex sample: the data with its weights, strata, clusters and fpc.

    Build it with :func:`design`. Estimates are methods: :meth:`mean`, :meth:`total`,
    :meth:`ratio`, :meth:`proportion`, :meth:`glm`; each returns a
    :class:`~dyadlab.survey.SurveyResult`.

    Attributes
    ----------
    data : DataFrame
        The data, unchanged.
    weights : ndarray
        Sampling weights (1 / probability of selection).
    stages : list of Stage
        The stages of sampling as integer codes.
    df : int
        Design degrees of freedom: PSUs − strata (R's ``degf``).
    n_psu, n_strata : int
        First-stage units and strata.
    lonely_psu : str
        The rule for strata with one PSU.
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weights: np.ndarray,
        stages: list[Stage],
        strata_labels: np.ndarray,
        lonely_psu: str,
        call: dict[str, Any],
    ) -> None:
        self.data = data
        self.weights = weights
        self.stages = stages
        self.strata_labels = strata_labels
        self.lonely_psu = lonely_psu
        self.call = call
        self.n_psu = stages[0].n_units
        self.n_strata = stages[0].n_strata
        self.df = self.n_psu - self.n_strata

    @property
    def estimation(self) -> str:
        return "Taylor linearisation"

    def replicates(self, type: str = "JKn") -> ReplicateDesign:
        """Jackknife replicate weights of this design (R ``as.svrepdesign``).

        ``"JK1"`` (unstratified) or ``"JKn"`` (stratified): one replicate per PSU; see
        :func:`dyadlab.survey.replicate_design` for what a replicate design estimates.
        """
        from dyadlab.survey._replicate import jackknife

        return jackknife(self, type)

    def __repr__(self) -> str:
        return (
            f"SurveyDesign({len(self.data)} rows, {self.n_strata} strata, {self.n_psu} PSUs, "
            f"{len(self.stages)} stage(s), df = {self.df}, lonely_psu={self.lonely_psu!r})"
        )

    def subset_df(self, rows: np.ndarray) -> int:
        """Design df of the rows ``rows`` (bool): their PSUs − their strata (R's ``degf``)."""
        stage = self.stages[0]
        units = np.bincount(stage.unit, weights=rows.astype(float), minlength=stage.n_units) > 0
        strata = np.bincount(stage.unit_stratum, weights=units.astype(float)) > 0
        return int(units.sum() - strata.sum())

    def info(self) -> dict[str, Any]:
        """The design as the JSON's ``design`` object."""
        return {
            "n_obs": len(self.data),
            "n_strata": self.n_strata,
            "n_psu": self.n_psu,
            "stages": len(self.stages),
            "df": self.df,
            "lonely_psu": self.lonely_psu,
            "lonely_strata": [str(s) for s in self.strata_labels[self.stages[0].lonely]],
            **{k: v for k, v in self.call.items() if k != "data"},
        }

    def mean(
        self, var: str | Sequence[str], *, by: str | None = None, level: float = 0.95
    ) -> SurveyResult:
        """Weighted means per ``by`` group (R ``svymean``, ``svyby(…, svymean)``).

        Respondents with ``var`` missing are outside the estimate but stay in the
        design (R's ``na.rm = TRUE``); several variables share their complete cases.
        Rows: ``effect`` "mean", ``predictor`` the variable, ``group`` the ``by`` value,
        ``n`` respondents used; ``df`` the design df (t intervals); ``vcov`` the joint
        covariance of all rows, for :meth:`SurveyResult.contrast`.

        Examples
        --------
        >>> res = d.mean("loneliness", by="relationship")  # doctest: +SKIP
        """
        from dyadlab.survey._estimators import estimate

        return estimate(self, "mean", var, by=by, level=level)

    def total(
        self, var: str | Sequence[str], *, by: str | None = None, level: float = 0.95
    ) -> SurveyResult:
        """Weighted totals per ``by`` group (R ``svytotal``); rows as :meth:`mean`."""
        from dyadlab.survey._estimators import estimate

        return estimate(self, "total", var, by=by, level=level)

    def ratio(
        self, numerator: str, denominator: str, *, by: str | None = None, level: float = 0.95
    ) -> SurveyResult:
        """Ratio of two totals per ``by`` group (R ``svyratio``); rows as :meth:`mean`."""
        from dyadlab.survey._estimators import estimate

        return estimate(self, "ratio", numerator, by=by, denominator=denominator, level=level)

    def proportion(
        self,
        var: str,
        *,
        by: str | None = None,
        value: Any = None,
        method: str = "logit",
        level: float = 0.95,
    ) -> SurveyResult:
        """Proportion with a logit or Korn–Graubard interval (R ``svyciprop``)."""
        from dyadlab.survey._estimators import proportion

        return proportion(self, var, by=by, value=value, method=method, level=level)

    def quantile(
        self,
        var: str,
        q: float | Sequence[float] = 0.5,
        *,
        by: str | None = None,
        level: float = 0.95,
    ) -> SurveyResult:
        """Quantiles with Woodruff intervals (R ``svyquantile``, ``qrule="math"``)."""
        from dyadlab.survey._quantile import quantile

        return quantile(self, var, q, by=by, level=level)

    def chisq(self, a: str, b: str, *, level: float = 0.95) -> SurveyResult:
        """Rao–Scott test of association of two variables (R ``svychisq``)."""
        from dyadlab.survey._tables import chisq

        return chisq(self, a, b, level=level)

    def glm(
        self, y: str, x: str | Sequence[str], *, family: str = "gaussian", level: float = 0.95
    ) -> SurveyResult:
        """Design-based GLM (R ``svyglm``); see :func:`dyadlab.survey.glm`."""
        from dyadlab.survey._glm import glm

        result: SurveyResult = glm(self, y, x, family=family, level=level)
        return result


def design(
    data: pd.DataFrame,
    *,
    weights: str | None,
    strata: str | None = None,
    cluster: str | Sequence[str] | None = None,
    fpc: str | Sequence[str] | None = None,
    nest: bool = False,
    lonely_psu: str = "fail",
) -> SurveyDesign:
    """Describe how a sample was drawn, as R's ``svydesign()``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    weights : str or None
        Sampling-weight column (> 0, no missing values). None: weights follow from
        ``fpc`` (population ÷ sample size per stage), or are 1 without it.
    strata : str, optional
        First-stage stratum column.
    cluster : str or list of str, optional
        Cluster (PSU, SSU, …) columns, first stage first. None: every row is a PSU.
    fpc : str or list of str, optional
        Per stage, the population number of units in the stratum (all ≥ 1) or the
        sampling fraction (all ≤ 1). Later stages add variance only where earlier
        stages have an fpc (R's multistage variance).
    nest : bool
        PSU ids repeat across strata (PSU 1 of stratum A ≠ PSU 1 of stratum B).
    lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
        A stratum with one PSU, as R's ``options(survey.lonely.psu)``: "fail" raises;
        "remove" and "certainty" let it add nothing; "adjust" centres it at zero
        rather than its stratum mean; "average" gives it the average variance of the
        other strata.

    Returns
    -------
    SurveyDesign

    Raises
    ------
    DyadicDataError
        Missing or non-positive weights, missing strata/cluster/fpc values, PSUs that
        cross strata without ``nest=True``, an fpc smaller than the sample, a design
        with one PSU, or a stratum with one PSU under ``lonely_psu="fail"``.

    Notes
    -----
    Reproduces ``survey::svydesign(ids = ~c1 + c2, strata = ~s, weights = ~w,
    fpc = ~f1 + f2, nest = …)``; design df = PSUs − strata.

    Examples
    --------
    >>> import dyadlab as dl
    >>> df = dl.survey.simulate_panel(400, rng=1)
    >>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
    >>> d.df
    60
    """
    if not isinstance(data, pd.DataFrame):
        raise DyadicDataError(f"{_FUNC}(): data must be a pandas DataFrame, not {type(data)}.")
    check_option("lonely_psu", lonely_psu, LONELY_PSU, func=_FUNC)
    clusters = _as_list(cluster)
    fpcs = _as_list(fpc)
    check_columns(data, [weights, strata, *clusters, *fpcs], func=_FUNC)
    if len(fpcs) > max(len(clusters), 1):
        raise OptionError(
            f"{_FUNC}(): {len(fpcs)} fpc columns for {max(len(clusters), 1)} stage(s); give "
            "at most one fpc column per cluster stage, first stage first."
        )
    n = len(data)
    if n == 0:
        raise DyadicDataError(f"{_FUNC}(): the data has no rows.")
    w = _weights(data, weights)
    for column in [strata, *clusters]:
        if column is not None:
            _no_missing(data, column, "strata/cluster", "every respondent needs one.")
    for column in fpcs:
        _no_missing(data, column, "fpc", "every respondent needs one.")
    check_numeric(data, fpcs, func=_FUNC)

    if strata is None:
        strat_codes, strata_labels = np.zeros(n, dtype=np.int64), np.array(["1"], dtype=object)
    else:
        strat_codes, strata_labels = _codes(data[strata])
    ids = [_codes(data[c])[0] for c in clusters] or [np.arange(n, dtype=np.int64)]
    for i in range(1, len(ids)):
        ids[i] = _combine(ids[i - 1], ids[i])
    if nest and strata is not None:
        ids = [_combine(strat_codes, u) for u in ids]
    if ids[0].max() == 0 and not (nest and strata is not None):  # codes are dense
        raise DyadicDataError(
            f"{_FUNC}(): the design has only one primary sampling unit; a variance needs "
            "at least two PSUs (check the cluster column)."
        )
    if strata is not None and not nest:
        _check_nested(ids[0], strat_codes, data[strata], clusters)

    stage_strata = [strat_codes] + [ids[i - 1] for i in range(1, len(ids))]
    popsizes = _popsizes(data, fpcs, ids, stage_strata)
    stages: list[Stage] = []
    for k, (unit, stratum) in enumerate(zip(ids, stage_strata, strict=True)):
        parent = None if k == 0 else stages[k - 1].unit[_first(stratum)]
        stages.append(make_stage(unit, stratum, popsizes[k], parent))
    if weights is None and fpcs:
        w = np.ones(n)
        for k, pop in enumerate(popsizes):
            if pop is not None:
                w = w * pop / stages[k].n_sampled[stratum_of_rows(stages[k])]
    lonely_psu_check(stages, strata_labels, lonely_psu, has_fpc=[p is not None for p in popsizes])
    call = {
        "weights": weights,
        "strata": strata,
        "cluster": clusters,
        "fpc": fpcs,
        "nest": nest,
    }
    return SurveyDesign(
        data,
        weights=w,
        stages=stages,
        strata_labels=strata_labels,
        lonely_psu=lonely_psu,
        call=call,
    )


def stratum_of_rows(stage: Stage) -> np.ndarray:
    """The stratum code of every row at ``stage``."""
    return np.asarray(stage.unit_stratum[stage.unit], dtype=np.int64)


def _first(codes: np.ndarray) -> np.ndarray:
    size = int(codes.max()) + 1
    first = np.full(size, -1, dtype=np.int64)
    rows = np.arange(len(codes))
    first[codes[::-1]] = rows[::-1]
    return first


def _weights(data: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(data))
    _no_missing(
        data,
        weights,
        "weight",
        "every respondent needs a weight: impute or fix them, or drop those rows before "
        "building the design (they are then outside every estimate).",
    )
    check_numeric(data, [weights], func=_FUNC)
    w = pd.to_numeric(data[weights]).to_numpy(dtype=float)
    bad = ~(w > 0) | ~np.isfinite(w)
    if bad.any():
        raise DyadicDataError(
            f"{_FUNC}(): the weight column {weights!r} has {int(bad.sum())} zero, negative "
            f"or infinite values (rows {show_ids(list(data.index[bad]))}); sampling weights "
            "must be positive: drop respondents outside the sample, or fix the weights."
        )
    return w


def _check_nested(
    psu: np.ndarray, strat: np.ndarray, strata_values: pd.Series, clusters: list[str]
) -> None:
    pairs = _combine(psu, strat)
    first = _first(pairs)
    per_psu = np.bincount(psu[first], minlength=int(psu.max()) + 1)
    crossing = np.flatnonzero(per_psu > 1)
    if len(crossing):
        name = clusters[0] if clusters else "row"
        raise DyadicDataError(
            f"{_FUNC}(): {len(crossing)} PSUs of {name!r} lie in more than one stratum; "
            "if PSU ids restart in every stratum, pass nest=True (R's svydesign(nest = "
            "TRUE)); otherwise fix the strata."
        )


def _popsizes(
    data: pd.DataFrame,
    fpcs: list[str],
    ids: list[np.ndarray],
    stage_strata: list[np.ndarray],
) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = [None] * len(ids)
    if not fpcs:
        return out
    values = [pd.to_numeric(data[c]).to_numpy(dtype=float) for c in fpcs]
    allv = np.concatenate(values)
    is_popsize = bool(np.any(allv > 1))
    if is_popsize != bool(np.all(allv >= 1)):
        raise DyadicDataError(
            f"{_FUNC}(): fpc values must all be population sizes (≥ 1) or all sampling "
            "fractions (≤ 1), not a mix."
        )
    for k, v in enumerate(values):
        unit, stratum = ids[k], stage_strata[k]
        units_first = _first(unit)
        n_strata = int(stratum.max()) + 1
        sampled = np.bincount(stratum[units_first], minlength=n_strata).astype(float)[stratum]
        pop = v if is_popsize else sampled / v
        too_small = pop < sampled - 1e-9
        if too_small.any():
            raise DyadicDataError(
                f"{_FUNC}(): fpc column {fpcs[k]!r} gives a population smaller than the "
                f"number of units sampled (rows {show_ids(list(data.index[too_small]))}); "
                "give the population number of units per stratum, or the sampling fraction."
            )
        out[k] = pop
    return out


def lonely_psu_check(
    stages: list[Stage], strata_labels: np.ndarray, lonely_psu: str, *, has_fpc: list[bool]
) -> None:
    """Under ``lonely_psu="fail"``, raise naming the first-stage strata with one PSU."""
    if lonely_psu != "fail":
        return
    lonely = stages[0].lonely
    if lonely.any():
        names = list(strata_labels[lonely])
        raise DyadicDataError(
            f"{_FUNC}(): stratum {show_ids(names)} has only one PSU, so its variance cannot "
            "be estimated (lonely_psu='fail'). Choose lonely_psu='remove' (it adds "
            "nothing), 'certainty' (a PSU sampled with certainty), 'adjust' (centred at "
            "the population mean) or 'average' (the other strata's average), as R's "
            "options(survey.lonely.psu); or merge the stratum with a similar one."
        )
    for k, stage in enumerate(stages[1:], start=2):
        # a later stage adds variance only below stages that all have an fpc
        if all(has_fpc[: k - 1]) and stage.lonely.any():
            raise DyadicDataError(
                f"{_FUNC}(): {int(stage.lonely.sum())} units at stage {k - 1} have only "
                f"one sampled unit at stage {k} (lonely_psu='fail'); choose "
                "lonely_psu='remove', 'certainty', 'adjust' or 'average', or leave out "
                "that stage's fpc."
            )
