"""Issue 21: the command line starts without the heavy libraries it does not need.

Each check runs in a fresh interpreter and looks at ``sys.modules``, so a module-level
``import pandas`` (or a model module pulled in too early) anywhere on the start-up path
makes it fail. No timings here: the figures are in benchmarks/cli_startup.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import dyadlab

# never needed before a command that reads data or draws runs
HEAVY = ("pandas", "pyarrow", "matplotlib", "scipy.stats", "sqlalchemy", "fastapi", "dask")
POWER_ARGS = ["power", "apim", "--actor", "0.3", "--partner", "0.15", "--r-x", "0.3"]
POWER_ARGS += ["--r-e", "0.3", "--dyads", "100", "--json"]


def _loaded_after(code: str) -> dict[str, object]:
    """Run ``code`` in a new interpreter; return its stdout's last line as JSON."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"modules": modules, "stdout": out.stdout}


def _heavy(modules: object, heavy: tuple[str, ...]) -> list[str]:
    assert isinstance(modules, set)
    return sorted(h for h in heavy if h in modules)


# Typer validates option values with pydantic (~0.07 s): loaded by a command, never
# by the import or by --version
LIGHT_START = (*HEAVY, "numpy", "scipy", "pydantic", "rich")


def test_import_cli_loads_no_numeric_library() -> None:
    loaded = _loaded_after("import dyadlab.cli")
    assert _heavy(loaded["modules"], LIGHT_START) == []


def test_version_loads_no_numeric_library() -> None:
    code = (
        "from dyadlab.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['--version']) == 0"
    )
    loaded = _loaded_after(code)
    assert _heavy(loaded["modules"], LIGHT_START) == []


def test_version_builds_no_command() -> None:
    # Typer builds each command from its function's signature: --version needs none
    code = (
        "import typer.main\n"
        "built = []\n"
        "original = typer.main.get_command_from_info\n"
        "typer.main.get_command_from_info = lambda *a, **k: built.append(1) or original(*a, **k)\n"
        "from dyadlab.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--version']) == 0\n"
        "assert out.getvalue().startswith('dyadlab '), out.getvalue()\n"
        "assert built == [], len(built)"
    )
    _loaded_after(code)


def test_analytic_power_loads_no_numeric_library() -> None:
    # the noncentral t of the analytic power is computed in pure Python (models/_student)
    code = f"from dyadlab.cli import main\nassert main({POWER_ARGS!r}) == 0"
    loaded = _loaded_after(code)
    assert _heavy(loaded["modules"], (*HEAVY, "numpy", "scipy")) == []
    result = json.loads(str(loaded["stdout"]).splitlines()[0])
    assert result["method"] == "analytic"


def test_import_dyadlab_loads_no_subpackage_until_it_is_used() -> None:
    code = (
        "import sys, dyadlab as dl\n"
        "before = sorted(m for m in sys.modules if m.startswith('dyadlab.'))\n"
        "assert before == [], before\n"
        "assert dl.survey.__name__ == 'dyadlab.survey'\n"
        "assert 'dyadlab.survey' in sys.modules and 'dyadlab.physio' not in sys.modules"
    )
    _loaded_after(code)


@pytest.mark.parametrize("name", sorted(dyadlab._SUBPACKAGES))
def test_subpackages_resolve_as_attributes(name: str) -> None:
    assert getattr(dyadlab, name).__name__ == f"dyadlab.{name}"


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["power", "--help"],
        ["power", "apim", "--help"],
        ["study", "member", "--help"],
        ["power", "apim", "--dyads", "many", "--json"],
        ["power", "apim", "--no-such-option"],
        ["powr", "apim"],
        ["--version", "power"],
    ],
)
def test_the_one_command_tree_prints_what_the_whole_tree_prints(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # main() builds only the command the arguments name; the output and exit code are
    # those of the whole command tree
    import typer

    from dyadlab.cli import app, main

    monkeypatch.setenv("COLUMNS", "120")
    code = main(argv)
    ours = capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        typer.main.get_command(app).main(args=argv, prog_name="dyadlab", standalone_mode=True)
    whole = capsys.readouterr()
    assert (code, ours.out, ours.err) == (exc.value.code, whole.out, whole.err)
