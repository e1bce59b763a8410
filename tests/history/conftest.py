"""Helpers of the history tests: an episodes frame from short rows."""

from __future__ import annotations

import pandas as pd

COLUMNS = [
    "person",
    "partner",
    "type",
    "start",
    "end",
    "start_precision",
    "end_precision",
    "certainty",
]


def episodes(*rows: tuple[str, ...]) -> pd.DataFrame:
    """Rows ``(person, type, start, end[, start_precision, end_precision, certainty])``."""
    out = []
    for i, row in enumerate(rows):
        person, kind, start, end, *rest = row
        rest = [*rest, "", "", ""][:3]
        out.append([person, f"x{i}", kind, start, end, *rest])
    return pd.DataFrame(out, columns=COLUMNS)
