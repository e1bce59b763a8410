"""The demo's report: the study on the platform, the analyses, and the simulation's truth.

The analyses are the example protocol's preregistered plan (its ``analysis`` section),
run on the exported file by :func:`dyadlab.report.plan.plan_sections` as
``dyadlab study analyse`` runs it: nonindependence and the APIM on person means, the
diary APIM (daily relationship satisfaction on desire and conflict), the diary GLMM of
the yes/no ``had_sex`` (binomial) and truth and bias (the judgment ``partner_desire``
against the partner's own ``desire``). The demo adds a first section on how the study
went (compliance heat map) and a last one that puts the estimates beside the values the
simulated couples were drawn from.

Examples
--------
>>> from dyadlab.demo.analyses import demo_report  # doctest: +SKIP
>>> demo_report(data, files, out="report.html", plan=plan, steps=steps)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dyadlab.demo.simulate_answers import AnswerPlan
from dyadlab.report.html import Section, figure_from_matplotlib

if TYPE_CHECKING:
    from dyadlab.report.plan import PlanStep

__all__ = ["demo_report", "study_section", "truth_section"]


def study_section(
    data: pd.DataFrame, files: dict[str, Path], plan: AnswerPlan, requests: int
) -> Section:
    """How the study went: couples, answers, compliance, and the heat map."""
    from dyadlab.report.compliance_plot import plot_compliance_heatmap

    days = pd.read_csv(files["compliance_days"])
    couples = pd.read_csv(files["compliance_couples"])
    persons = pd.read_csv(files["compliance_persons"])
    status = data["status"].value_counts()
    kinds = plan.couples["kind"].value_counts()
    n_events = int(persons["events"].sum()) if "events" in persons else 0
    text = [
        f"{len(plan.couples)} simulated couples ({kinds.get('man-woman', 0)} man–woman couples "
        f"with roles, {kinds.get('same-sex', 0)} same-sex couples without) took part for "
        f"{plan.n_days} days. Every partner consented and answered through the platform's "
        f"HTTP API ({requests} requests); the platform's clock was moved to each evening.",
        f"Evening questionnaires: {int(status.get('completed', 0))} answered in time, "
        f"{int(status.get('late', 0))} late (sent from an offline phone after the window "
        f"closed), {int(status.get('missed', 0))} missed; {n_events} after-sex reports.",
        f"Persons answered {persons['rate'].mean():.0%} of their prompts on average "
        f"(median latency {persons['median_latency_min'].median():.0f} min). "
        f"{int(couples['flagged'].sum())} of {len(couples)} couples are below 80% complete "
        "couple-days and flagged for the team to contact (never dropped).",
    ]
    figure = figure_from_matplotlib(
        plot_compliance_heatmap(days),
        "Compliance heat map",
        caption="Each row a couple, each column a diary day: both partners answered (blue), "
        "one partner (orange), nobody (grey).",
    )
    shown = couples.drop(columns=["couple_id", "flagged"], errors="ignore")
    table = shown.describe().T.reset_index(names="per couple")[
        ["per couple", "mean", "min", "50%", "max"]
    ]
    return Section(
        "The study on the platform",
        text="\n\n".join(text),
        tables=[("Compliance per couple", table)],
        figures=[figure],
    )


def _estimate(result: Any, effect: str, predictor: str | None, role: str | None) -> float:
    est = result.estimates
    rows = est[est["effect"] == effect]
    if predictor is not None:
        rows = rows[rows["predictor"] == predictor]
    if role is not None:
        rows = rows[rows["role"].astype(str) == role]
    return float(rows["estimate"].iloc[0]) if len(rows) else float("nan")


def truth_section(results: dict[str, Any], truth: dict[str, float]) -> Section:
    """Estimates beside the values the simulated couples were drawn from."""
    rows = []
    diary = results.get("diary_all") or results.get("diary")
    if diary is not None:
        for effect, predictor, key in (
            ("actor", "desire", "sat_actor_desire"),
            ("partner", "desire", "sat_partner_desire"),
            ("actor", "conflict", "sat_actor_conflict"),
            ("partner", "conflict", "sat_partner_conflict"),
        ):
            rows.append(
                {
                    "model": "diary APIM (all couples)",
                    "effect": f"{effect} {predictor}",
                    "true value": truth[key],
                    "estimate": _estimate(diary, effect, predictor, None),
                }
            )
    tb = results.get("truth_bias_by_role") or results.get("truth_bias")
    if tb is not None:
        for role in ("man", "woman"):
            rows.append(
                {
                    "model": "truth and bias (man–woman couples)",
                    "effect": f"directional bias, {role}",
                    "true value": truth[f"bias_{role}"],
                    "estimate": _estimate(tb, "directional_bias", None, role),
                }
            )
            rows.append(
                {
                    "model": "truth and bias (man–woman couples)",
                    "effect": f"truth force, {role}",
                    "true value": truth["truth_force"],
                    "estimate": _estimate(tb, "truth", None, role),
                }
            )
    text = (
        "The couples were simulated, so the true values are known. Ordinal answers "
        "(satisfaction on a 1–7 scale, sliders rounded to whole numbers) and missed "
        "days blur them a little."
    )
    return Section(
        "Estimates and the simulation's true values", text=text, tables=[("", pd.DataFrame(rows))]
    )


def demo_report(
    data_path: Path,
    files: dict[str, Path],
    *,
    out: Path,
    plan: AnswerPlan,
    requests: int,
    call: str,
    steps: Sequence[PlanStep],
    plan_text: str = "",
    plan_listing: str = "",
    figures_dir: Path | None = None,
) -> tuple[Path, Any]:
    """Write the demo's one HTML report (and its figures as PNG and SVG).

    Parameters
    ----------
    data_path : Path
        The exported individual-format file.
    files : dict
        The export's other files by kind (``compliance_days`` …).
    out : Path
        The HTML report.
    plan : AnswerPlan
    requests : int
        HTTP requests the simulated study sent.
    call : str
        The command that made the report.
    steps : sequence of PlanStep
        The study's analysis plan
        (:func:`dyadlab.platform.services.analyses.plan_steps`).
    plan_text : str
        The plan section's text (the protocol's hash and the study's creation time).
    plan_listing : str
        The plan as the protocol writes it.
    figures_dir : Path, optional

    Returns
    -------
    (Path, AnalysisReport)
    """
    from dyadlab.io import read_table
    from dyadlab.report.html import Provenance, file_sha256, write_report
    from dyadlab.report.plan import plan_sections

    data = read_table(data_path)
    first = study_section(data, files, plan, requests)
    report = plan_sections(
        data,
        steps,
        dyad="dyad",
        person="person",
        role="role",
        plan_text=plan_text,
        plan_listing=plan_listing,
    )
    sections = [first, *report.sections, truth_section(report.results, plan.truth)]
    provenance = Provenance(call=call, data_sha256=file_sha256(data_path), data_name=data_path.name)
    title = f"dyadlab demo: a {plan.n_days}-day couples' diary, collected and analysed"
    path = write_report(out, title, sections, provenance=provenance, figures_dir=figures_dir)
    return path, report
