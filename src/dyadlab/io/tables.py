"""Read and write data tables by file extension, with readable errors.

:func:`read_table` and :func:`write_table` are the one door between files and dyadlab:
the command line, the platform's export and the examples all go through them. Whatever
goes wrong — a missing file, an empty file, a text file named ``.sav`` — the user gets a
:class:`~dyadlab.exceptions.FileFormatError` that names the file and says what to do,
never a traceback from the library underneath.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> df = pd.DataFrame({"couple": [1, 1], "sat": [5.0, 6.0]})
>>> write_table(df, folder / "couples.sav", variable_labels={"sat": "Satisfaction"})
>>> read_table(folder / "couples.sav").attrs["variable_labels"]
{'sat': 'Satisfaction'}
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab._validation import check_option
from dyadlab.exceptions import DyadlabError, DyadlabWarning, FileFormatError, OptionError
from dyadlab.io._formats import COMPRESSIONS, EXTENSIONS, FORMATS, FileFormat
from dyadlab.io._labels import resolve_labels

__all__ = ["MissingFileError", "read_table", "supported_extensions", "write_table"]


class MissingFileError(FileFormatError, FileNotFoundError):
    """The file to read does not exist (both a FileFormatError and a FileNotFoundError)."""


def supported_extensions() -> tuple[str, ...]:
    """Return the file extensions :func:`read_table` and :func:`write_table` understand.

    Examples
    --------
    >>> ".sav" in supported_extensions()
    True
    """
    return tuple(EXTENSIONS)


def _supported_text() -> str:
    text = ", ".join(EXTENSIONS)
    text_formats = "/".join(e for e, f in EXTENSIONS.items() if FORMATS[f].compressible)
    return f"{text} (and {text_formats} compressed as {', '.join(COMPRESSIONS)})"


def _detect(path: Path, fmt: str | None, *, func: str) -> FileFormat:
    if fmt is not None:
        name = check_option("format", str(fmt).lower().lstrip("."), tuple(FORMATS), func=func)
        return FORMATS[name]
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS and len(suffixes) >= 2:
        inner = EXTENSIONS.get(suffixes[-2])
        if inner is not None and FORMATS[inner].compressible:
            return FORMATS[inner]
    ext = suffixes[-1] if suffixes else ""
    name = EXTENSIONS.get(ext)
    if name is None:
        shown = repr(ext) if ext else "no extension"
        raise FileFormatError(
            f"{func}(): cannot tell the format of {str(path)!r} from its extension ({shown}). "
            f"Supported extensions: {_supported_text()}. Rename the file or pass format=, "
            f"e.g. format='csv'."
        )
    return FORMATS[name]


def _folder_message(path: Path, *, func: str) -> str:
    """A folder given where a data file was expected, with the data files it holds."""
    inside = sorted(
        p.name
        for p in path.iterdir()
        if p.is_file() and any(s.lower() in EXTENSIONS for s in p.suffixes)
    )
    shown = ", ".join(inside[:5]) + (" …" if len(inside) > 5 else "")
    hint = f" It holds: {shown}." if inside else ""
    return f"{func}(): {str(path)!r} is a folder, not a file. Give the path of a data file.{hint}"


def _wrap(exc: Exception, *, func: str, action: str, path: Path, fmt: FileFormat) -> DyadlabError:
    """Turn an error from pandas, pyarrow or pyreadstat into one readable error."""
    if isinstance(exc, DyadlabError):
        return exc
    text = str(exc).strip().rstrip(".") or type(exc).__name__
    if isinstance(exc, TypeError) and "unexpected keyword argument" in text:
        return OptionError(
            f"{func}(): an option is not accepted by the {fmt.label} "
            f"{'reader' if action == 'read' else 'writer'} ({text}). "
            "Remove it or check the spelling; options are passed to the underlying reader "
            "or writer (pandas, pyarrow or pyreadstat)."
        )
    if isinstance(exc, pd.errors.EmptyDataError):
        return FileFormatError(
            f"{func}(): cannot read {str(path)!r}: the file is empty (it has no columns). "
            "Check that the export finished and the file was copied whole."
        )
    if isinstance(exc, UnicodeError):
        return FileFormatError(
            f"{func}(): cannot {action} {str(path)!r} as {fmt.label}: the text is not in the "
            f"expected encoding ({text}). Pass encoding=, e.g. encoding='latin-1'."
        )
    if action == "read":
        fix = (
            f"Check that the file really is in {fmt.label} format (open it in the program that "
            "made it), or pass format= if the extension is wrong."
        )
    else:
        fix = "Check the column names and types the format allows, or choose another format."
    return FileFormatError(f"{func}(): cannot {action} {str(path)!r} as {fmt.label}: {text}. {fix}")


def read_table(
    path: str | os.PathLike[str], *, format: str | None = None, **opts: Any
) -> pd.DataFrame:
    """Read a data table, choosing the reader from the file's extension.

    Parameters
    ----------
    path : str or path-like
        The file. Supported: ``.csv``; ``.tsv``, ``.tab``, ``.txt`` (tab-separated);
        CSV and tab-separated files compressed as ``.gz``, ``.bz2``, ``.xz``, ``.zip``,
        ``.zst``; ``.parquet``, ``.pq``; SPSS ``.sav``, ``.zsav``; Stata ``.dta``; Excel
        ``.xlsx`` (needs openpyxl).
    format : str, optional
        Read as this format whatever the extension: ``"csv"``, ``"tsv"``, ``"parquet"``,
        ``"sav"``, ``"zsav"``, ``"dta"`` or ``"xlsx"``.
    **opts
        Passed to the underlying reader: :func:`pandas.read_csv`,
        :func:`pandas.read_parquet`, :func:`pyreadstat.read_sav`,
        :func:`pyreadstat.read_dta` or :func:`pandas.read_excel` (e.g. ``sep=";"``,
        ``usecols=[...]``, ``apply_value_formats=True``).

    Returns
    -------
    pandas.DataFrame
        The data. ``df.attrs["variable_labels"]`` (column -> label) and
        ``df.attrs["value_labels"]`` (column -> {value: label}) hold the labels stored in
        SPSS, Stata and dyadlab-written Parquet files; both are empty dicts for formats
        without labels. Value-label keys are plain numbers (``1``, not ``1.0``).

    Raises
    ------
    MissingFileError
        The file does not exist (also a :class:`FileNotFoundError`).
    FileFormatError
        The extension is unknown, the file is empty, a folder, or cannot be parsed as its
        format (e.g. a text file named ``.sav``).
    OptionError
        An option is not accepted by the underlying reader.

    See Also
    --------
    write_table : the reverse.

    Notes
    -----
    SPSS and Stata store every number as a double, so integer and boolean columns come
    back as floats, and they have no missing value for text: a missing string comes
    back as ``""``. User-defined missing values (SPSS) are read as missing.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "diary.csv"
    >>> write_table(pd.DataFrame({"couple": [1, 1], "mood": [3, 4]}), file)
    >>> read_table(file)["mood"].tolist()
    [3, 4]
    """
    func = "read_table"
    path = Path(path).expanduser()
    if path.is_dir():  # before the extension: a folder has none
        raise FileFormatError(_folder_message(path, func=func))
    fmt = _detect(path, format, func=func)
    if not path.exists():
        folder = path.parent if str(path.parent) else Path(".")
        where = "" if folder.is_dir() else f" (the folder {str(folder)!r} does not exist either)"
        raise MissingFileError(
            f"{func}(): the file {str(path)!r} does not exist{where}. Check the path and the "
            f"current folder ({os.getcwd()!r})."
        )
    if path.stat().st_size == 0:
        raise FileFormatError(
            f"{func}(): cannot read {str(path)!r}: the file is empty (0 bytes). Check that the "
            "export finished and the file was copied whole."
        )
    try:
        df, var, val = fmt.read(path, dict(opts))
    except Exception as exc:
        raise _wrap(exc, func=func, action="read", path=path, fmt=fmt) from exc
    df.attrs["variable_labels"] = var
    df.attrs["value_labels"] = val
    return df


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    variable_labels: Mapping[str, str] | None = None,
    value_labels: Mapping[str, Mapping[Any, str]] | None = None,
    format: str | None = None,
    **opts: Any,
) -> None:
    """Write a data table, choosing the writer from the file's extension.

    Parameters
    ----------
    df : pandas.DataFrame
        The data. Its index is not written (pass ``index=True`` for CSV, Parquet, Excel).
    path : str or path-like
        The file; the extensions of :func:`read_table`. The folder must exist. The file
        is written under a temporary name and renamed at the end, so a failed write never
        leaves a half-written file behind.
    variable_labels : dict, optional
        Column -> label. Default: ``df.attrs["variable_labels"]`` if present.
    value_labels : dict, optional
        Column -> {value: label}. Default: ``df.attrs["value_labels"]`` if present.
    format : str, optional
        Write as this format whatever the extension (see :func:`read_table`).
    **opts
        Passed to :meth:`pandas.DataFrame.to_csv`, :func:`pyarrow.parquet.write_table`,
        :func:`pyreadstat.write_sav`, :func:`pyreadstat.write_dta` or
        :meth:`pandas.DataFrame.to_excel`.

    Raises
    ------
    FileFormatError
        Unknown extension, missing folder, or data the format cannot hold (e.g. a Stata
        column name with a space, value labels for non-integer values in Stata).
    OptionError
        Labels for a column that is not in ``df``, or an option the writer rejects.

    Warns
    -----
    DyadlabWarning
        Labels were given explicitly for a format that cannot store them (CSV, text,
        Excel).

    Notes
    -----
    SPSS, Stata and Parquet keep labels (Parquet in its metadata, read back by
    :func:`read_table`). SPSS and Stata have no categorical type: a categorical column
    with text categories is written as codes 1..k labelled with the categories (read it
    back with ``apply_value_formats=True, formats_as_category=True`` for a categorical).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "couples.dta"
    >>> df = pd.DataFrame({"couple": [1, 1], "gender": [1, 2]})
    >>> write_table(df, file, value_labels={"gender": {1: "woman", 2: "man"}})
    >>> read_table(file).attrs["value_labels"]
    {'gender': {1: 'woman', 2: 'man'}}
    """
    func = "write_table"
    if not isinstance(df, pd.DataFrame):
        raise OptionError(
            f"{func}(): df must be a pandas DataFrame, not {type(df).__name__}. "
            "Convert it first, e.g. pandas.DataFrame(data)."
        )
    path = Path(path).expanduser()
    fmt = _detect(path, format, func=func)
    var, val = resolve_labels(df, variable_labels, value_labels, func=func)
    if not fmt.keeps_labels and (variable_labels or value_labels):
        warnings.warn(
            f"{func}(): {fmt.label} files cannot store variable or value labels; the labels "
            f"given are not written to {str(path)!r}. Write .sav, .dta or .parquet to keep them.",
            DyadlabWarning,
            stacklevel=2,
        )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise FileFormatError(
            f"{func}(): cannot write {str(path)!r}: the folder {str(folder)!r} does not exist. "
            "Create it first or choose another path."
        )
    if path.is_dir():
        raise FileFormatError(
            f"{func}(): {str(path)!r} is a folder, not a file. Give the path of a file to write."
        )
    temporary = folder / f".{uuid.uuid4().hex[:12]}.{path.name}"
    try:
        fmt.write(df, temporary, var, val, dict(opts))
        os.replace(temporary, path)
    except Exception as exc:
        raise _wrap(exc, func=func, action="write", path=path, fmt=fmt) from exc
    finally:
        temporary.unlink(missing_ok=True)
