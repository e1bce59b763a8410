"""The layers import downwards only: ``models/`` never imports ``report/`` (presenting sits
above estimating; results reach it through ``models._result.present``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[1] / "src" / "dyadlab" / "models"


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.py")), ids=lambda p: p.name)
def test_models_import_nothing_from_report(path: Path) -> None:
    above = [n for n in _imports(path) if n.startswith(("dyadlab.report", "matplotlib.pyplot"))]
    assert not above, f"{path.name} imports {above}: move that code to dyadlab/report/"


def test_models_hold_no_plotting_code() -> None:
    assert not [p.name for p in MODELS.rglob("*plot*.py")]


def test_fitting_a_model_loads_neither_report_nor_matplotlib() -> None:
    code = (
        "import sys, dyadlab as dl\n"
        "from dyadlab.data.datasets import load_acitelli\n"
        "res = dl.apim(load_acitelli(), y='satisfaction', x='tension', dyad='cuplid')\n"
        "res.to_dict(), res.summary()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('dyadlab.report', 'matplotlib'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
