"""Run an R reference script on a data frame, for the benchmarks.

The script template names the data file as ``{path}``; it must print its numbers,
separated by white space, on stdout. Without Rscript the benchmark's R part is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any


def run_r_on_frame(template: str, df: Any, *, timeout: float = 3600) -> list[float] | None:
    """Write ``df`` to CSV, run ``template`` on it; return the printed numbers or None.

    None means Rscript is not installed or the script failed (its stderr is printed).
    """
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        df.to_csv(path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(template.replace("{path}", str(path)))
        out = subprocess.run(
            ["Rscript", str(script)], capture_output=True, text=True, check=False, timeout=timeout
        )
    if out.returncode != 0:
        print(f"  R failed: {out.stderr.strip()[:300]}")
        return None
    return [float(v) for v in out.stdout.split()]
