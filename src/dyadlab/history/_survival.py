"""Time to a milestone: Kaplan–Meier curves, log-rank test and Cox regression (lifelines).

Needs the ``history`` extra: ``pip install 'dyadlab[history]'`` (lifelines).

Examples
--------
>>> import pandas as pd
>>> import dyadlab as dl
>>> d = pd.DataFrame({"age": [14.0, 15.5, 16.0, 17.0, 18.0], "event": [1, 1, 0, 1, 0]})
>>> res = dl.history.time_to_event(d)
>>> res.survival["survival"].round(3).tolist()
[0.8, 0.6, 0.6, 0.3, 0.3]
"""

from __future__ import annotations

import json
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_range
from dyadlab.exceptions import ConvergenceWarning, DyadicDataError, DyadlabError
from dyadlab.models._result import ESTIMATE_COLUMNS, _fmt, emit, jsonable

__all__ = ["TimeToEventResult", "time_to_event"]

SURVIVAL_COLUMNS = [
    "group",
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "ci_low",
    "ci_high",
]


def _lifelines() -> Any:
    try:
        import lifelines
    except ModuleNotFoundError:  # pragma: no cover - the extra is installed in tests
        raise DyadlabError(
            "time_to_event() needs lifelines: pip install 'dyadlab[history]'."
        ) from None
    return lifelines


@dataclass
class TimeToEventResult:
    """Kaplan–Meier estimates, medians, the log-rank test and Cox estimates.

    Attributes
    ----------
    survival : DataFrame
        ``group, time, n_risk, n_event, n_censor, survival, ci_low, ci_high``: one row
        per distinct time, overall (``group`` None) and per group of ``by``; the
        confidence band is log(−log) (Greenwood), as R's ``survfit(conf.type =
        "log-log")``.
    medians : dict
        Group (``"all"`` and each group) → the median time (None when the curve stays
        above 0.5).
    estimates : DataFrame
        Cox regression, ``effect`` = ``log_hazard_ratio``, one row per covariate
        (categorical covariates as R names them, ``groupb``); empty without covariates.
    tests : list of dict
        ``logrank`` across the groups of ``by``.
    fit : dict
        ``n_persons, n_events``, and for Cox ``loglik`` and ``concordance``.
    """

    survival: pd.DataFrame
    medians: dict[str, float | None]
    estimates: pd.DataFrame
    tests: list[dict[str, Any]]
    fit: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    level: float = 0.95
    call: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``model`` ``history_time_to_event``, ``estimates``, ``survival``,
        ``medians``, ``tests``, ``fit``, ``warnings``."""
        from dyadlab import __version__

        return {
            "model": "history_time_to_event",
            "dyadlab_version": __version__,
            "n_obs": int(self.fit["n_persons"]),
            "estimation": "Kaplan-Meier; Cox partial likelihood (Efron ties)",
            "estimates": jsonable(self.estimates[ESTIMATE_COLUMNS]),
            "survival": jsonable(self.survival),
            "medians": jsonable(self.medians),
            "tests": jsonable(self.tests),
            "variance_components": [],
            "fit": jsonable(self.fit),
            "warnings": list(self.warnings),
            "call": jsonable(self.call),
        }

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(), **kwargs)

    def summary(self) -> str:
        """Readable lines: medians, the log-rank test, the Cox estimates."""
        f = self.fit
        lines = [
            f"dyadlab history time to event — {f['n_persons']} persons, {f['n_events']} "
            f"events ({self.call.get('event', 'event')} at {self.call.get('time', 'time')})",
            "median: " + ", ".join(f"{g} {_fmt(m, 2)}" for g, m in self.medians.items()),
        ]
        for t in self.tests:
            lines.append(
                f"{t['name']}: chi2 = {_fmt(t['statistic'], 2)}, df = {t['df']}, p = {_fmt(t['p'])}"
            )
        if len(self.estimates):
            lines.append(f"Cox regression (log hazard ratios, {self.level:.0%} CI):")
            for r in self.estimates.itertuples(index=False):
                lines.append(
                    f"  {r.predictor}: {_fmt(r.estimate)} (se {_fmt(r.se)}, z "
                    f"{_fmt(r.statistic, 2)}, p {_fmt(r.p)}) [{_fmt(r.ci_low)}, "
                    f"{_fmt(r.ci_high)}]"
                )
            lines.append(
                f"  loglik {_fmt(f.get('loglik'))}, concordance {_fmt(f.get('concordance'))}"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def plot(self, ax: Any = None) -> Any:
        """Kaplan–Meier curves with their confidence bands."""
        from dyadlab.models._result import present

        return present("history_plots", "draw_survival")(self, ax=ax)


def _km_table(kmf: Any, group: str | None) -> pd.DataFrame:
    events = kmf.event_table
    events = events[events["removed"] > 0]
    times = events.index.to_numpy(dtype=float)
    surv = kmf.survival_function_.iloc[:, 0]
    band = kmf.confidence_interval_survival_function_
    return pd.DataFrame(
        {
            "group": group,
            "time": times,
            "n_risk": events["at_risk"].to_numpy(dtype=int),
            "n_event": events["observed"].to_numpy(dtype=int),
            "n_censor": events["censored"].to_numpy(dtype=int),
            "survival": surv.loc[times].to_numpy(dtype=float),
            "ci_low": band.iloc[:, 0].loc[times].to_numpy(dtype=float),
            "ci_high": band.iloc[:, 1].loc[times].to_numpy(dtype=float),
        }
    )


def _median(kmf: Any) -> float | None:
    value = float(kmf.median_survival_time_)
    return value if np.isfinite(value) else None


def _design(frame: pd.DataFrame, covariates: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Numeric covariates as they are; others as R's treatment contrasts (``groupb``)."""
    columns: dict[str, Any] = {}
    for c in covariates:
        values = frame[c]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            columns[c] = values.astype(float)
            continue
        levels = sorted(values.astype(str).unique())
        if len(levels) < 2:
            raise DyadicDataError(
                f"time_to_event(): covariate {c!r} takes one value only; leave it out."
            )
        for level in levels[1:]:
            columns[f"{c}{level}"] = (values.astype(str) == level).astype(float)
    design = pd.DataFrame(columns, index=frame.index)
    return design, list(design.columns)


