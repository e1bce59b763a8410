"""The report of an analysis plan: the models a study preregistered, run on its data.

A plan is a list of :class:`PlanStep` — a model (``nonindependence``, ``apim``,
``diary``, ``truth_bias``) with its arguments as the Python function takes them. A
study's protocol holds its plan (the ``analysis`` section, checked when the study is
created; :func:`dyadlab.platform.services.analyses.plan_steps` turns it into steps), and
``dyadlab study analyse`` runs it on the study's export. Further steps may be added by
hand: they are marked **not preregistered** in the report.

Every step is fitted by the same code as ``dyadlab report``
(:mod:`dyadlab.report.analysis`): the cross-sectional models on person means when the
data are a diary, each model by role and for all dyads in a mixed study, a section
saying why when a model cannot be fitted.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_apim(60, actor=0.4, partner=0.2, rng=1)
>>> steps = [PlanStep("apim", {"y": "y", "x": "x"}),
...          PlanStep("nonindependence", {"variables": ["y"]}, preregistered=False)]
>>> rep = plan_sections(df, steps, dyad="dyad", person="person", role="role")
>>> [s.title for s in rep.sections]
['Analysis plan', 'Data', 'Plan 1: APIM', 'Not preregistered: Nonindependence']
>>> sorted(rep.results)
['apim', 'nonindependence']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab._validation import check_option
from dyadlab.exceptions import OptionError
from dyadlab.report.analysis import (
    AnalysisReport,
    add_apim,
    add_diary,
    add_nonindependence,
    add_truth_bias,
    prepare_data,
)
from dyadlab.report.html import Provenance, Section, write_report

__all__ = [
    "REPORT_FORMATS",
    "PlanStep",
    "plan_sections",
    "plan_table",
    "report_format_options",
    "write_plan_report",
]

_FUNC = "plan_sections"
#: The report file formats (Word through :func:`dyadlab.report.html.write_report`).
REPORT_FORMATS = ("html", "docx")
_ADD: dict[str, Callable[..., None]] = {
    "nonindependence": add_nonindependence,
    "apim": add_apim,
    "diary": add_diary,
    "truth_bias": add_truth_bias,
}
_VARIABLES = ("y", "x", "variables", "judgment", "truth", "covariates", "moderator", "moderators")

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class PlanStep:
    """One model of a plan.

    Attributes
    ----------
    model : {"nonindependence", "apim", "diary", "truth_bias"}
    arguments : dict
        Its arguments as the function takes them (columns and options), without the
        data and the key columns.
    time : str, optional
        The occasion column of the model's rows (``diary_day``); None for one row per
        person. ``diary`` needs it; the cross-sectional models use person means with it.
    rows : dict, optional
        Column -> value selecting the model's rows (e.g. ``{"questionnaire": "evening"}``).
    name : str, optional
        The results' key (default: the model's name, numbered when it repeats).
    title : str, optional
        Shown in the plan table.
    preregistered : bool
        False for a model added to the plan by hand: its sections say so.
    """

    model: str
    arguments: dict[str, Any] = field(default_factory=dict)
    time: str | None = None
    rows: dict[str, Any] | None = None
    name: str | None = None
    title: str | None = None
    preregistered: bool = True

    def variables(self) -> list[str]:
        """The data columns the step's arguments name."""
        found: list[str] = []
        for arg in _VARIABLES:
            value = self.arguments.get(arg)
            found += [value] if isinstance(value, str) else list(value or [])
        return list(dict.fromkeys(found))

    def describe(self) -> str:
        """The arguments as one line (``y=relationship_satisfaction, x=[desire, conflict]``)."""
        parts = []
        for arg, value in self.arguments.items():
            shown = f"[{', '.join(map(str, value))}]" if isinstance(value, list) else str(value)
            parts.append(f"{arg}={shown}")
        return ", ".join(parts)


def _keys(steps: Sequence[PlanStep]) -> list[str]:
    """Each step's result key: its name, else the model's (numbered when repeated)."""
    keys: list[str] = []
    for step in steps:
        base = step.name or step.model
        key, n = base, 1
        while key in keys:
            n += 1
            key = f"{base}_{n}"
        keys.append(key)
    return keys


def plan_table(steps: Sequence[PlanStep]) -> pd.DataFrame:
    """One row per step: number, model, arguments, rows, preregistered.

    Examples
    --------
    >>> plan_table([PlanStep("diary", {"y": "s", "x": ["d"]}, time="day")]).iloc[0].tolist()[1:]
    ['diary', 'y=s, x=[d]', 'all; occasions in day', 'yes']
    """
    rows = []
    for i, step in enumerate(steps, start=1):
        where = ", ".join(f"{k} = {v}" for k, v in (step.rows or {}).items()) or "all"
        rows.append(
            {
                "#": i,
                "model": step.model + (f" ({step.title})" if step.title else ""),
                "arguments": step.describe(),
                "rows": where + (f"; occasions in {step.time}" if step.time else ""),
                "preregistered": "yes" if step.preregistered else "no",
            }
        )
    return pd.DataFrame(rows, columns=["#", "model", "arguments", "rows", "preregistered"])


