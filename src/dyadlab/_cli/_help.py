"""How ``--help`` shows options, and what a flag given a value means.

Typer 0.2x prints the Python type after every option, so flags read as if they took a
value (``--indistinguishable <bool>``, ``--help <bool>``) and repeatable options as if
they took a list (``--x <list[str]>``). :func:`show_flags_as_flags` drops the type of a
flag and shows a repeatable option's element type; :func:`check_flag_values` turns
``--indistinguishable true`` (which the parser reports as "unexpected extra argument")
into one line saying that a flag takes no value.

Examples
--------
>>> check_flag_values(["apim", "d.csv", "--indistinguishable"], {"apim": {"--indistinguishable"}})
>>> check_flag_values(["apim", "--json", "yes"], {"apim": {"--json"}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
dyadlab.exceptions.OptionError: apim: --json is a flag and takes no value: write --json ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dyadlab.exceptions import OptionError

__all__ = ["check_flag_values", "flag_options", "show_flags_as_flags"]

# not "1"/"0": a flag may be followed by a numeric argument (e.g. a study id)
_BOOLEAN_WORDS = {"true", "false", "yes", "no", "on", "off"}


def show_flags_as_flags() -> None:
    """Patch Typer's option display once: no type for flags, ``<str>`` for ``list[str]``."""
    import typer.core

    cls: Any = getattr(typer.core, "TyperOption", None)
    original = getattr(cls, "display_type_rich", None)
    if cls is None or original is None or getattr(original, "_dyadlab", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        shown = original(self, ctx)
        if isinstance(shown, str) and shown.startswith("<list[") and shown.endswith("]>"):
            return f"<{shown[6:-2]}>"
        return shown  # type: ignore[no-any-return]

    display_type_rich._dyadlab = True  # type: ignore[attr-defined]
    cls.display_type_rich = display_type_rich


def flag_options(command: Any, prefix: str = "") -> dict[str, set[str]]:
    """The flags (``--json``, ``--no-serve`` …) of every command, by its command path."""
    out: dict[str, set[str]] = {}
    subcommands = getattr(command, "commands", None) or {}
    for name, sub in subcommands.items():
        path = f"{prefix} {name}".strip()
        flags = {
            opt
            for p in getattr(sub, "params", [])
            if getattr(p, "is_flag", False)
            for opt in [*p.opts, *p.secondary_opts]
        }
        if flags:
            out[path] = flags
        out.update(flag_options(sub, path))
    return out


def check_flag_values(argv: Sequence[str], flags: Mapping[str, set[str]]) -> None:
    """Raise :class:`OptionError` when a flag is followed by a word such as ``true``."""
    words = list(argv)
    # the longest command path the arguments start with
    command = ""
    for i in range(len(words), 0, -1):
        candidate = " ".join(words[:i])
        if candidate in flags:
            command = candidate
            break
    if not command:
        return
    for i, arg in enumerate(words):
        name, equals, value = arg.partition("=")
        if name not in flags[command]:
            continue
        following = value if equals else (words[i + 1] if i + 1 < len(words) else "")
        if following.lower() in _BOOLEAN_WORDS:
            raise OptionError(
                f"{command}: {name} is a flag and takes no value: write {name} alone to "
                "switch it on, or leave it out."
            )
