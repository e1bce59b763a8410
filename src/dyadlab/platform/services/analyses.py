"""Run a study's preregistered analysis plan on its data and write the report.

:func:`analyse_study` is what ``dyadlab study analyse`` and the researcher's "Analyses"
page run: it exports the study's data with :func:`~dyadlab.platform.services.export.
export_study` (the code behind ``dyadlab export``, individual format, CSV), turns the
protocol's ``analysis`` section into :class:`~dyadlab.report.plan.PlanStep` s
(:func:`plan_steps`), runs them with :func:`dyadlab.report.plan.write_plan_report` and
writes the report. The report's first section gives the protocol's hash and the study's
creation time, so the plan it ran is provably the plan registered when the study was
created; models added by hand (``extra``) are checked like the plan and marked "not
preregistered". Its callers write every run to the audit log (action ``analyse``), as
they do every export.

Each model's rows are its questionnaire's (the plan checks that a model's items share
one questionnaire, scheduled daily or at random); its occasions are ``diary_day`` for a
daily questionnaire and ``occasion`` for random prompts.

Examples
--------
>>> result = analyse_study(session, 1, out="report.html")  # doctest: +SKIP
>>> result.protocol_hash == study.protocol_hash  # doctest: +SKIP
True
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from dyadlab.exceptions import DyadlabError, ProtocolError
from dyadlab.platform.services.studies import get_study, study_protocol
from dyadlab.platform.tables import utcnow

if TYPE_CHECKING:
    from dyadlab.platform.protocol import Protocol
    from dyadlab.report.plan import PlanStep

__all__ = [
    "AnalyseResult",
    "analyse_study",
    "check_extra",
    "plan_listing",
    "plan_steps",
    "plan_text",
]

Progress = Callable[[int, int, str], None]


def _questionnaire_of(protocol: Protocol, entry: Mapping[str, Any]) -> str | None:
    """The questionnaire of the entry's items (the plan's checks make it one)."""
    from dyadlab.platform._analysis_plan import PLAN_MODELS

    names = {i.name: q.name for q in protocol.questionnaires for i in q.items}
    spec = PLAN_MODELS.get(str(entry.get("model")), {})
    for arg, kind in spec.items():
        value = entry.get(arg)
        if kind in ("item", "items") and value:
            first = value if isinstance(value, str) else value[0]
            return names.get(first)
    return None


def plan_steps(
    protocol: Protocol,
    entries: Sequence[Mapping[str, Any]] | None = None,
    *,
    preregistered: bool = True,
) -> list[PlanStep]:
    """The protocol's plan (or ``entries``, already checked) as report steps.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> [(s.model, s.time, s.rows) for s in plan_steps(example_protocol())][:1]
    [('nonindependence', 'diary_day', {'questionnaire': 'evening'})]
    """
    from dyadlab.report.plan import PlanStep

    steps = []
    for entry in protocol.analysis if entries is None else entries:
        questionnaire = _questionnaire_of(protocol, entry)
        schedule = protocol.schedule_entry(questionnaire) if questionnaire else None
        time = "occasion" if schedule is not None and schedule.type == "random" else "diary_day"
        arguments = {k: v for k, v in entry.items() if k not in ("model", "name", "title")}
        steps.append(
            PlanStep(
                model=str(entry["model"]),
                arguments=arguments,
                time=time,
                rows={"questionnaire": questionnaire} if questionnaire else None,
                name=entry.get("name"),
                title=entry.get("title"),
                preregistered=preregistered,
            )
        )
    return steps


def check_extra(protocol: Protocol, extra: Any) -> list[dict[str, Any]]:
    """Check models added by hand exactly as a protocol's plan; return them cleaned.

    Raises
    ------
    ProtocolError
        Naming the model (``extra[0].y: there is no item …``).
    """
    from dyadlab.platform.protocol import parse_protocol

    if not extra:
        return []
    try:
        checked = parse_protocol({**protocol.to_dict(), "analysis": extra})
    except ProtocolError as exc:
        raise ProtocolError(str(exc).replace("analysis", "extra", 1)) from None
    return list(checked.analysis)


@dataclass
class AnalyseResult:
    """What :func:`analyse_study` wrote and found."""

    study_id: int
    report: Path
    format: str
    protocol_hash: str
    study_created: datetime
    exported_at: datetime
    n_rows: int
    models: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of ``dyadlab study analyse --json``."""
        return {
            "study_id": self.study_id,
            "report": str(self.report),
            "format": self.format,
            "protocol_hash": self.protocol_hash,
            "study_created": self.study_created.isoformat(),
            "exported_at": self.exported_at.isoformat(),
            "rows": self.n_rows,
            "models": self.models,
            "results": {key: result.to_dict() for key, result in self.results.items()},
        }


