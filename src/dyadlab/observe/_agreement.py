"""``dl.observe.agreement``: inter-coder agreement on codes, one coefficient with its CI.

Examples
--------
>>> import pandas as pd
>>> import dyadlab as dl
>>> df = pd.DataFrame({"unit": [1, 1, 2, 2, 3, 3, 4, 4],
...                    "coder": ["A", "B"] * 4,
...                    "code": ["x", "x", "y", "y", "x", "y", "y", "y"]})
>>> res = dl.observe.agreement(df, unit="unit", coder="coder", code="code", method="cohen")
>>> res.estimates[["effect", "estimate"]].round(3).values.tolist()
[['cohen_kappa', 0.5]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_option, check_range, show_ids
from dyadlab.exceptions import DyadicDataError, OptionError
from dyadlab.models._result import ModelResult, emit, estimates_frame, present
from dyadlab.observe._kappa import agreement_weights, cohen_kappa, fleiss_kappa, gwet_ac1
from dyadlab.observe._krippendorff import krippendorff_alpha, krippendorff_bootstrap
from dyadlab.observe._ratings import Ratings, ratings_matrix

__all__ = ["AgreementResult", "agreement", "confusion_table"]

METHODS = ("cohen", "fleiss", "gwet", "krippendorff")
LEVELS = ("nominal", "ordinal", "interval", "ratio")
EFFECT = {
    "cohen": "cohen_kappa",
    "fleiss": "fleiss_kappa",
    "gwet": "gwet_ac1",
    "krippendorff": "krippendorff_alpha",
}
REFERENCE = {
    "cohen": "Cohen (1960, 1968); variance of Fleiss, Cohen & Everitt (1969)",
    "fleiss": "Fleiss (1971); jackknife SE over units",
    "gwet": "Gwet (2008); jackknife SE over units",
    "krippendorff": "Krippendorff (2011); jackknife SE over units",
}


class AgreementResult(ModelResult):
    """The agreement coefficient; with exactly two coders, ``confusion`` and ``plot()``."""

    @property
    def n_units(self) -> int:
        """Units that entered the coefficient (coded by at least two coders)."""
        return int(self.extra["n_units"])

    @property
    def coders(self) -> list[str]:
        """The coders, as strings, in the order of the data."""
        return [str(c) for c in self.extra["coders"]]

    @property
    def categories(self) -> list[str]:
        """The codes, as strings."""
        return [str(c) for c in self.extra["categories"]]

    @property
    def observed_agreement(self) -> float | None:
        """The observed agreement the coefficient corrects for chance."""
        value = self.extra.get("observed_agreement")
        return None if value is None else float(value)

    @property
    def confusion(self) -> pd.DataFrame | None:
        """The two coders' K × K table over the units both coded (None for 3+ coders)."""
        table = self.extra.get("confusion")
        if table is None:
            return None
        cats = self.extra["categories"]
        first, second = self.extra["coders"]
        coder = self.call["coder"]
        return pd.DataFrame(
            table,
            index=pd.Index(cats, name=f"{coder} {first}"),
            columns=pd.Index(cats, name=f"{coder} {second}"),
        )

    def plot(self, ax: Any = None, *, normalize: bool = False) -> Any:
        """Heat map of the two coders' confusion matrix (see ``confusion``).

        Returns
        -------
        matplotlib.figure.Figure
        """
        table = self.confusion
        if table is None:
            raise OptionError(
                "AgreementResult.plot(): a confusion matrix needs exactly 2 coders; this "
                f"result has {self.extra['n_coders']}."
            )
        return present("observe_plots", "confusion_plot")(table, ax=ax, normalize=normalize)


def _single_coded(r: Ratings) -> np.ndarray:
    return np.asarray((r.matrix >= 0).sum(axis=1) < 2)