def time_to_event(
    data: pd.DataFrame,
    *,
    time: str = "age",
    event: str = "event",
    covariates: Sequence[str] = (),
    by: str | None = None,
    level: float = 0.95,
) -> TimeToEventResult:
    """Kaplan–Meier curves, a log-rank test and Cox regression of a time to an event.

    Parameters
    ----------
    data : DataFrame
        One row per person, e.g. from :func:`event_ages`.
    time : str
        The time column (an age, or a duration) — non-negative numbers.
    event : str
        1 (or True) if the event happened at ``time``, 0 if the person was still without
        it then (censored).
    covariates : sequence of str
        Cox regression predictors; a non-numeric column is coded as R codes a factor
        (its first level, alphabetically, is the reference; ``groupb``).
    by : str, optional
        A grouping column: Kaplan–Meier curves per group and the log-rank test.
    level : float
        Confidence level of the bands and intervals.

    Returns
    -------
    TimeToEventResult
        ``.survival``, ``.medians``, ``.estimates`` (Cox), ``.tests`` (log-rank),
        ``.fit``, ``.warnings``.

    Raises
    ------
    DyadicDataError
        Missing columns, negative or non-numeric times, events other than 0/1, no
        events at all.

    Notes
    -----
    Kaplan–Meier estimates with Greenwood's variance and a log(−log) band
    (lifelines' ``KaplanMeierFitter``); Cox partial likelihood with Efron's handling
    of ties (lifelines' ``CoxPHFitter``); the log-rank test of equal survival across
    groups (``multivariate_logrank_test``). Reproduces R's
    ``survival::survfit(Surv(time, event) ~ 1, conf.type = "log-log")``,
    ``coxph(Surv(time, event) ~ x + group, ties = "efron")`` and ``survdiff`` (tests
    in tests/history/test_survival.py against tests/reference/history.R). Rows with a
    missing value in the columns used are left out and counted in ``.warnings``.

    References
    ----------
    Kaplan, E. L., & Meier, P. (1958). Nonparametric estimation from incomplete
    observations. *JASA*, 53, 457–481. Cox, D. R. (1972). Regression models and
    life-tables. *JRSS B*, 34, 187–220. Davidson-Pilon, C. (2019). lifelines: survival
    analysis in Python. *JOSS*, 4(40), 1317.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"age": [14, 15, 16, 17, 18, 19], "event": [1, 1, 0, 1, 1, 0],
    ...                   "g": list("aabbab")})
    >>> res = time_to_event(d, by="g")
    >>> res.tests[0]["name"], res.medians["all"]
    ('logrank', 17.0)
    """
    func = "time_to_event"
    check_range("level", level, func=func, low=0, high=1, inclusive=False)
    covariates = list(covariates)
    used = [time, event, *covariates, *([by] if by else [])]
    check_columns(data, used, func=func)
    frame = data[list(dict.fromkeys(used))]
    complete = frame.notna().all(axis=1)
    notes = []
    if not complete.all():
        n = int((~complete).sum())
        notes.append(
            f"{func}(): {n} row{'s' if n > 1 else ''} with a missing value in "
            f"{', '.join(used)} {'were' if n > 1 else 'was'} left out."
        )
        frame = frame[complete]
    times = pd.to_numeric(frame[time], errors="coerce")
    if times.isna().any() or (times < 0).any():
        raise DyadicDataError(
            f"{func}(): column {time!r} must hold non-negative numbers (ages or durations)."
        )
    raw = frame[event]
    events = raw.astype(float) if pd.api.types.is_bool_dtype(raw) else pd.to_numeric(raw, "coerce")
    if not events.isin([0, 1]).all():
        raise DyadicDataError(
            f"{func}(): column {event!r} must be 1 (the event happened) or 0 (censored)."
        )
    if events.sum() == 0:
        raise DyadicDataError(f"{func}(): no row has {event} = 1; there is no event to time.")
    lifelines = _lifelines()
    alpha = 1 - level
    kmf = lifelines.KaplanMeierFitter(alpha=alpha).fit(times, events)
    tables = [_km_table(kmf, None)]
    medians: dict[str, float | None] = {"all": _median(kmf)}
    tests: list[dict[str, Any]] = []
    if by:
        groups = frame[by].astype(str)
        for g in sorted(groups.unique()):
            mine = (groups == g).to_numpy()
            k = lifelines.KaplanMeierFitter(alpha=alpha).fit(times[mine], events[mine])
            tables.append(_km_table(k, g))
            medians[g] = _median(k)
        if groups.nunique() > 1:
            from lifelines.statistics import multivariate_logrank_test

            lr = multivariate_logrank_test(times, groups, events)
            tests.append(
                {
                    "name": "logrank",
                    "statistic": float(lr.test_statistic),
                    "df": int(lr.degrees_of_freedom),
                    "p": float(lr.p_value),
                }
            )
    fit: dict[str, Any] = {"n_persons": len(frame), "n_events": int(events.sum())}
    rows = []
    cox_notes: list[str] = []
    if covariates:
        design, names = _design(frame, covariates)
        design["_time"], design["_event"] = times.to_numpy(), events.to_numpy()
        cph = lifelines.CoxPHFitter(alpha=alpha)
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            try:
                cph.fit(design, duration_col="_time", event_col="_event")
            except lifelines.exceptions.ConvergenceError as exc:
                raise DyadicDataError(
                    f"{func}(): the Cox regression did not converge ({str(exc).splitlines()[0]}"
                    "); a covariate may separate those with and without the event, or "
                    "vary too little. Leave it out or merge its rare values."
                ) from None
        trouble = sorted({str(w.message).split(". ")[0].strip().rstrip(".") for w in caught})
        cox_notes = [
            f"{func}(): the Cox regression may not be trustworthy: {m} (lifelines); a "
            "covariate may separate those with and without the event."
            for m in trouble
        ]
        s = cph.summary
        for name in names:
            r = s.loc[name]
            rows.append(
                {
                    "effect": "log_hazard_ratio",
                    "predictor": name,
                    "role": None,
                    "estimate": float(r["coef"]),
                    "se": float(r["se(coef)"]),
                    "statistic": float(r["z"]),
                    "df": None,
                    "p": float(r["p"]),
                    "ci_low": float(
                        r.iloc[list(s.columns).index("coef lower %g%%" % (level * 100))]
                    ),
                    "ci_high": float(
                        r.iloc[list(s.columns).index("coef upper %g%%" % (level * 100))]
                    ),
                }
            )
        fit["loglik"] = float(cph.log_likelihood_)
        fit["concordance"] = float(cph.concordance_index_)
    estimates = pd.DataFrame(rows, columns=ESTIMATE_COLUMNS)
    return TimeToEventResult(
        survival=pd.concat(tables, ignore_index=True)[SURVIVAL_COLUMNS],
        medians=medians,
        estimates=estimates,
        tests=tests,
        fit=fit,
        warnings=emit(notes) + (emit(cox_notes, ConvergenceWarning) if covariates else []),
        level=level,
        call={"time": time, "event": event, "covariates": covariates, "by": by, "level": level},
    )
