"""One reader and one writer per file format, all with the same signatures.

A reader takes ``(path, opts)`` and returns ``(df, variable_labels, value_labels)``;
a writer takes ``(df, path, variable_labels, value_labels, opts)``. Errors are left to
:mod:`dyadlab.io.tables`, which turns them into one readable message.

Examples
--------
>>> FORMATS["sav"].label
'SPSS (.sav)'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab.exceptions import DyadlabWarning, FileFormatError, OptionError
from dyadlab.io._labels import (
    ValueLabels,
    VariableLabels,
    categoricals_to_codes,
    labels_from_json,
    labels_to_json,
    tidy_value_labels,
    tidy_variable_labels,
)

__all__ = ["COMPRESSIONS", "EXTENSIONS", "FORMATS", "FileFormat"]

Reader = Callable[[Path, dict[str, Any]], tuple[pd.DataFrame, VariableLabels, ValueLabels]]
Writer = Callable[[pd.DataFrame, Path, VariableLabels, ValueLabels, dict[str, Any]], None]

_PARQUET_KEY = b"dyadlab.labels"


@dataclass(frozen=True)
class FileFormat:
    """A file format: how to read and write it, and whether it keeps labels."""

    name: str
    label: str
    read: Reader
    write: Writer
    keeps_labels: bool
    compressible: bool = False


# --- text ---------------------------------------------------------------------------


def _other_separator(df: pd.DataFrame, sep: str) -> str | None:
    """The separator a one-column table seems to use instead of ``sep``, if any."""
    if df.shape[1] != 1:
        return None
    header = str(df.columns[0])
    for candidate in (";", "\t", ",", "|"):
        if candidate != sep and candidate in header:
            return candidate
    return None


def _read_text(sep: str) -> Reader:
    def read(path: Path, opts: dict[str, Any]) -> tuple[pd.DataFrame, VariableLabels, ValueLabels]:
        explicit = "sep" in opts or "delimiter" in opts
        # "round_trip" parses each number to the exact double that was written; pandas'
        # default fast parser can be one ulp off (seen on values near 1e-274).
        opts = {"sep": sep, "float_precision": "round_trip", **opts}
        df = pd.read_csv(path, **opts)
        other = None if explicit else _other_separator(df, sep)
        if other is not None:
            hint = f"sep={other!r}" + (", decimal=','" if other == ";" else "")
            warnings.warn(
                f"read_table(): {str(path)!r} was read as one column {str(df.columns[0])[:40]!r}; "
                f"it seems to be separated by {other!r}, not {sep!r}. Pass {hint} "
                "(Excel in many European languages writes ';' with decimal commas).",
                DyadlabWarning,
                stacklevel=3,
            )
        return df, {}, {}

    return read


def _write_text(sep: str) -> Writer:
    def write(
        df: pd.DataFrame, path: Path, var: VariableLabels, val: ValueLabels, opts: dict[str, Any]
    ) -> None:
        opts = {"sep": sep, "index": False, **opts}
        df.to_csv(path, **opts)

    return write


# --- Parquet ------------------------------------------------------------------------


def _read_parquet(
    path: Path, opts: dict[str, Any]
) -> tuple[pd.DataFrame, VariableLabels, ValueLabels]:
    import pyarrow.parquet as pq

    df = pd.read_parquet(path, **opts)
    df.attrs = {}  # pandas restores its own attrs copy; dyadlab's labels come below
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(_PARQUET_KEY)
    if raw is None:
        return df, {}, {}
    var, val = labels_from_json(raw, path=str(path))
    return df, var, val


def _write_parquet(
    df: pd.DataFrame, path: Path, var: VariableLabels, val: ValueLabels, opts: dict[str, Any]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    opts = dict(opts)
    index = opts.pop("index", False)
    plain = df.copy()
    plain.attrs = {}  # attrs may hold objects that are not JSON (e.g. simulation truth)
    table = pa.Table.from_pandas(plain, preserve_index=index)
    metadata = dict(table.schema.metadata or {})
    metadata[_PARQUET_KEY] = labels_to_json(var, val)
    pq.write_table(table.replace_schema_metadata(metadata), path, **opts)


# --- SPSS and Stata -----------------------------------------------------------------


def _read_readstat(kind: str) -> Reader:
    def read(path: Path, opts: dict[str, Any]) -> tuple[pd.DataFrame, VariableLabels, ValueLabels]:
        import pyreadstat

        reader = pyreadstat.read_sav if kind == "sav" else pyreadstat.read_dta
        df, meta = reader(str(path), **opts)
        return (
            df,
            tidy_variable_labels(meta.column_names_to_labels),
            tidy_value_labels(meta.variable_value_labels),
        )

    return read


def _write_readstat(kind: str, *, compress: bool = False) -> Writer:
    def write(
        df: pd.DataFrame, path: Path, var: VariableLabels, val: ValueLabels, opts: dict[str, Any]
    ) -> None:
        import pyreadstat

        data, val = categoricals_to_codes(df.reset_index(drop=True), val)
        data.attrs = {}
        data.columns = [str(c) for c in data.columns]
        common: dict[str, Any] = {
            "column_labels": var or None,
            "variable_value_labels": val or None,
        }
        if kind == "sav":
            pyreadstat.write_sav(data, str(path), compress=compress, **common, **opts)
        else:
            pyreadstat.write_dta(data, str(path), **common, **opts)

    return write


# --- Excel --------------------------------------------------------------------------


def _need_openpyxl() -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:  # pragma: no cover - openpyxl is installed in the dev venv
        raise FileFormatError(
            "Excel files (.xlsx) need the openpyxl package, which is not installed. "
            "Install it with: pip install 'dyadlab[platform]' (or pip install openpyxl)."
        ) from exc


def _read_xlsx(
    path: Path, opts: dict[str, Any]
) -> tuple[pd.DataFrame, VariableLabels, ValueLabels]:
    _need_openpyxl()
    if "sheet_name" in opts and not isinstance(opts["sheet_name"], str | int):
        raise OptionError(
            f"read_table(): sheet_name={opts['sheet_name']!r} is not allowed; read_table "
            "reads one sheet. Give its name or its position (0 for the first)."
        )
    return pd.read_excel(path, engine="openpyxl", **opts), {}, {}


def _write_xlsx(
    df: pd.DataFrame, path: Path, var: VariableLabels, val: ValueLabels, opts: dict[str, Any]
) -> None:
    _need_openpyxl()
    opts = {"index": False, **opts}
    df.to_excel(path, engine="openpyxl", **opts)


FORMATS: dict[str, FileFormat] = {
    "csv": FileFormat("csv", "CSV (.csv)", _read_text(","), _write_text(","), False, True),
    "tsv": FileFormat(
        "tsv", "tab-separated text (.tsv)", _read_text("\t"), _write_text("\t"), False, True
    ),
    "parquet": FileFormat("parquet", "Parquet (.parquet)", _read_parquet, _write_parquet, True),
    "sav": FileFormat("sav", "SPSS (.sav)", _read_readstat("sav"), _write_readstat("sav"), True),
    "zsav": FileFormat(
        "zsav",
        "compressed SPSS (.zsav)",
        _read_readstat("sav"),
        _write_readstat("sav", compress=True),
        True,
    ),
    "dta": FileFormat("dta", "Stata (.dta)", _read_readstat("dta"), _write_readstat("dta"), True),
    "xlsx": FileFormat("xlsx", "Excel (.xlsx)", _read_xlsx, _write_xlsx, False),
}

EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".txt": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".sav": "sav",
    ".zsav": "zsav",
    ".dta": "dta",
    ".xlsx": "xlsx",
}

COMPRESSIONS: tuple[str, ...] = (".gz", ".bz2", ".xz", ".zip", ".zst")
