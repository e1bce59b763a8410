"""The examples in the page modules' docstrings run and are right."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "dyadlab.platform.i18n",
    "dyadlab.platform.routes._pages",
    "dyadlab.platform.routes._heatmap",
    "dyadlab.platform.routes._messages",
    "dyadlab.platform.routes.pages_participant",
    "dyadlab.platform.routes.pages_researcher",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring examples failed in {name}"
    assert result.attempted > 0, f"{name} has no docstring examples"
