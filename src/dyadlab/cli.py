"""The ``dyadlab`` command line: thin Typer commands over the public functions.

Each command lives in its own module under :mod:`dyadlab._cli` and registers itself
on :data:`app`. Errors a user can make print one readable line on stderr (exit 1 for a
data error, 2 for a usage error), never a traceback.

Examples
--------
$ dyadlab --version
dyadlab 0.1.0
"""

from __future__ import annotations

import copy
import importlib
import sys
from typing import Any

import typer

from dyadlab import __version__
from dyadlab._cli._help import check_flag_values, flag_options, show_flags_as_flags
from dyadlab.exceptions import DyadlabError, OptionError

app = typer.Typer(
    name="dyadlab",
    help="Dyadic research: collect from both partners, analyse with interdependence-aware models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# The commands in the order ``dyadlab --help`` lists them; any other public module in
# dyadlab._cli (one that defines register(app)) is found and listed after them, so a new
# command needs nothing but its own module.
_FIRST: tuple[str, ...] = (
    "nonindependence",
    "power",
    "convert",
    "describe",
    "apim",
    "diary",
    "protocol",
    "platform",
    "truth_bias",
    "demo",
    "report",
)


def _command_modules() -> tuple[str, ...]:
    import pkgutil

    from dyadlab import _cli

    found = sorted(
        m.name for m in pkgutil.iter_modules(_cli.__path__) if not m.name.startswith("_")
    )
    return tuple(n for n in _FIRST if n in found) + tuple(n for n in found if n not in _FIRST)


COMMAND_MODULES: tuple[str, ...] = _command_modules()


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"dyadlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Show the version."
    ),
) -> None:
    """Dyadic research: collect from both partners, analyse with interdependence-aware models."""


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"dyadlab._cli.{name}").register(app)


_register_all()
show_flags_as_flags()


def _command_for(args: list[str]) -> Any:
    """The Click command that runs ``args``, built from only what they need.

    Typer builds a command from its functions' signatures, which costs about 1 ms per
    option; the whole tree (over 80 commands) is built only when the arguments do not
    start with a command's name (``--help``, a mistyped name). ``--version`` needs none
    of the commands.
    """
    first = args[0] if args else ""
    if first == "--version":
        commands: list[Any] = []
        groups: list[Any] = []
    else:
        commands = [c for c in app.registered_commands if c.name == first]
        groups = [g for g in app.registered_groups if g.name == first]
        if not commands and not groups:
            return typer.main.get_command(app)
    view = copy.copy(app)  # the same root options and callback, fewer commands
    view.registered_commands = commands
    view.registered_groups = groups
    return typer.main.get_command(view)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 1 data error, 2 usage error).

    Typer reports its own usage errors (unknown options, missing arguments) with exit
    code 2; dyadlab's errors are caught here and printed as one line on stderr.
    """
    try:
        args = list(sys.argv[1:] if argv is None else argv)
        command = _command_for(args)
        check_flag_values(args, flag_options(command))
        command.main(args=args, prog_name="dyadlab", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OptionError as exc:
        typer.echo(f"dyadlab: error: {exc}", err=True)
        return 2
    except DyadlabError as exc:
        typer.echo(f"dyadlab: error: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
