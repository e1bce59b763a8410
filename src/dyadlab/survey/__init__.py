"""Design-based comparisons of representative samples (weights, strata, clusters).

Describe how the sample was drawn with :func:`design`, then estimate means, totals,
ratios, proportions and GLMs whose standard errors respect the design (Taylor
linearisation, as R's ``survey`` package), per domain (``by=``) without dropping a
row or a PSU, and compare domains with their joint covariance.
:func:`relationship_type` classifies respondents as man-woman, man-man, woman-woman,
single or other/unknown from their own and their partner's sex.

Examples
--------
>>> import dyadlab as dl
>>> df = dl.survey.simulate_panel(800, rng=4)
>>> d = dl.survey.design(df, weights="weight", strata="stratum", cluster="psu")
>>> res = d.mean("loneliness", by="relationship")
>>> sorted(res.estimates.columns)[:3]
['ci_high', 'ci_low', 'df']
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "ReplicateDesign": "dyadlab.survey._replicate",
    "SurveyDesign": "dyadlab.survey._design",
    "SurveyResult": "dyadlab.survey._result",
    "design": "dyadlab.survey._design",
    "relationship_type": "dyadlab.survey._relationship",
    "replicate_design": "dyadlab.survey._replicate",
    "simulate_panel": "dyadlab.survey.simulate",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dyadlab.survey' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