def _two_coders(r: Ratings, func: str) -> None:
    if len(r.coders) != 2:
        raise DyadicDataError(
            f"{func}(): Cohen's kappa compares exactly 2 coders, but the data has "
            f"{len(r.coders)} ({show_ids(r.coders)}). Use method='fleiss', 'gwet' or "
            "'krippendorff' for more coders."
        )
    missing = (r.matrix < 0).any(axis=1)
    if missing.any():
        units = [r.units[int(i)] for i in np.flatnonzero(missing)]
        coded = [r.coders[int(np.argmax(r.matrix[i] >= 0))] for i in np.flatnonzero(missing)]
        raise DyadicDataError(
            f"{func}(): {len(units)} units are coded by one coder only (first: unit "
            f"{show_ids(units[:1])}, coded by coder {show_ids(coded[:1])} only). Agreement "
            "needs both coders' codes for every unit; drop those units or use "
            "method='krippendorff', which allows missing codes."
        )


def confusion_table(data: pd.DataFrame, *, unit: str, coder: str, code: str) -> pd.DataFrame:
    """The two coders' K × K table of counts (rows: first coder, columns: second).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"u": [1, 1, 2, 2], "c": ["A", "B", "A", "B"], "k": ["x", "y", "y", "y"]})
    >>> confusion_table(df, unit="u", coder="c", code="k").values.tolist()
    [[0, 1], [0, 1]]
    """
    r = ratings_matrix(data, unit=unit, coder=coder, code=code, func="confusion_table")
    _two_coders(r, "confusion_table")
    k = r.n_categories
    table = np.bincount(r.matrix[:, 0] * k + r.matrix[:, 1], minlength=k * k).reshape(k, k)
    index = pd.Index(r.categories, name=f"{coder} {r.coders[0]}")
    columns = pd.Index(r.categories, name=f"{coder} {r.coders[1]}")
    return pd.DataFrame(table, index=index, columns=columns)


