"""The report section of a binary or count diary outcome (the dyadic GLMM).

:func:`glmm_sections` fits :func:`dyadlab.diary` with a non-Gaussian ``family`` the way
:func:`dyadlab.report.analysis.analysis_sections` fits the other analyses: yes/no answers
coded 1/0, by role on the dyads with two roles and for indistinguishable dyads on all
dyads in a mixed study, a section saying why when a model cannot be fitted. Each section
holds the estimates (log-odds or log-rates), the odds or rate ratios, the variance
components and the plot of predicted probabilities (or counts) per role.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_diary(40, 10, rng=1)
>>> df["y"] = (df["y"] > df["y"].median()).astype(int)
>>> rep = glmm_sections(df, y="y", x="x", dyad="dyad", person="person", time="time",
...                     role="role")
>>> [s.title for s in rep.sections]
['Diary GLMM: y (binomial)']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import pandas as pd

from dyadlab.report.analysis import (
    AnalysisReport,
    _as_list,
    _attempt,
    _groups,
    _plot_figures,
    code_yes_no,
)

__all__ = ["glmm_sections"]


def glmm_sections(
    data: pd.DataFrame,
    *,
    y: str,
    x: str | Sequence[str],
    dyad: str,
    person: str,
    time: str,
    role: str | None = None,
    family: str = "binomial",
    key: str = "diary_glmm",
    labels: Mapping[Any, str] | None = None,
    **options: Any,
) -> AnalysisReport:
    """Fit the diary GLMM of ``y`` and return its report sections (one per group).

    Parameters
    ----------
    data : DataFrame
        Individual format, one row per person-occasion.
    y : str
        The 0/1 (or yes/no) or count outcome.
    x : str or list of str
        Daily predictors (yes/no columns are coded 1/0).
    dyad, person, time, role : str
        Key columns, as :func:`dyadlab.diary`.
    family : {"binomial", "poisson", "negative_binomial"}
    key : str
        The results' key (suffixed ``_by_role`` and ``_all`` in a mixed study).
    labels : mapping, optional
        Display names for roles and variables in the tables (``{-1: "wife"}``).
    **options
        Passed to :func:`dyadlab.diary` (``center``, ``covariates`` …).

    Returns
    -------
    AnalysisReport
        ``sections``, ``results`` (keys ``diary_glmm``, or ``diary_glmm_by_role`` and
        ``diary_glmm_all`` in a mixed study) and ``notes`` (the yes/no coding).
    """
    import dyadlab as dl

    xs = _as_list(x)
    frame, notes = code_yes_no(data, [y, *xs])
    report = AnalysisReport(notes=notes)
    scale = "log-odds" if family == "binomial" else "log-rate"
    for suffix, label, part, part_role in _groups(frame, dyad, role):
        _attempt(
            report,
            f"{key}{suffix}",
            f"Diary GLMM: {y} ({family}){label}",
            f"Daily {y} on the person's own and the partner's {', '.join(xs)}: the dyadic "
            f"GLMM with the partners' correlated random intercepts (Laplace, as lme4::glmer); "
            f"estimates on the {scale} scale." + (f" {' '.join(notes)}." if notes else ""),
            partial(
                dl.diary,
                part,
                y=y,
                x=xs,
                dyad=dyad,
                person=person,
                time=time,
                role=part_role,
                family=family,
                **options,
            ),
            partial(_plot_figures, title=f"Predicted {y}{label}"),
            labels,
        )
    return report
