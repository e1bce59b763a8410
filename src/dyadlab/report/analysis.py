"""The report of the analyses that fit a data set: what ``dyadlab report`` writes.

Given individual-format data and which columns are what, :func:`analysis_sections`
runs every dyadic analysis the columns allow and turns each result into a report
:class:`~dyadlab.report.html.Section`:

- **nonindependence** of the outcome and the predictors (on person means when the data
  are a diary);
- the **APIM** (cross-sectional data), or the APIM on person means and the **diary
  APIM** (``time`` given), with the path diagram and a few couples' trajectories;
- **truth and bias** when a judgment of the partner and its truth are named.

With a ``role`` column that splits every dyad, the dyads are distinguishable. In a mixed
study (some dyads with two roles, e.g. man–woman couples, others without, e.g. same-sex
couples) each analysis is run twice: by role on the dyads with two roles, and for
indistinguishable dyads on all dyads; the report says how many dyads each used. Yes/no
answers (as the platform exports them) are coded 1/0, and the report says so. An
analysis that cannot be fitted gets a section saying why; nothing is left out silently.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.simulate_apim(60, actor=0.4, partner=0.2, rng=1)
>>> rep = analysis_sections(df, dyad="dyad", person="person", role="role", y="y", x="x")
>>> [s.title for s in rep.sections]
['Data', 'Nonindependence', 'APIM']
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import check_columns, check_numeric, check_option
from dyadlab.data.checks import check_dyads, check_keys, check_not_empty
from dyadlab.exceptions import DyadlabError, DyadlabWarning, OptionError
from dyadlab.report.apa_table import apa_table
from dyadlab.report.html import Figure, Provenance, Section, figure_from_matplotlib, write_report
from dyadlab.report.methods import methods_paragraph

__all__ = [
    "AnalysisReport",
    "add_apim",
    "add_diary",
    "add_nonindependence",
    "add_truth_bias",
    "analysis_sections",
    "prepare_data",
    "role_labels",
    "write_analysis_report",
]

_FUNC = "analysis_sections"


@dataclass
class AnalysisReport:
    """Sections of a report, the fitted results by name, and notes on the data."""

    sections: list[Section] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def code_yes_no(data: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    """Code text yes/no columns as 1/0 (missing stays missing); return notes on what changed.

    Examples
    --------
    >>> df = pd.DataFrame({"conflict": ["yes", "no", None]})
    >>> out, notes = code_yes_no(df, ["conflict"])
    >>> out["conflict"].tolist()[:2], notes
    ([1.0, 0.0], ['conflict: yes = 1, no = 0'])
    """
    out = data.copy()
    notes = []
    for col in columns:
        if col not in out.columns or pd.api.types.is_numeric_dtype(out[col]):
            continue
        values = out[col].dropna().astype(str).str.strip().str.lower()
        if len(values) and values.isin(["yes", "no"]).all():
            mapped = (
                out[col]
                .astype("object")
                .map(lambda v: np.nan if pd.isna(v) else float(str(v).strip().lower() == "yes"))
            )
            out[col] = mapped.astype(float)
            notes.append(f"{col}: yes = 1, no = 0")
    return out, notes


def _split_dyads(data: pd.DataFrame, dyad: str, role: str | None) -> tuple[list[Any], list[Any]]:
    """Dyads whose two members have two different roles, and the other dyads."""
    if role is None:
        return [], list(pd.unique(data[dyad]))
    roles = data[role].astype("object").where(data[role].notna() & (data[role] != ""), None)
    n_roles = roles.groupby(data[dyad], sort=False).nunique()
    has_missing = roles.isna().groupby(data[dyad], sort=False).any()
    ok = n_roles.index[(n_roles == 2) & ~has_missing]
    return list(ok), [d for d in n_roles.index if d not in set(ok)]


def _person_means(
    data: pd.DataFrame, columns: list[str], *, dyad: str, person: str, role: str | None
) -> pd.DataFrame:
    keys = [dyad, person] + ([role] if role else [])
    frame = data[keys + columns].copy()
    if role:
        frame[role] = frame[role].astype("object").where(frame[role].notna(), "")
    means = frame.groupby(keys, sort=False, dropna=False)[columns].mean().reset_index()
    if role:
        means[role] = means[role].where(means[role] != "", None)
    return means


def _plot_figures(result: Any, *, title: str, caption: str = "", **options: Any) -> list[Figure]:
    """The result's plot as a report figure."""
    return [figure_from_matplotlib(result.plot(**options), title, caption=caption)]


