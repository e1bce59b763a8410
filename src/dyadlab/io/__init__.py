"""Reading and writing data files: CSV, text, Parquet, SPSS, Stata and Excel.

The format is chosen by the file's extension; SPSS, Stata and Parquet files keep
variable labels and value labels in ``df.attrs``.

Examples
--------
>>> from dyadlab.io import read_table, write_table
>>> ".dta" in supported_extensions()
True
"""

from __future__ import annotations

from dyadlab.io.tables import MissingFileError, read_table, supported_extensions, write_table

__all__ = ["MissingFileError", "read_table", "supported_extensions", "write_table"]
