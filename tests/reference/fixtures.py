"""Load reference fixtures produced by the R scripts in ``tests/reference/``.

Each ``tests/reference/fixtures/<model>.json`` holds ``{"cases": [...]}``; a case is::

    {"name": "acitelli_distinguishable",
     "model": "apim_sem",
     "call": "lavaan::sem(model, data = d, ...)",      # the exact R call
     "script": "tests/reference/apim.R",
     "r_version": "R 4.2.2", "packages": {"lavaan": "0.6.15"}, "generated": "2026-11-24",
     "data": "shared:acitelli_individual.csv",          # or "repo:tests/reference/data/x.csv"
     "args": {...},                                     # keyword arguments for dyadlab
     "expected": {...}}                                  # the R numbers, model-specific

``shared:`` paths are read from the shared data folder (``$DYADLAB_SHARED_DIR`` or
``../shared/data`` beside the repository): those data sets may not be copied into the
repository. Tests that need them are skipped where the folder is absent, unless
``DYADLAB_REQUIRE_SERVICES`` is set (as in CI), where they fail.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: design.md: estimates within 1e-4 (absolute or relative, whichever is larger)
TOL_EST = 1e-4
#: design.md: standard errors within 1e-3 relative
TOL_SE = 1e-3

#: For modules whose data leave rows out on purpose (as R's na.omit does): the models'
#: DyadlabWarning about them is expected, but a ConvergenceWarning still fails the test.
DATA_WARNINGS_EXPECTED = pytest.mark.filterwarnings(
    "ignore::dyadlab.exceptions.DyadlabWarning",
    "error::dyadlab.exceptions.ConvergenceWarning",
)


def shared_data_dir() -> Path:
    env = os.environ.get("DYADLAB_SHARED_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def data_path(spec: str) -> Path:
    """Resolve ``shared:NAME`` or ``repo:PATH``; skip (or fail in CI) if absent."""
    kind, _, rest = spec.partition(":")
    if kind == "shared":
        path = shared_data_dir() / rest
    elif kind == "repo":
        path = REPO / rest
    else:
        raise ValueError(f"data spec {spec!r} must start with 'shared:' or 'repo:'")
    if not path.exists():
        if os.environ.get("DYADLAB_REQUIRE_SERVICES"):
            pytest.fail(f"reference data {path} is missing")
        pytest.skip(f"reference data {path} is not available")
    return path


@cache
def _read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


@dataclass(frozen=True)
class Case:
    name: str
    model: str
    call: str
    provenance: str
    data_spec: str
    args: dict[str, Any] = field(hash=False)
    expected: dict[str, Any] = field(hash=False)

    @property
    def data(self) -> pd.DataFrame:
        return _read_csv(data_path(self.data_spec)).copy()

    def __str__(self) -> str:
        return self.name


def cases(model: str) -> list[Case]:
    """All reference cases of ``model`` (the fixture file's stem)."""
    path = FIXTURES / f"{model}.json"
    raw = json.loads(path.read_text())
    out = []
    for c in raw["cases"]:
        pkgs = ", ".join(f"{k} {v}" for k, v in c.get("packages", {}).items())
        provenance = (
            f"{c['call']}  [{c.get('r_version', '?')}; {pkgs}; {c.get('script', '?')}, "
            f"{c.get('generated', '?')}]"
        )
        out.append(
            Case(
                name=c["name"],
                model=c.get("model", model),
                call=c["call"],
                provenance=provenance,
                data_spec=c["data"],
                args=c.get("args", {}),
                expected=c["expected"],
            )
        )
    return out


def _same_shape(got: Any, expected: Any, case: Case, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Both as float arrays of one shape with at least one value: an empty selection fails."""
    g = np.asarray(got, dtype=float)
    e = np.asarray(expected, dtype=float)
    if g.shape != e.shape or g.size == 0:
        raise AssertionError(
            f"{case.name}: {what} has shape {g.shape}, R has {e.shape} (an empty or "
            f"misaligned selection)\n reference: {case.provenance}"
        )
    return g, e


def assert_close_est(got: Any, expected: Any, case: Case, what: str = "estimate") -> None:
    """Estimates agree within 1e-4, absolute or relative, whichever is larger."""
    g, e = _same_shape(got, expected, case, what)
    tol = TOL_EST * np.maximum(1.0, np.abs(e))
    bad = ~(np.abs(g - e) <= tol)
    if bad.any():
        raise AssertionError(
            f"{case.name}: {what} differs from R\n got      {g}\n expected {e}\n"
            f" reference: {case.provenance}"
        )


def assert_close_se(got: Any, expected: Any, case: Case, what: str = "se") -> None:
    """Standard errors agree within 1e-3 relative."""
    g, e = _same_shape(got, expected, case, what)
    bad = ~(np.abs(g - e) <= TOL_SE * np.abs(e) + 1e-12)
    if bad.any():
        raise AssertionError(
            f"{case.name}: {what} differs from R\n got      {g}\n expected {e}\n"
            f" reference: {case.provenance}"
        )


def assert_within_mc_error(
    got: Any,
    got_se: Any,
    expected: Any,
    expected_se: Any,
    case: Case,
    what: str = "power",
    z: float = 3.0,
) -> None:
    """Two Monte Carlo estimates agree within ``z`` combined standard errors."""
    g, e = _same_shape(got, expected, case, what)
    gs, es = _same_shape(got_se, expected_se, case, f"{what} MC se")
    if gs.shape != g.shape:
        raise AssertionError(f"{case.name}: {what} and its MC se differ in shape")
    bound = z * np.sqrt(gs**2 + es**2)
    bad = ~(np.abs(g - e) <= bound)
    if bad.any():
        raise AssertionError(
            f"{case.name}: {what} differs from R by more than {z} combined MC se\n"
            f" got      {g}\n expected {e}\n bound    {bound}\n reference: {case.provenance}"
        )
