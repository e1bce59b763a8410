"""HTML report of a survey result: summary, forest plot, estimates with suppression flags.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(600, rng=9)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> write_survey_report(d.mean("depression", by="relationship"), "depression.html").name
'depression.html'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab.report.html import (
    Provenance,
    Section,
    figure_from_matplotlib,
    file_sha256,
    write_report,
)
from dyadlab.report.methods import methods_paragraph
from dyadlab.report.survey_plot import forest_plot

__all__ = ["write_survey_report"]


def write_survey_report(
    result: Any,
    path: str | Path,
    *,
    title: str | None = None,
    data_path: str | Path | None = None,
    figures_dir: str | Path | None = None,
    min_n: int = 30,
    max_rse: float = 0.30,
) -> Path:
    """Write ``result`` as HTML; estimates carry ``rse`` and a ``suppress`` flag.

    See :meth:`dyadlab.survey.SurveyResult.report` and
    :meth:`~dyadlab.survey.SurveyResult.suppression`.
    """
    flagged = result.suppression(min_n=min_n, max_rse=max_rse)
    tables: list[tuple[str, pd.DataFrame]] = [
        (f"Estimates (suppress: n < {min_n} or RSE > {max_rse:.0%})", flagged)
    ]
    if result.tests:
        tables.append(("Tests", pd.DataFrame(result.tests)))
    design = result.extra.get("design", {})
    tables.append(("Design", pd.DataFrame([{k: str(v) for k, v in design.items()}])))
    fig = forest_plot(result, min_n=min_n, max_rse=max_rse)
    methods, references = methods_paragraph(result)
    section = Section(
        title=f"{result.model} ({result.estimation})",
        # the estimates once: the flagged table (no text dump of the same numbers)
        tables=tables,
        methods=methods,
        references=references,
        figures=[figure_from_matplotlib(fig, f"{result.model}: estimates and CIs")],
    )
    call = ", ".join(f"{k}={v!r}" for k, v in result.call.items())
    provenance = Provenance(
        call=f"dl.survey.design(data, …).{result.model.removeprefix('survey_')}({call})",
        data_sha256=file_sha256(data_path) if data_path is not None else None,
        data_name=Path(data_path).name if data_path is not None else None,
    )
    return write_report(
        path,
        title or f"dyadlab {result.model} report",
        [section],
        provenance=provenance,
        figures_dir=figures_dir,
    )
