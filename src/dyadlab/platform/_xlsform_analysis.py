"""The ``analysis`` sheet of an XLSForm protocol: the preregistered analysis plan.

One row per model: a ``model`` column, optional ``name`` and ``title``, and one column
per argument (``y``, ``x``, ``variables``, ``judgment``, ``truth``, ``center``,
``family`` …, see :mod:`dyadlab.platform._analysis_plan`). A list of items is written
in one cell, separated by spaces (like a ``select_multiple`` answer); ``true``/``false``
(or ``yes``/``no``) for switches. Errors name the sheet, row and column.

==========  ==========================  ==============  ======
model       y                           x               center
==========  ==========================  ==============  ======
diary       relationship_satisfaction   desire conflict person
truth_bias
==========  ==========================  ==============  ======

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> from dyadlab.platform.protocol import example_protocol
>>> book = openpyxl.Workbook()
>>> write_analysis_sheet(book, example_protocol())
>>> origins = {}
>>> read_analysis_sheet(book["analysis"], origins)[2]
{'model': 'diary', 'y': 'relationship_satisfaction', 'x': ['desire', 'conflict']}
>>> origins[("analysis", 2)]
'analysis sheet, row 4'
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from dyadlab.platform._analysis_plan import PLAN_MODELS

if TYPE_CHECKING:
    from dyadlab.platform.protocol import Protocol

__all__ = ["read_analysis_sheet", "write_analysis_sheet"]

_TRUE = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def _kind(model: Any, column: str) -> Any:
    spec = PLAN_MODELS.get(str(model), {})
    return spec.get("variables" if column == "var" else column)


def _value(model: Any, column: str, value: Any) -> Any:
    """A cell as the YAML value of its argument (lists split on spaces and commas)."""
    kind = _kind(model, column)
    if isinstance(value, str):
        text = value.strip()
        if kind == "items":
            return text.replace(",", " ").split()
        if kind == "bool":
            return _TRUE.get(text.lower(), text)
        if kind == "level":
            try:
                return float(text.replace(",", "."))
            except ValueError:
                return text
        return text
    if kind == "bool" and isinstance(value, int | float):
        return bool(value)
    return value


def read_analysis_sheet(sheet: Any, origins: dict[tuple[Any, ...], str]) -> list[dict[str, Any]]:
    """The plan's entries (YAML shape) from an ``analysis`` sheet; fills ``origins``."""
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return []
    columns = [str(c).strip().lower() if c is not None else "" for c in header]
    entries: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=2):
        cells = {
            col: (v.strip() or None) if isinstance(v, str) else v
            for col, v in zip(columns, row, strict=False)
            if col and not isinstance(v, _dt.date | _dt.time)
        }
        cells = {col: v for col, v in cells.items() if v is not None}
        if not cells:
            continue
        where = f"analysis sheet, row {number}"
        model = cells.get("model")
        entry = {col: _value(model, col, v) for col, v in cells.items()}
        origins[("analysis", len(entries))] = where
        for col in entry:
            origins[("analysis", len(entries), "variables" if col == "var" else col)] = (
                f"{where}, column {col}"
            )
        entries.append(entry)
    return entries


def write_analysis_sheet(book: Any, protocol: Protocol) -> None:
    """Add the ``analysis`` sheet of ``protocol``'s plan to ``book`` (none without a plan)."""
    if not protocol.analysis:
        return
    columns = ["model", "name", "title"]
    for entry in protocol.analysis:
        columns += [k for k in entry if k not in columns]
    sheet = book.create_sheet("analysis")
    sheet.append(columns)
    for entry in protocol.analysis:
        row = []
        for col in columns:
            value = entry.get(col)
            if isinstance(value, list):
                value = " ".join(map(str, value))
            elif isinstance(value, bool):
                value = "true" if value else "false"
            row.append(value)
        sheet.append(row)
