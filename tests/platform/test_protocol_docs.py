"""The examples in the protocol, schedule and notification docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "dyadlab.platform.protocol",
    "dyadlab.platform._protocol_checks",
    "dyadlab.platform._expressions",
    "dyadlab.platform._xlsform",
    "dyadlab.platform._redcap",
    "dyadlab.platform.schedule",
    "dyadlab.platform.notify",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples failed in {name}"
    if name != "dyadlab.platform._protocol_checks":
        assert result.attempted > 0, f"{name} has no docstring examples"
