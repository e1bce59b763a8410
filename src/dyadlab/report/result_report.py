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

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dyadlab.report.analysis import _result_section
from dyadlab.report.html import (
    Provenance,
    figure_from_matplotlib,
    file_sha256,
    write_report,
)

__all__ = ["write_result_report"]


def write_result_report(
    result: Any,
    path: str | Path,
    *,
    title: str | None = None,
    data_path: str | Path | None = None,
    figures_dir: str | Path | None = None,
    format: str | None = None,
    labels: Mapping[Any, str] | None = None,
) -> Path:
    """Write ``result`` (any model's result): its APA table, plot, methods, provenance.

    ``format`` is ``"html"``, ``"docx"``, ``"tex"`` or ``"md"`` (default: from the
    suffix of ``path``); ``labels`` names roles and variables.

    See :meth:`dyadlab.models._result.ModelResult.report`.
    """
    figures = []
    plot = getattr(result, "plot", None)
    if callable(plot):
        figures.append(figure_from_matplotlib(plot(), f"{result.model} plot"))
    section = _result_section(f"{result.model} ({result.estimation})", result, "", figures, labels)
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
        format=format,
    )
