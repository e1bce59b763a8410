"""Interdependence-aware models for dyadic data.

Each model is a function that returns a :class:`~dyadlab.models._result.ModelResult`.
Both names below are imported on first use, so that ``dyadlab power`` starts without
pandas (issue 21).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dyadlab.models import power
    from dyadlab.models._result import ModelResult

__all__ = ["ModelResult", "power"]

_LAZY = {"ModelResult": "dyadlab.models._result", "power": "dyadlab.models.power"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dyadlab.models' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = loaded if name == "power" else getattr(loaded, name)
    globals()[name] = value
    return value