def agreement(
    data: pd.DataFrame,
    *,
    unit: str,
    coder: str,
    code: str,
    method: str = "cohen",
    level: str = "nominal",
    weights: str | None = None,
    confidence: float = 0.95,
    ci: str = "jackknife",
    n_boot: int = 2000,
    rng: int | np.random.Generator | None = None,
) -> AgreementResult:
    """Agreement between coders who coded the same units, with a confidence interval.

    Parameters
    ----------
    data : DataFrame
        Long format: one row per unit and coder (a unit is an event, a time unit or an
        item, identified by ``unit``; for sessions, make the unit ``session:second``).
    unit, coder, code : str
        Columns naming the unit, the coder and the code given.
    method : {"cohen", "fleiss", "gwet", "krippendorff"}
        Cohen's κ (2 coders), Fleiss' κ (a fixed number of coders per unit), Gwet's
        AC1, Krippendorff's α (missing codes allowed).
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement for Krippendorff's α; for Cohen's κ, ``"ordinal"`` means
        quadratic weights unless ``weights`` says otherwise.
    weights : {None, "linear", "quadratic"}
        Weighted Cohen's κ (categories in sorted order).
    confidence : float
        Confidence level of the interval (estimate ± z·SE).
    ci : {"jackknife", "bootstrap"}
        Krippendorff's α only: ``"bootstrap"`` gives the percentile interval of
        ``n_boot`` resamples of the units (and their SD as the SE) instead of estimate ±
        z·(jackknife SE).
    n_boot : int
        Bootstrap resamples (``ci="bootstrap"``).
    rng : int or numpy.random.Generator, optional
        Seed or generator of the bootstrap.

    Returns
    -------
    AgreementResult
        ``model`` ``"observe_agreement"``; ``estimates`` has one row: ``effect``
        ``cohen_kappa`` / ``fleiss_kappa`` / ``gwet_ac1`` / ``krippendorff_alpha``,
        ``predictor`` = the code column, ``estimate, se, statistic`` (z against 0),
        ``p, ci_low, ci_high``; extra keys ``n_units``, ``n_coders``, ``coders``,
        ``categories``, ``observed_agreement``, ``confusion`` (two coders: the K × K
        counts over the units both coded, rows the first coder; null otherwise), drawn
        by ``.plot()``.

    Raises
    ------
    DyadicDataError
        A unit coded by one coder only (Cohen, Fleiss), duplicate unit–coder rows.

    Notes
    -----
    Cohen's κ and its variance (Fleiss, Cohen & Everitt 1969) equal
    ``psych::cohen.kappa``; the weighted variance uses the published formula (psych
    computes its weighted-κ variance with row weights ``p_i· Σ_j w_ij``, so its weighted
    CI differs slightly). Fleiss' κ, Gwet's AC1 and Krippendorff's α get a jackknife
    SE over units. Krippendorff's α reproduces Krippendorff's (2011) worked examples.
    Its bootstrap resamples units with replacement (Efron's nonparametric bootstrap,
    as Gwet 2015 and Hughes 2022 recommend); it is not the KALPHA macro's bootstrap
    (Hayes & Krippendorff 2007), which draws pairs of values from the coincidence
    matrix while holding the expected disagreement fixed and so understates the
    sampling variance (Gwet 2015; Hughes 2022, who finds the jackknife interval the
    closest to its nominal coverage).
    """
    func = "agreement"
    check_option("method", method, METHODS, func=func)
    check_option("level", level, LEVELS, func=func)
    if weights is not None:
        check_option("weights", weights, ("linear", "quadratic"), func=func)
    check_range("confidence", confidence, func=func, low=0.0, high=1.0, inclusive=False)
    check_option("ci", ci, ("jackknife", "bootstrap"), func=func)
    if ci == "bootstrap" and method != "krippendorff":
        raise OptionError(
            f"{func}(): ci='bootstrap' is available for method='krippendorff' only; "
            f"{method!r} gets a jackknife (Fleiss, Gwet) or analytic (Cohen) interval."
        )
    if ci == "bootstrap" and (not isinstance(n_boot, int | np.integer) or n_boot < 100):
        raise OptionError(f"{func}(): n_boot={n_boot!r} must be a whole number of at least 100.")
    r = ratings_matrix(data, unit=unit, coder=coder, code=code, func=func)
    if r.n_categories < 1 or len(r.units) == 0:
        raise DyadicDataError(f"{func}(): column {code!r} has no codes.")
    if len(r.coders) < 2:
        raise DyadicDataError(
            f"{func}(): agreement needs at least 2 coders, but column {coder!r} has only "
            f"{show_ids(r.coders)}. Add the second coder's codes for the same units."
        )
    values = _numeric_values(r, level, func)
    warnings: list[str] = []
    boot_ci: tuple[float, float] | None = None
    counts = r.counts()
    observed = _observed_agreement(counts)
    if method == "cohen":
        _two_coders(r, func)
        k = r.n_categories
        table = np.bincount(r.matrix[:, 0] * k + r.matrix[:, 1], minlength=k * k).reshape(k, k)
        kind = weights or ("quadratic" if level != "nominal" else "none")
        w = None if kind == "none" else agreement_weights(k, kind)
        est, se = cohen_kappa(table, w)
        n_used = len(r.units)
    elif method == "fleiss":
        per_unit = counts.sum(axis=1)
        if (per_unit != per_unit.max()).any():
            bad = [r.units[int(i)] for i in np.flatnonzero(per_unit != per_unit.max())]
            raise DyadicDataError(
                f"{func}(): Fleiss' kappa needs every unit coded by all {int(per_unit.max())} "
                f"coders, but {len(bad)} units are not (first: unit {show_ids(bad[:1])}). Use "
                "method='krippendorff' or method='gwet', which allow missing codes."
            )
        est, se = fleiss_kappa(counts)
        n_used = len(r.units)
    elif method == "gwet":
        est, se = gwet_ac1(counts)
        n_used = int((counts.sum(axis=1) >= 2).sum())
    else:
        est, se = krippendorff_alpha(counts, values, level)
        n_used = int((counts.sum(axis=1) >= 2).sum())
        if ci == "bootstrap":
            boot = krippendorff_bootstrap(
                counts, values, level, n_boot=int(n_boot), rng=np.random.default_rng(rng)
            )
            finite = boot[np.isfinite(boot)]
            if len(finite) < len(boot):
                warnings.append(
                    f"{len(boot) - len(finite)} of {len(boot)} bootstrap resamples have all "
                    "codes in one category (α undefined) and are left out."
                )
            if len(finite) >= 2:
                tail = (1 - confidence) / 2
                low, high = np.quantile(finite, [tail, 1 - tail])
                boot_ci = (float(low), float(high))
                se = float(np.std(finite, ddof=1))
    single = _single_coded(r)
    if method in ("gwet", "krippendorff") and single.any():
        warnings.append(
            f"{int(single.sum())} units have fewer than 2 codes and add no pairs "
            f"(first: {show_ids([r.units[int(i)] for i in np.flatnonzero(single)][:1])})."
        )
    if not np.isfinite(est):
        warnings.append("The coefficient is undefined: all codes fall in one category.")
    row = {
        "effect": EFFECT[method],
        "predictor": code,
        "role": None,
        "estimate": est,
        "se": se if np.isfinite(se) and se > 0 else None,
    }
    if boot_ci is not None:
        row["ci_low"], row["ci_high"] = boot_ci
    call: dict[str, Any] = {"unit": unit, "coder": coder, "code": code, "method": method}
    call.update({"level": level, "weights": weights, "ci": ci})
    if ci == "bootstrap":
        call.update({"n_boot": n_boot, "rng": rng if isinstance(rng, int) else None})
    confusion = None
    if len(r.coders) == 2:
        both = (r.matrix >= 0).all(axis=1)
        k = r.n_categories
        pair = r.matrix[both]
        confusion = np.bincount(pair[:, 0] * k + pair[:, 1], minlength=k * k).reshape(k, k)
    return AgreementResult(
        model="observe_agreement",
        estimates=estimates_frame([row], level=confidence),
        n_dyads=0,
        n_obs=int((r.matrix >= 0).sum()),
        distinguishable=False,
        roles=[],
        estimation=REFERENCE[method]
        if ci == "jackknife"
        else f"Krippendorff (2011); percentile bootstrap over units ({n_boot} resamples)",
        warnings=emit(warnings),
        level=confidence,
        call=call,
        extra={
            "n_units": n_used,
            "n_coders": len(r.coders),
            "categories": [str(c) for c in r.categories],
            "observed_agreement": observed,
            "level_of_measurement": level,
            "weights": weights,
            "coders": [str(c) for c in r.coders],
            "confusion": confusion,
        },
    )


def _observed_agreement(counts: np.ndarray) -> float:
    r = counts.sum(axis=1)
    ok = r >= 2
    if not ok.any():
        return float("nan")
    pairs = (counts[ok] * (counts[ok] - 1)).sum(axis=1) / (r[ok] * (r[ok] - 1))
    return float(pairs.mean())


def _numeric_values(r: Ratings, level: str, func: str) -> np.ndarray:
    if level in ("interval", "ratio"):
        values = pd.to_numeric(pd.Series(r.categories), errors="coerce")
        if values.isna().any():
            bad = [c for c, v in zip(r.categories, values, strict=True) if pd.isna(v)]
            raise OptionError(
                f"{func}(): level={level!r} needs numeric codes, but {show_ids(bad)} are "
                "not numbers. Use level='nominal' (or 'ordinal' for ordered codes)."
            )
        return values.to_numpy(dtype=float)
    return np.arange(r.n_categories, dtype=float)
