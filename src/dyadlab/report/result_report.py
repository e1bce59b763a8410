"""A self-contained HTML report of one model result (``ModelResult.report()``).

Examples
--------
>>> import dyadlab as dl
>>> from dyadlab.data.datasets import load_acitelli
>>> res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
>>> write_result_report(res, "apim.html").name
'apim.html'
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
from dyadlab.report.k_table import k_summary

__all__ = ["write_result_report"]


def write_result_report(
    result: Any,
    path: str | Path,
    *,
    title: str | None = None,
    data_path: str | Path | None = None,
    figures_dir: str | Path | None = None,
) -> Path:
    """Write ``result`` (any model's result) as HTML: summary, tables, plot, provenance.

    See :meth:`dyadlab.models._result.ModelResult.report`.
    """
    figures = []
    plot = getattr(result, "plot", None)
    if callable(plot):
        figures.append(figure_from_matplotlib(plot(), f"{result.model} plot"))
    tables: list[tuple[str, pd.DataFrame]] = [("Estimates", result.estimates)]
    k_frame, _ = k_summary(result)
    if len(k_frame):
        tables.append(("k = partner / actor", k_frame))
    if len(result.variance_components):
        tables.append(("Variance components", result.variance_components))
    if result.tests:
        tables.append(("Tests", pd.DataFrame(result.tests)))
    section = Section(
        title=f"{result.model} ({result.estimation})",
        preformatted=result.summary(),
        tables=tables,
        figures=figures,
    )
    call = ", ".join(f"{k}={v!r}" for k, v in result.call.items())
    provenance = Provenance(
        call=f"dl.{result.model}(data, {call})" if call else f"dl.{result.model}(data)",
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
