"""Every command's ``--help`` (issue 20): flags shown as flags, one way to mark a
required option, and a flag given a value explained in one line."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from dyadlab.cli import app, main


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, command)]
    for name, sub in (getattr(command, "commands", None) or {}).items():
        out += _commands(sub, (*path, name))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_there_are_commands_to_check() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"apim", "diary", "report", "demo", "protocol convert"} <= names
    assert len(COMMANDS) > 20


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "dyadlab" for p, _ in COMMANDS]
)
def test_help_text(
    path: tuple[str, ...],
    command: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert main([*path, "--help"]) == 0
    text = capsys.readouterr().out
    assert "Usage: dyadlab" in text
    assert "<bool>" not in text and "<list[" not in text
    for param in getattr(command, "params", []):
        if param.param_type_name != "option":
            continue
        # options that must be given say "(required)" in their help and are checked by
        # the command (one line, exit 2); the parser's own marker is never used for them
        assert not param.required, f"{' '.join(path)} {param.opts[0]}: use '(required)'"
        if param.is_flag:
            (line,) = [ln for ln in text.splitlines() if f" {param.opts[0]} " in ln][:1]
            assert "<" not in line.split(param.opts[0], 1)[1].split("  ")[1], line


@pytest.mark.parametrize(
    "argv",
    [
        ["apim", "d.csv", "--indistinguishable", "true"],
        ["apim", "d.csv", "--json=yes"],
        ["power", "apim", "--json", "false"],
        ["demo", "--no-serve", "on"],
    ],
)
def test_a_flag_given_a_value_is_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "is a flag and takes no value" in err and argv[0] in err


def test_a_number_after_a_flag_is_left_to_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    # "1" may be an argument (e.g. a study id): not taken for a flag's value
    main(["apim", "--json", "1"])
    assert "is a flag" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "flag"),
    [(["report", "d.csv", "--y", "y"], "--dyad"), (["protocol", "convert", "p.yaml"], "--out")],
)
def test_required_options_are_checked_in_one_line(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{flag} is required" in err


def test_commands_are_registered_in_one_place_and_discovered() -> None:
    """Each command comes from the register(app) of a public module of dyadlab._cli, and
    every such module is found (cli.COMMAND_MODULES): a new command is a new module."""
    import importlib
    import pkgutil

    from dyadlab import _cli
    from dyadlab.cli import COMMAND_MODULES

    public = {m.name for m in pkgutil.iter_modules(_cli.__path__) if not m.name.startswith("_")}
    assert set(COMMAND_MODULES) == public
    fresh = typer.Typer()
    for name in COMMAND_MODULES:
        importlib.import_module(f"dyadlab._cli.{name}").register(fresh)

    def names(t: typer.Typer) -> list[str | None]:
        return sorted(
            [c.name for c in t.registered_commands] + [g.name for g in t.registered_groups],
            key=str,
        )

    assert names(app) == names(fresh)