def plan_sections(
    data: pd.DataFrame,
    steps: Sequence[PlanStep],
    *,
    dyad: str,
    person: str,
    role: str | None = None,
    plan_text: str = "",
    plan_listing: str = "",
    progress: Progress | None = None,
) -> AnalysisReport:
    """Run every step of a plan on ``data`` and return the report's sections.

    Parameters
    ----------
    data : DataFrame
        Individual format (e.g. a study's export).
    steps : sequence of PlanStep
    dyad, person, role : str
        Key columns.
    plan_text : str
        Text of the first section, above the plan table (e.g. the protocol's hash).
    plan_listing : str
        The plan as written (e.g. the protocol's ``analysis`` section in YAML), shown
        as it is in the first section.
    progress : callable, optional
        Called as ``progress(done, total, what)`` after each step.

    Returns
    -------
    AnalysisReport
        ``sections``: "Analysis plan" (the table of steps), "Data" (one per set of rows
        the steps use), then each step's sections titled "Plan N: …" or
        "Not preregistered: …"; ``results`` by the steps' keys (suffixed ``_by_role``
        and ``_all`` in a mixed study; a diary GLMM's key ends in ``_glmm``).

    Raises
    ------
    OptionError
        An unknown model, a plan without steps, or a step without its required
        arguments.
    DyadicDataError
        A named column does not exist or is not numeric, or a key is missing.
    """
    if not steps:
        raise OptionError(f"{_FUNC}(): the plan has no models; add at least one step.")
    for step in steps:
        check_option("model", step.model, list(_ADD), func=_FUNC)
        if step.model == "diary" and step.time is None:
            raise OptionError(
                f"{_FUNC}(): the diary model needs its occasions; give the step a time "
                "column (PlanStep(..., time='diary_day'))."
            )
    report = AnalysisReport()
    report.sections.append(
        Section(
            "Analysis plan",
            text=plan_text,
            tables=[("Models", plan_table(steps))],
            preformatted=plan_listing,
        )
    )
    # the rows and occasions each step uses; one "Data" section per distinct set
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, step in enumerate(steps):
        groups.setdefault((tuple(sorted((step.rows or {}).items())), step.time), []).append(i)
    frames: dict[int, pd.DataFrame] = {}
    for (rows, time), members in groups.items():
        part = data
        for column, value in rows:
            part = part[part[column].astype(str) == str(value)]
        variables = list(dict.fromkeys(v for i in members for v in steps[i].variables()))
        frame, prepared = prepare_data(
            part.reset_index(drop=True),
            variables,
            dyad=dyad,
            person=person,
            role=role,
            time=time,
            func=_FUNC,
        )
        section = prepared.sections[0]
        if len(groups) > 1:
            where = ", ".join(f"{k} = {v}" for k, v in rows) or "all rows"
            section.title = f"Data: {where}"
        report.sections.append(section)
        report.notes += [n for n in prepared.notes if n not in report.notes]
        for i in members:
            frames[i] = frame
    n_plan = 0
    for i, (step, key) in enumerate(zip(steps, _keys(steps), strict=True)):
        before = len(report.sections)
        keys = {"dyad": dyad, "person": person, "role": role, "time": step.time}
        _ADD[step.model](report, frames[i], key=key, **keys, **step.arguments)
        if step.preregistered:
            n_plan += 1
            mark = f"Plan {n_plan}: "
        else:
            mark = "Not preregistered: "
        for section in report.sections[before:]:
            section.title = mark + section.title
            if not step.preregistered:
                section.text = (
                    "This model is not in the preregistered plan (exploratory).\n\n" + section.text
                ).strip()
        if progress is not None:
            progress(i + 1, len(steps), f"{step.model} ({key})")
    return report


def report_format_options(format: str) -> dict[str, Any]:
    """The keyword arguments of :func:`~dyadlab.report.html.write_report` for ``format``.

    Raises
    ------
    OptionError
        An unknown format.

    Examples
    --------
    >>> report_format_options("docx")
    {'format': 'docx'}
    """
    format = check_option("format", format, REPORT_FORMATS, func="write_plan_report")
    return {"format": format}


def write_plan_report(
    path: str | Path,
    data: pd.DataFrame,
    steps: Sequence[PlanStep],
    *,
    dyad: str,
    person: str,
    role: str | None = None,
    title: str = "dyadlab analysis plan",
    plan_text: str = "",
    plan_listing: str = "",
    provenance: Provenance | None = None,
    before: Sequence[Section] = (),
    after: Sequence[Section] = (),
    figures_dir: str | Path | None = None,
    format: str = "html",
    progress: Progress | None = None,
) -> tuple[Path, AnalysisReport]:
    """Run :func:`plan_sections` and write the report.

    Parameters
    ----------
    path : path
        The report file.
    data, steps, dyad, person, role, plan_text, plan_listing, progress
        As :func:`plan_sections`.
    title : str
    provenance : Provenance, optional
    before, after : sequence of Section
        Extra sections around the plan's.
    figures_dir : path, optional
        Also write every figure there as PNG and SVG.
    format : {"html", "docx"}
        ``docx`` needs a :func:`~dyadlab.report.html.write_report` that writes it.

    Returns
    -------
    (Path, AnalysisReport)

    Raises
    ------
    OptionError
        An unknown ``format``, or ``docx`` where this version cannot write it.

    Examples
    --------
    >>> import dyadlab as dl, tempfile, os
    >>> df = dl.simulate_apim(40, rng=2)
    >>> out, rep = write_plan_report(os.path.join(tempfile.mkdtemp(), "plan.html"), df,
    ...     [PlanStep("apim", {"y": "y", "x": "x"})], dyad="dyad", person="person")
    >>> out.exists(), sorted(rep.results)
    (True, ['apim'])
    """
    options = report_format_options(format)
    report = plan_sections(
        data,
        steps,
        dyad=dyad,
        person=person,
        role=role,
        plan_text=plan_text,
        plan_listing=plan_listing,
        progress=progress,
    )
    sections = [*before, *report.sections, *after]
    out = write_report(
        path, title, sections, provenance=provenance, figures_dir=figures_dir, **options
    )
    return out, report
