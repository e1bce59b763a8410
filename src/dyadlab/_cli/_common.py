"""What the model commands share: option declarations, usage checks, printing a result.

Required options are declared optional and checked here rather than by the parser, so
that a forgotten option gets the same one-line error (exit 2) as every other usage error.

Examples
--------
>>> require_options("apim", [("y", "--y", "name the outcome column")])
>>> check_role_choice("apim", role="gender", indistinguishable=False)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from dyadlab.exceptions import DyadlabWarning, OptionError

__all__ = [
    "DataFile",
    "DyadOption",
    "EstimatorOption",
    "IndistinguishableOption",
    "JsonOption",
    "LevelOption",
    "MethodAlias",
    "PersonOption",
    "RoleOption",
    "check_role_choice",
    "estimator_flag",
    "print_result",
    "require_options",
]

DataFile = Annotated[
    Path,
    typer.Argument(
        help="Data file in individual format (one row per person, or per person-occasion)."
    ),
]
DyadOption = Annotated[str | None, typer.Option("--dyad", help="Dyad id column (required).")]
PersonOption = Annotated[str | None, typer.Option("--person", help="Person id column.")]
RoleOption = Annotated[
    str | None,
    typer.Option("--role", help="Column whose two values distinguish the members of a dyad."),
]
IndistinguishableOption = Annotated[
    bool, typer.Option("--indistinguishable", help="Treat the members as interchangeable.")
]
LevelOption = Annotated[float, typer.Option("--level", help="Confidence level.")]
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print one JSON object instead of a table.")
]
EstimatorOption = Annotated[
    str, typer.Option("--estimator", help="REML (default) or ML (maximum likelihood).")
]
MethodAlias = Annotated[
    str | None, typer.Option("--method", hidden=True, help="Deprecated: use --estimator.")
]


def estimator_flag(command: str, estimator: str, method: str | None) -> str:
    """The checked ``--estimator`` (REML or ML); ``--method`` is its deprecated old name.

    Examples
    --------
    >>> estimator_flag("diary", "ml", None)
    'ML'
    """
    flag = "--estimator" if method is None else "--method"
    given = estimator if method is None else method
    value = given.upper()
    if value not in ("REML", "ML"):
        raise OptionError(f"{command}: {flag} must be REML or ML, got {given!r}.")
    if method is not None:
        typer.echo(f"{command}: --method is deprecated for REML/ML; use --estimator.", err=True)
    return value


def require_options(command: str, required: Sequence[tuple[Any, str, str]]) -> None:
    """Raise :class:`OptionError` for the first ``(value, flag, hint)`` whose value is empty."""
    for value, flag, hint in required:
        if not value:
            raise OptionError(f"{command}: {flag} is required; {hint}.")


def check_role_choice(command: str, *, role: str | None, indistinguishable: bool) -> None:
    """Exactly one of ``--role COLUMN`` and ``--indistinguishable`` must be given."""
    if role and indistinguishable:
        raise OptionError(
            f"{command}: --role and --indistinguishable exclude each other; give one of them."
        )
    if not role and not indistinguishable:
        raise OptionError(
            f"{command}: give --role COLUMN for distinguishable dyads or --indistinguishable."
        )


def print_result(model: Callable[..., Any], data: Any, *, as_json: bool, **arguments: Any) -> None:
    """Fit ``model(data, **arguments)``; print its summary, or with ``as_json`` one JSON object.

    The model's :class:`~dyadlab.exceptions.DyadlabWarning` messages are part of the
    result (its summary and JSON), so they are not printed a second time on stderr.
    """
    with notes_in_result():
        result = model(data, **arguments)
    typer.echo(result.to_json() if as_json else result.summary())


@contextmanager
def notes_in_result() -> Iterator[None]:
    """Silence the DyadlabWarnings of a call whose result prints them (summary, JSON)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DyadlabWarning)
        yield
