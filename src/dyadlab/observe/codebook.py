"""Code books: codes grouped in families that are mutually exclusive and exhaustive.

Within a family, one partner is in exactly one code at any time; time that no code of
the family covers is the family's "none" code. Structures for published systems (codes
and families only, as the manuals are copyrighted) ship as YAML: ``scheme("cirs")``,
``scheme("spaff")``, ``scheme("ssics")``.

Examples
--------
>>> book = CodeBook({"affect": ["positive", "negative"]})
>>> book.family_of("negative"), book.none_code("affect")
('affect', 'none')
>>> sorted(scheme("spaff").families)[:2]
['negative', 'neutral']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from dyadlab._validation import check_option
from dyadlab.exceptions import DyadicDataError, FileFormatError

__all__ = ["SCHEMES", "CodeBook", "scheme"]

SCHEMES = ("cirs", "spaff", "ssics")


@dataclass(frozen=True)
class CodeBook:
    """Families of codes; ``none`` names the code for time no code of a family covers."""

    families: dict[str, list[str]]
    none: str = "none"
    name: str = ""
    source: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for fam, codes in self.families.items():
            for c in codes:
                if c in seen:
                    raise DyadicDataError(
                        f"CodeBook: code {c!r} is in families {seen[c]!r} and {fam!r}; a code "
                        "belongs to one family."
                    )
                seen[c] = fam

    @property
    def codes(self) -> list[str]:
        return [c for codes in self.families.values() for c in codes]

    def family_of(self, code: str) -> str:
        for fam, codes in self.families.items():
            if code in codes:
                return fam
        raise DyadicDataError(f"CodeBook: code {code!r} is not in the code book.")

    def none_code(self, family: str) -> str:
        check_option("family", family, list(self.families), func="CodeBook.none_code")
        return self.none

    def code_family_map(self) -> dict[str, str]:
        return {c: f for f, codes in self.families.items() for c in codes}

    @classmethod
    def from_yaml(cls, text: str) -> CodeBook:
        """Read ``{name, source, none, families: {family: [code | {code: description}]}}``."""
        raw: Any = yaml.safe_load(text)
        if not isinstance(raw, dict) or not isinstance(raw.get("families"), dict):
            raise FileFormatError("CodeBook.from_yaml(): the YAML needs a 'families' mapping.")
        families: dict[str, list[str]] = {}
        desc: dict[str, str] = {}
        for fam, codes in raw["families"].items():
            families[str(fam)] = []
            for c in codes:
                if isinstance(c, dict):
                    ((k, v),) = c.items()
                    families[str(fam)].append(str(k))
                    desc[str(k)] = str(v)
                else:
                    families[str(fam)].append(str(c))
        return cls(
            families,
            none=str(raw.get("none", "none")),
            name=str(raw.get("name", "")),
            source=str(raw.get("source", "")),
            descriptions=desc,
        )


def scheme(name: str) -> CodeBook:
    """The code structure of a published coding system: "cirs", "spaff" or "ssics"."""
    check_option("name", name, SCHEMES, func="scheme")
    text = resources.files("dyadlab.observe").joinpath(f"schemes/{name}.yaml").read_text()
    return CodeBook.from_yaml(text)
