"""The export, file for file, against golden files written by an earlier version.

The two studies of :mod:`tests.platform.export_cases` are exported in every layout
(individual, pairwise, dyad) and file type (CSV, Parquet, SPSS ``.sav``) and compared
with ``tests/platform/data/export/<study>/``: CSV files byte for byte; Parquet files as
frames (values and dtypes) with their Arrow schemas and metadata (the labels); ``.sav``
files as frames with every variable's label, value labels, type, format and measure.
The golden files were made by the row-by-row export before it was vectorised, so the
two give the same files; on SQLite and on PostgreSQL.

``DYADLAB_WRITE_GOLDEN=1 pytest tests/platform/test_export_golden.py -k sqlite`` writes
them again (only after a deliberate change of the export's output; review the diff).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from dyadlab.platform.services.export import export_study
from tests.platform.export_cases import build_diary, build_esm

GOLDEN = Path(__file__).parent / "data" / "export"
LAYOUTS = ("individual", "pairwise", "dyad")
EXTS = (".csv", ".parquet", ".sav")
WRITE = bool(os.environ.get("DYADLAB_WRITE_GOLDEN"))


def _export_all(db: Any, study_id: int, now: Any, folder: Path) -> dict[str, Any]:
    """Every layout and file type into ``folder``; the JSON summaries by file name."""
    summaries = {}
    for layout in LAYOUTS:
        for ext in EXTS:
            out = folder / f"{layout}{ext}"
            result = export_study(db, study_id, layout=layout, out=out, now=now)
            data = result.to_dict()
            data["files"] = [Path(f).name for f in data["files"]]
            summaries[f"{layout}{ext}"] = data
    return summaries


def _metadata(schema: Any) -> dict[str, Any]:
    """Schema metadata without the writer's library versions (they change with installs)."""
    meta = {k.decode(): json.loads(v) for k, v in (schema.metadata or {}).items()}
    pandas_meta = meta.get("pandas", {})
    pandas_meta.pop("creator", None)
    pandas_meta.pop("pandas_version", None)
    return meta


def _same_parquet(new: Path, old: Path) -> None:
    import pyarrow.parquet as pq

    a, b = pq.read_table(new), pq.read_table(old)
    assert a.schema.equals(b.schema), f"{new.name}: columns or types differ"
    assert _metadata(a.schema) == _metadata(b.schema), f"{new.name}: metadata differs"
    pd.testing.assert_frame_equal(a.to_pandas(), b.to_pandas(), check_dtype=True)


def _same_sav(new: Path, old: Path) -> None:
    import pyreadstat

    a, meta_a = pyreadstat.read_sav(str(new))
    b, meta_b = pyreadstat.read_sav(str(old))
    pd.testing.assert_frame_equal(a, b, check_dtype=True)
    for name in (
        "column_names",
        "column_names_to_labels",
        "variable_value_labels",
        "original_variable_types",
        "readstat_variable_types",
        "variable_measure",
        "variable_display_width",
        "variable_storage_width",
        "missing_ranges",
    ):
        assert getattr(meta_a, name) == getattr(meta_b, name), f"{new.name}: {name} differs"


def _compare(folder: Path, golden: Path) -> None:
    made = sorted(p.name for p in folder.iterdir())
    assert made == sorted(p.name for p in golden.iterdir() if p.name != "summaries.json")
    for name in made:
        new, old = folder / name, golden / name
        if name.endswith(".csv"):
            assert new.read_bytes() == old.read_bytes(), f"{name} differs from the golden file"
        elif name.endswith(".parquet"):
            _same_parquet(new, old)
        else:
            _same_sav(new, old)


@pytest.mark.parametrize("case", ["diary", "esm"])
def test_export_matches_the_golden_files(case, db, protocol_path, tmp_path, database_url):
    study_id, now = build_diary(db, protocol_path) if case == "diary" else build_esm(db)
    folder = tmp_path / case
    folder.mkdir()
    summaries = _export_all(db, study_id, now, folder)
    golden = GOLDEN / case
    if WRITE and database_url.startswith("sqlite"):
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(folder, golden)
        text = json.dumps(summaries, indent=1, sort_keys=True)
        (golden / "summaries.json").write_text(text + "\n")
    assert json.loads((golden / "summaries.json").read_text()) == summaries
    _compare(folder, golden)