def plan_listing(protocol: Protocol, extra: Sequence[Mapping[str, Any]] = ()) -> str:
    """The protocol's ``analysis`` section as YAML, and the models added by hand.

    Examples
    --------
    >>> from dyadlab.platform.protocol import example_protocol
    >>> print(plan_listing(example_protocol()).splitlines()[:3])
    ['analysis:', '- model: nonindependence', '  variables:']
    """
    import yaml

    text = yaml.safe_dump(
        {"analysis": [dict(e) for e in protocol.analysis]}, sort_keys=False, allow_unicode=True
    )
    if extra:
        text += "# added by hand, not preregistered:\n" + yaml.safe_dump(
            {"extra": [dict(e) for e in extra]}, sort_keys=False, allow_unicode=True
        )
    return text


def plan_text(study: Any, exported_at: datetime, n_rows: int, extra: int = 0) -> str:
    """The report's first words: the study, its creation time, the protocol's hash, the
    export, and how many models were added by hand."""
    created = study.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    lines = [
        f"Study {study.id}, “{study.title}”, created {created}.",
        f"Protocol hash (SHA-256 of the protocol, its analysis plan included): "
        f"{study.protocol_hash}.",
        f"The models below marked preregistered are the protocol's plan as it was when the "
        f"study was created. Data exported {exported_at.strftime('%Y-%m-%d %H:%M UTC')}: "
        f"{n_rows} rows.",
    ]
    if extra:
        lines.append(
            f"{extra} model{'s' if extra > 1 else ''} added to the plan by hand "
            "(exploratory, not preregistered)."
        )
    return "\n\n".join(lines)


def analyse_study(
    session: Session,
    study_id: int,
    *,
    out: str | Path,
    format: str = "html",
    now: datetime | None = None,
    extra: Sequence[Mapping[str, Any]] = (),
    call: str = "",
    progress: Progress | None = None,
) -> AnalyseResult:
    """Export study ``study_id``, run its analysis plan and write the report to ``out``.

    Parameters
    ----------
    session : Session
    study_id : int
    out : path
        The report file.
    format : {"html", "docx"}
    now : datetime, optional
        The moment up to which prompts count as due (default: now).
    extra : sequence of dict
        Models beyond the plan, written like the plan's entries; marked "not
        preregistered".
    call : str
        The command (or page) that asked for the report, shown in its footer.
    progress : callable, optional
        ``progress(done, total, what)``: the export is step 1, then each model.

    Returns
    -------
    AnalyseResult

    Raises
    ------
    NotFoundError
        No such study.
    ProtocolError
        A model in ``extra`` does not fit the protocol.
    DyadlabError
        The protocol has no plan and no ``extra`` model is given, or the data cannot be
        analysed yet (e.g. no answers), with the reason.
    """
    from dyadlab.io import read_table
    from dyadlab.platform.services.export import export_study
    from dyadlab.report.html import Provenance, file_sha256
    from dyadlab.report.plan import report_format_options, write_plan_report

    report_format_options(format)  # a format this version cannot write: before the export
    study = get_study(session, study_id)
    protocol = study_protocol(study)
    added = check_extra(protocol, list(extra))
    if not protocol.analysis and not added:
        raise DyadlabError(
            f"analyse: study {study.id}'s protocol has no analysis plan. A plan is part of "
            "the protocol (an 'analysis' section), fixed when the study is created; for "
            "exploratory models give them with --extra MODELS.yaml."
        )
    steps = plan_steps(protocol) + plan_steps(protocol, added, preregistered=False)
    total = len(steps) + 1
    now = now or utcnow()
    with tempfile.TemporaryDirectory(prefix="dyadlab-analyse-") as tmp:
        data_path = Path(tmp) / f"study{study.id}.csv"
        exported = export_study(session, study.id, layout="individual", out=data_path, now=now)
        if progress is not None:
            progress(1, total, "export")
        data = read_table(data_path)
        if data.empty:
            raise DyadlabError(
                f"analyse: study {study.id} has no scheduled prompts yet (no rows to "
                "analyse); run the plan once couples have answered."
            )
        provenance = Provenance(
            call=call or f"dyadlab study analyse {study.id}",
            data_sha256=file_sha256(data_path),
            data_name=f"export of study {study.id} (individual format, CSV)",
        )
        path, report = write_plan_report(
            out,
            data,
            steps,
            dyad="dyad",
            person="person",
            role="role",
            title=f"{study.title}: analysis plan",
            plan_text=plan_text(study, now, exported.n_rows, len(added)),
            plan_listing=plan_listing(protocol, added),
            provenance=provenance,
            format=format,
            progress=None
            if progress is None
            else lambda done, _total, what: progress(done + 1, total, what),
        )
    models = [
        {
            "model": s.model,
            "arguments": s.arguments,
            "preregistered": s.preregistered,
        }
        for s in steps
    ]
    return AnalyseResult(
        study_id=study.id,
        report=Path(path),
        format=format,
        protocol_hash=study.protocol_hash,
        study_created=study.created_at,
        exported_at=now,
        n_rows=exported.n_rows,
        models=models,
        results=dict(report.results),
    )
