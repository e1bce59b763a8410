"""The examples in the data layer's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "dyadlab.data",
    "dyadlab.data.checks",
    "dyadlab.data.convert",
    "dyadlab.data.dyadic_data",
    "dyadlab.data.describe",
    "dyadlab.data.datasets",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
