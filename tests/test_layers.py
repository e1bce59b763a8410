"""The layers import downwards only: ``models/`` imports nothing above it — not ``report/``
(presenting sits above estimating; results reach it through ``models._result.present``),
not the command line, the platform or the demo, and not the other analysis packages
(physio, observe, survey, history build on models, not the other way round)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

MODELS = Path(__file__).resolve().parents[1] / "src" / "dyadlab" / "models"
#: what models/ may import from dyadlab: itself and the layers below it (design.md)
BELOW = (
    "dyadlab.models",
    "dyadlab.data",
    "dyadlab.io",
    "dyadlab.exceptions",
    "dyadlab._validation",
)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def _above(name: str) -> bool:
    if name == "dyadlab":  # ``from dyadlab import __version__``
        return False
    if name.startswith("matplotlib.pyplot"):  # drawing (type-only imports are fine)
        return True
    return name.startswith("dyadlab.") and not any(
        name == b or name.startswith(b + ".") for b in BELOW
    )


@pytest.mark.parametrize("path", sorted(MODELS.rglob("*.py")), ids=lambda p: p.name)
def test_models_import_nothing_above_them(path: Path) -> None:
    above = [n for n in _imports(path) if _above(n)]
    assert not above, f"{path.name} imports {above}: move that code to dyadlab/report/"


def test_the_layer_rule_would_catch_an_import_from_above() -> None:
    assert [n for n in ("dyadlab.report.html", "dyadlab.physio", "dyadlab.cli") if _above(n)] == [
        "dyadlab.report.html",
        "dyadlab.physio",
        "dyadlab.cli",
    ]
    assert not _above("dyadlab.models._engine") and not _above("dyadlab.data.convert")


def test_models_hold_no_plotting_code() -> None:
    assert not [p.name for p in MODELS.rglob("*plot*.py")]


def test_all_drawing_lives_in_report() -> None:
    """Outside report/, matplotlib appears only in type hints (``Axes``, ``Figure``)."""
    package = MODELS.parent
    drawing = {
        str(path.relative_to(package)): names
        for path in sorted(package.rglob("*.py"))
        if "report" not in path.relative_to(package).parts
        and (
            names := [
                n
                for n in _imports(path)
                if n.split(".")[0] == "matplotlib"
                and n not in ("matplotlib.axes", "matplotlib.figure")
            ]
        )
    }
    assert not drawing, f"move the drawing code to dyadlab/report/: {drawing}"


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