def _path_diagrams(
    result: Any,
    *,
    predictors: list[str],
    label: str,
    labels: Mapping[Any, str] | None = None,
    data: pd.DataFrame | None = None,
) -> list[Figure]:
    """One APIM path diagram per predictor (with β when ``data`` is given)."""
    return [
        figure_from_matplotlib(
            result.plot(predictor=x, labels=labels, data=data),
            f"APIM path diagram, {x}{label}"
            if len(predictors) > 1
            else f"APIM path diagram{label}",
        )
        for x in predictors
    ]


def _blank_none(frame: pd.DataFrame) -> pd.DataFrame:
    """None in text columns (e.g. the role of pooled effects) shown like a missing value."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].where(out[col].notna(), np.nan)
    return out


def _result_section(
    title: str,
    result: Any,
    text: str,
    figures: list[Figure],
    labels: Mapping[Any, str] | None = None,
    data: pd.DataFrame | None = None,
) -> Section:
    """A model's section: its APA table (every number once), figures and methods; with
    ``data``, the table adds the standardised effects (β)."""
    methods, references = methods_paragraph(result, labels=labels)
    lines = [text] if text else []
    if result.warnings:
        lines.append("Warnings: " + " ".join(str(w) for w in result.warnings))
    return Section(
        title=title,
        text="\n\n".join(lines),
        apa=[apa_table(result, labels=labels, data=data)],
        figures=figures,
        methods=methods,
        references=references,
    )


def _attempt(
    report: AnalysisReport,
    key: str,
    title: str,
    text: str,
    fit: Callable[[], Any],
    plot: Callable[[Any], list[Figure]] | None = None,
    labels: Mapping[Any, str] | None = None,
    data: pd.DataFrame | None = None,
) -> None:
    try:
        with warnings.catch_warnings():
            # The model's warnings are kept in result.warnings and shown in the section.
            warnings.simplefilter("ignore", DyadlabWarning)
            result = fit()
    except DyadlabError as exc:
        report.sections.append(Section(title=title, text=f"{text}\n\nNot fitted: {exc}"))
        return
    except np.linalg.LinAlgError as exc:
        # A model that fails numerically (e.g. too few dyads) is reported, not hidden.
        report.sections.append(
            Section(title=title, text=f"{text}\n\nNot fitted: numerical failure ({exc}).")
        )
        return
    report.results[key] = result
    figures: list[Figure] = []
    if plot is not None:
        try:
            figures = plot(result)
        except (DyadlabError, np.linalg.LinAlgError) as exc:
            text = f"{text}\n\nNo figure: {exc}" if text else f"No figure: {exc}"
    report.sections.append(_result_section(title, result, text, figures, labels, data))


def _groups(
    data: pd.DataFrame, dyad: str, role: str | None
) -> list[tuple[str, str, pd.DataFrame, str | None]]:
    """(key suffix, label, data, role) for each way to analyse the dyads."""
    with_roles, without = _split_dyads(data, dyad, role)
    if role is None or not with_roles:
        return [("", "", data, None)]
    if not without:
        return [("", "", data, role)]
    subset = data[data[dyad].isin(with_roles)]
    return [
        ("_by_role", f" — {len(with_roles)} dyads with roles, by {role}", subset, role),
        ("_all", f" — all {len(with_roles) + len(without)} dyads, indistinguishable", data, None),
    ]


def analysis_sections(
    data: pd.DataFrame,
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    y: str | None = None,
    x: str | Sequence[str] | None = None,
    judgment: str | None = None,
    truth: str | None = None,
    trajectories: int = 6,
    family: str = "gaussian",
    labels: Mapping[Any, str] | None = None,
) -> AnalysisReport:
    """Run the dyadic analyses that fit ``data`` and return report sections.

    Parameters
    ----------
    data : DataFrame
        Individual format: one row per person, or per person-occasion with ``time``.
    dyad, person, role, time : str
        Key columns (``person`` is required with ``time``).
    y : str, optional
        Outcome; with ``x``, the APIM (and the diary APIM with ``time``).
    x : str or list of str, optional
        Predictor(s).
    judgment, truth : str, optional
        A judgment of the partner and the same attribute reported about oneself; both
        together give the truth-and-bias model.
    trajectories : int
        Couples drawn in the diary trajectories plot.
    family : {"gaussian", "binomial", "poisson", "negative_binomial"}
        The diary outcome's distribution: with another than ``"gaussian"`` (and
        ``time``), the diary section is the dyadic GLMM of
        :func:`dyadlab.report.glmm_section.glmm_sections` instead of the diary APIM.
    labels : mapping, optional
        Display names for roles and variables in tables and path diagrams, e.g.
        ``{-1: "wife", 1: "husband"}``. Default: the value labels of the ``role``
        column kept in ``data.attrs["value_labels"]`` (SPSS, Stata, platform exports).

    Returns
    -------
    AnalysisReport
        ``sections`` (a data summary, then one section per analysis and group),
        ``results`` (the fitted result objects by name) and ``notes``.

    Raises
    ------
    OptionError
        Nothing to analyse (no ``y``/``x`` and no ``judgment``/``truth``), only one of a
        pair given, ``time`` without ``person``, or a ``family`` other than gaussian
        without ``time`` and ``y``.
    DyadicDataError
        A named column does not exist, a variable is not numeric (after yes/no coding),
        a key is missing, or a dyad holds more than two persons (or duplicate rows).
    """
    xs = _as_list(x)
    if (y is None) != (not xs):
        raise OptionError(f"{_FUNC}(): give both y and x (the APIM), or neither.")
    if (judgment is None) != (truth is None):
        raise OptionError(f"{_FUNC}(): give both judgment and truth (truth and bias), or neither.")
    if y is None and judgment is None:
        raise OptionError(
            f"{_FUNC}(): nothing to analyse; give y and x (APIM), judgment and truth "
            "(truth and bias), or both."
        )
    if time is not None and person is None:
        raise OptionError(f"{_FUNC}(): time needs person (the person id column) as well.")
    family = check_option(
        "family", family, ["gaussian", "binomial", "poisson", "negative_binomial"], func=_FUNC
    )
    if family != "gaussian" and (time is None or y is None):
        raise OptionError(
            f"{_FUNC}(): family={family!r} is for a diary outcome; give time and y as well, "
            "or leave family out."
        )
    variables = list(dict.fromkeys([v for v in [y, *xs, judgment, truth] if v is not None]))
    frame, report = prepare_data(
        data, variables, dyad=dyad, person=person, role=role, time=time, func=_FUNC
    )
    if labels is None:
        labels = role_labels(data, role)
    keys: dict[str, Any] = {"dyad": dyad, "person": person, "role": role, "time": time}
    add_nonindependence(report, frame, variables=variables, labels=labels, **keys)
    if y is not None:
        add_apim(report, frame, y=y, x=xs, labels=labels, **keys)
    if y is not None and time is not None:
        add_diary(
            report,
            frame,
            y=y,
            x=xs,
            family=family,
            trajectories=trajectories,
            labels=labels,
            **keys,
        )
    if judgment is not None and truth is not None:
        add_truth_bias(report, frame, judgment=judgment, truth=truth, labels=labels, **keys)
    return report


def role_labels(data: pd.DataFrame, role: str | None) -> dict[Any, str] | None:
    """The value labels of the ``role`` column kept in ``data.attrs["value_labels"]``
    (SPSS, Stata, platform exports), or None.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"role": [-1, 1]})
    >>> d.attrs["value_labels"] = {"role": {-1: "wife", 1: "husband"}}
    >>> role_labels(d, "role")
    {-1: 'wife', 1: 'husband'}
    """
    if role is None:
        return None
    stored = data.attrs.get("value_labels") or {}
    return dict(stored.get(role) or {}) or None


def prepare_data(
    data: pd.DataFrame,
    variables: Sequence[str],
    *,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    func: str = _FUNC,
) -> tuple[pd.DataFrame, AnalysisReport]:
    """Check ``data`` once for a whole report; code yes/no as 1/0; the "Data" section.

    Returns the frame to analyse (``variables`` as floats) and a report holding the
    "Data" section and the notes on coding.

    Examples
    --------
    >>> import dyadlab as dl
    >>> frame, rep = prepare_data(dl.simulate_apim(10, rng=1), ["y", "x"], dyad="dyad")
    >>> [s.title for s in rep.sections], frame["y"].dtype
    (['Data'], dtype('float64'))
    """
    variables = list(variables)
    keys = [k for k in (dyad, person, role, time) if k is not None]
    check_not_empty(data, func=func)
    check_columns(data, [*keys, *variables], func=func)
    # the checks of the model functions, once for the whole report (one line each)
    check_keys(data, dyad=dyad, person=person, time=time, func=func)
    frame, notes = code_yes_no(data, variables)
    check_numeric(frame, variables, func=func)
    for v in variables:
        frame[v] = pd.to_numeric(frame[v], errors="coerce").astype(float)
    check_dyads(frame, dyad=dyad, person=person, time=time, allow_incomplete=True, func=func)
    report = AnalysisReport(notes=notes)
    n_dyads = frame[dyad].nunique()
    summary = [f"{len(frame)} rows, {n_dyads} dyads" + (f", occasions in {time!r}" if time else "")]
    with_roles, without = _split_dyads(frame, dyad, role)
    if role is not None:
        summary.append(
            f"{len(with_roles)} dyads have two roles in {role!r}; {len(without)} do not"
            + (" (analysed as indistinguishable dyads)." if without else ".")
        )
    summary += notes
    missing = frame[variables].isna().sum()
    described = frame[variables].describe().T.reset_index(names="variable")
    described.insert(1, "missing", missing.to_numpy())
    report.sections.append(Section("Data", text="\n\n".join(summary), tables=[("", described)]))
    return frame, report


def _levels(
    frame: pd.DataFrame,
    variables: list[str],
    *,
    dyad: str,
    person: str | None,
    role: str | None,
    time: str | None,
) -> tuple[pd.DataFrame, str]:
    """The data of a cross-sectional model: person means when the data are a diary."""
    if time is None:
        return frame, ""
    assert person is not None  # time needs person (checked by the callers)
    means = _person_means(frame, variables, dyad=dyad, person=person, role=role)
    return means, "On each person's mean over their answered occasions."


def add_nonindependence(
    report: AnalysisReport,
    frame: pd.DataFrame,
    *,
    variables: Sequence[str],
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    key: str = "nonindependence",
    title: str = "Nonindependence",
    labels: Mapping[Any, str] | None = None,
    **options: Any,
) -> None:
    """Add the nonindependence section(s) of ``variables`` (on person means in a diary);
    ``options`` go to :func:`dyadlab.nonindependence`."""
    import dyadlab as dl

    variables = _as_list(variables)
    extra = _as_list(options.get("covariates"))
    part_data, text = _levels(
        frame, [*variables, *extra], dyad=dyad, person=person, role=role, time=time
    )
    for suffix, label, part, part_role in _groups(part_data, dyad, role):
        _attempt(
            report,
            f"{key}{suffix}",
            f"{title}{label}",
            text,
            partial(
                dl.nonindependence,
                part,
                variables=variables,
                dyad=dyad,
                person=person,
                role=part_role,
                **options,
            ),
            labels=labels,
        )


def add_apim(
    report: AnalysisReport,
    frame: pd.DataFrame,
    *,
    y: str,
    x: str | Sequence[str],
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    key: str = "apim",
    title: str | None = None,
    labels: Mapping[Any, str] | None = None,
    **options: Any,
) -> None:
    """Add the APIM section(s) with path diagrams (on person means in a diary);
    ``options`` go to :func:`dyadlab.apim`."""
    import dyadlab as dl

    xs = _as_list(x)
    extra = _as_list(options.get("covariates")) + _as_list(options.get("moderator"))
    part_data, text = _levels(
        frame, [y, *xs, *extra], dyad=dyad, person=person, role=role, time=time
    )
    title = title or ("APIM on person means" if time is not None else "APIM")
    for suffix, label, part, part_role in _groups(part_data, dyad, role):
        _attempt(
            report,
            f"{key}{suffix}",
            f"{title}{label}",
            text,
            partial(dl.apim, part, y=y, x=xs, dyad=dyad, person=person, role=part_role, **options),
            partial(_path_diagrams, predictors=xs, label=label, labels=labels, data=part),
            labels,
            part,
        )


def add_diary(
    report: AnalysisReport,
    frame: pd.DataFrame,
    *,
    y: str,
    x: str | Sequence[str],
    dyad: str,
    person: str,
    time: str,
    role: str | None = None,
    family: str = "gaussian",
    trajectories: int = 6,
    key: str = "diary",
    title: str = "Diary APIM",
    labels: Mapping[Any, str] | None = None,
    **options: Any,
) -> None:
    """Add the diary APIM section(s) with the trajectories plot, or with another
    ``family`` the dyadic GLMM's (:func:`dyadlab.report.glmm_section.glmm_sections`);
    ``options`` go to :func:`dyadlab.diary`."""
    import dyadlab as dl

    xs = _as_list(x)
    if family != "gaussian":
        from dyadlab.report.glmm_section import glmm_sections

        glmm = glmm_sections(
            frame,
            y=y,
            x=xs,
            dyad=dyad,
            person=person,
            time=time,
            role=role,
            family=family,
            key=f"{key}_glmm",
            labels=labels,
            **options,
        )
        report.sections += glmm.sections
        report.results.update(glmm.results)
        return
    for suffix, label, part, part_role in _groups(frame, dyad, role):
        _attempt(
            report,
            f"{key}{suffix}",
            f"{title}{label}",
            f"Daily {y} on the person's own and the partner's {', '.join(xs)} "
            "(two-intercept multilevel APIM).",
            partial(
                dl.diary,
                part,
                y=y,
                x=xs,
                dyad=dyad,
                person=person,
                time=time,
                role=part_role,
                **options,
            ),
            # The trajectories show data, not the fit: drawn once.
            partial(
                _plot_figures,
                title="Diary trajectories",
                caption=f"Daily {y} of up to {trajectories} couples, one line per partner.",
                max_dyads=trajectories,
            )
            if suffix in ("", "_by_role")
            else None,
            labels,
            part,
        )


def add_truth_bias(
    report: AnalysisReport,
    frame: pd.DataFrame,
    *,
    judgment: str,
    truth: str,
    dyad: str,
    person: str | None = None,
    role: str | None = None,
    time: str | None = None,
    key: str = "truth_bias",
    title: str = "Truth and bias",
    labels: Mapping[Any, str] | None = None,
    **options: Any,
) -> None:
    """Add the truth-and-bias section(s) with their plot; ``options`` go to
    :func:`dyadlab.truth_bias`."""
    import dyadlab as dl

    for suffix, label, part, part_role in _groups(frame, dyad, role):
        _attempt(
            report,
            f"{key}{suffix}",
            f"{title}{label}",
            f"{judgment} (the judgment of the partner) on the partner's {truth} (truth "
            f"force) and the judge's own {truth} (assumed similarity), centred on the "
            f"mean of {truth}; the intercept is the directional bias.",
            partial(
                dl.truth_bias,
                part,
                judgment=judgment,
                truth=truth,
                dyad=dyad,
                person=person,
                time=time,
                role=part_role,
                **options,
            ),
            partial(_plot_figures, title=f"{title}{label}"),
            labels,
        )


def write_analysis_report(
    path: str | Path,
    data: pd.DataFrame,
    *,
    data_path: str | Path | None = None,
    call: str = "",
    title: str = "dyadlab report",
    figures_dir: str | Path | None = None,
    before: Sequence[Section] = (),
    after: Sequence[Section] = (),
    format: str | None = None,
    **columns: Any,
) -> tuple[Path, AnalysisReport]:
    """Run :func:`analysis_sections` and write one report (HTML, Word, LaTeX or Markdown).

    Parameters
    ----------
    path : path
        The report file.
    data : DataFrame
    data_path : path, optional
        The data file, whose SHA-256 the report states.
    call : str
        The call that made the report (shown in the footer).
    title : str
    figures_dir : path, optional
        Also write every figure there as PNG and SVG.
    before, after : sequence of Section
        Extra sections around the analyses.
    format : {"html", "docx", "tex", "md"}, optional
        Default: from the suffix of ``path``, else HTML (see
        :func:`dyadlab.report.html.write_report`).
    **columns
        Passed to :func:`analysis_sections` (``dyad``, ``person``, ``y``, ``x`` …).

    Returns
    -------
    (Path, AnalysisReport)

    Examples
    --------
    >>> import dyadlab as dl, tempfile, os
    >>> df = dl.simulate_apim(40, rng=2)
    >>> out, rep = write_analysis_report(os.path.join(tempfile.mkdtemp(), "r.html"), df,
    ...     dyad="dyad", person="person", role="role", y="y", x="x")
    >>> out.exists(), sorted(rep.results)
    (True, ['apim', 'nonindependence'])
    """
    from dyadlab.report.html import file_sha256

    report = analysis_sections(data, **columns)
    provenance = Provenance(
        call=call,
        data_sha256=file_sha256(data_path) if data_path is not None else None,
        data_name=Path(data_path).name if data_path is not None else None,
    )
    sections = [*before, *report.sections, *after]
    out = write_report(
        path, title, sections, provenance=provenance, figures_dir=figures_dir, format=format
    )
    return out, report
