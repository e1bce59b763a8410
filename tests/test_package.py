"""The package's public surface: version, lazy names, the exception tree, the CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

import dyadlab as dl
from dyadlab.cli import main
from dyadlab.exceptions import DyadicDataError, DyadlabError, OptionError


def test_every_public_name_resolves():
    for name in dl.__all__:
        assert getattr(dl, name) is not None, name


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = dl.nope


def test_exceptions_subclass_builtins():
    assert issubclass(DyadicDataError, ValueError)
    assert issubclass(DyadicDataError, DyadlabError)
    assert issubclass(OptionError, ValueError)


def test_import_is_light():
    code = (
        "import sys, dyadlab; heavy = [m for m in ('fastapi', 'sqlalchemy', 'matplotlib') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"dyadlab {dl.__version__}"


def test_cli_unknown_option_is_a_usage_error_without_traceback(capsys):
    assert main(["--bogus-option"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "--bogus-option" in err


def test_cli_dyadlab_error_is_one_line(monkeypatch, capsys):
    import typer

    from dyadlab import cli

    def boom() -> None:
        raise DyadicDataError("demo(): column 'x' is not in the data. Did you mean 'X'?")

    test_app = typer.Typer()
    test_app.command()(boom)
    monkeypatch.setattr(cli, "app", test_app)
    assert cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "dyadlab: error: demo(): column 'x' is not in the data. Did you mean 'X'?"


def test_license_is_an_spdx_expression_with_its_file():
    """setuptools stops building projects whose license is a TOML table (2027-02-18)."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert "MIT License" in (root / "LICENSE").read_text(encoding="utf-8")


def test_majors_that_would_break_the_cli_are_bounded_and_installed_versions_fit():
    """Issue 20: typer and the core libraries have lower and upper bounds, and the
    environment the tests run in satisfies them."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    from packaging.requirements import Requirement

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = [*project["dependencies"], *project["optional-dependencies"]["platform"]]
    reqs = {Requirement(d).name: Requirement(d) for d in deps}
    for name in ("typer", "numpy", "pandas", "scipy", "sqlalchemy"):
        spec = reqs[name].specifier
        assert {s.operator for s in spec} >= {">=", "<"}, f"{name}: {spec}"
        assert spec.contains(version(name)), f"{name} {version(name)} not in {spec}"
