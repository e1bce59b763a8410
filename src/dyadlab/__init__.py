"""dyadlab: dyadic, multi-method research on sex and relationships.

Collect data from both partners of a couple and analyse it with models that respect
that partners influence each other.

Examples
--------
>>> import dyadlab as dl
>>> dl.__version__
'0.1.0'

Public names are imported lazily, so that ``import dyadlab`` stays fast and never pulls
in the platform's heavy dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it; each is imported on first use.
_LAZY: dict[str, str] = {
    "ConvergenceWarning": "dyadlab.exceptions",
    "DyadlabError": "dyadlab.exceptions",
    "DyadicData": "dyadlab.data",
    "DyadicDataError": "dyadlab.exceptions",
    "DyadlabWarning": "dyadlab.exceptions",
    "ModelResult": "dyadlab.models._result",
    "apim": "dyadlab.models.apim",
    "apim_mediation": "dyadlab.models.mediation",
    "diary": "dyadlab.models.diary",
    "from_dyad": "dyadlab.data",
    "from_pairwise": "dyadlab.data",
    "nonindependence": "dyadlab.models.nonindependence",
    "power": "dyadlab.models",
    "read_table": "dyadlab.io",
    "simulate_apim": "dyadlab.data.simulate",
    "simulate_diary": "dyadlab.data.simulate",
    "simulate_truth_bias": "dyadlab.data.simulate",
    "to_dyad": "dyadlab.data",
    "truth_bias": "dyadlab.models.truth_bias",
    "to_pairwise": "dyadlab.data",
    "write_table": "dyadlab.io",
}

# sub-packages reached as attributes (``dl.survey.mean``), imported on first use.
_SUBPACKAGES: frozenset[str] = frozenset({"history", "observe", "physio", "report", "survey"})

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        value = importlib.import_module(f"dyadlab.{name}")
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dyadlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
