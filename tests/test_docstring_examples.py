"""Every docstring example in the package runs and prints what it says.

The modules are discovered, not listed: a new module's examples run without editing
this file. A public module of the analysis layers (data, io, models, report: no ``_`` in
its dotted name) that exports functions or classes must show at least one example.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import dyadlab
from tests.reference.fixtures import DATA_WARNINGS_EXPECTED

# the package itself too: walk_packages lists what is below it
MODULES = ["dyadlab", *sorted(m.name for m in pkgutil.walk_packages(dyadlab.__path__, "dyadlab."))]
ANALYSIS = {"data", "io", "models", "report"}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _needs_example(module: object, name: str) -> bool:
    parts = name.split(".")
    public = len(parts) > 1 and parts[1] in ANALYSIS and not any(p.startswith("_") for p in parts)
    exported = [getattr(module, n, None) for n in getattr(module, "__all__", [])]
    own = [o for o in exported if getattr(o, "__module__", None) == name and callable(o)]
    return public and bool(own)


# an example's data may leave rows out: the DyadlabWarning saying so is part of what it
# shows (in ``.warnings``); a ConvergenceWarning still fails
@DATA_WARNINGS_EXPECTED
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional extra that is not installed
        if (exc.name or "").startswith("dyadlab"):
            raise
        pytest.skip(f"{name} needs {exc.name}")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    result = doctest.testmod(module, optionflags=FLAGS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples failed in {name}"
    if _needs_example(module, name):
        assert result.attempted > 0, f"{name} exports functions but shows no example"


def test_every_module_of_the_package_is_examined() -> None:
    """Each .py file of src/dyadlab (but Alembic's migration scripts) is in MODULES."""
    root = Path(dyadlab.__file__).parent
    names = set()
    for path in root.rglob("*.py"):
        if "migrations" in path.parts:  # run by Alembic, not importable modules
            continue
        parts = ["dyadlab", *path.relative_to(root).with_suffix("").parts]
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert names == set(MODULES)
