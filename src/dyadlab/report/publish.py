"""``res.table(style="apa", format=…)``: a result's publication table in one call.

:meth:`ModelResult.table <dyadlab.models._result.ModelResult.table>` and the result's
``_repr_html_`` (what Jupyter shows) reach :func:`result_table` lazily, so ``models/``
does not import ``report/``.

Examples
--------
>>> import dyadlab as dl
>>> res = dl.apim(dl.simulate_apim(40, rng=1), y="y", x="x", dyad="dyad", role="role")
>>> print(result_table(res, format="markdown").splitlines()[4])
| *Intercepts* | | | | | |
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dyadlab._validation import check_option
from dyadlab.report.apa_render import FORMATS, render_table
from dyadlab.report.apa_table import apa_table

__all__ = ["result_table"]


def result_table(
    result: Any,
    *,
    style: str = "apa",
    format: str = "html",
    labels: Mapping[Any, str] | None = None,
    title: str | None = None,
    number: int | None = None,
    path: str | Path | None = None,
) -> str | bytes | Path:
    """The APA table of ``result`` as text (``html``, ``markdown``, ``latex``, ``csv``) or
    ``docx`` bytes; with ``path``, written to that file and its path returned.

    Parameters
    ----------
    result : ModelResult
    style : {"apa"}
        APA 7 (the only style so far).
    format : {"html", "markdown", "latex", "csv", "docx"}
        Also ``"md"`` and ``"tex"``.
    labels : mapping, optional
        Display names for roles and variables (``{-1: "wife"}``).
    title, number : optional
        The table's title and number.
    path : path, optional
        Write the table there.
    """
    check_option("style", style, ["apa"], func="table")
    check_option("format", format, [*FORMATS, "md", "tex"], func="table")
    table = apa_table(result, labels=labels, title=title, number=number)
    out = render_table(table, format)
    if path is None:
        return out
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(out, bytes):
        target.write_bytes(out)
    else:
        target.write_text(out, encoding="utf-8")
    return target
