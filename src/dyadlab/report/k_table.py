"""k = partner / actor of an APIM result as a report table and sentences.

The same words as :meth:`dyadlab.models.apim.ApimResult.summary`: the estimate, its
delta-method SE, the interval, and the pattern the interval supports.

Examples
--------
>>> import dyadlab as dl
>>> from dyadlab.data.datasets import load_acitelli
>>> res = dl.apim(load_acitelli(), y="satisfaction", x="tension", dyad="cuplid", role="gender")
>>> frame, lines = k_summary(res)
>>> list(frame["pattern"])
['mixed', 'mixed']
>>> lines[1][:44]
'tension [-1]: k = 0.389 (SE 0.151), 95% CI ['
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["K_COLUMNS", "k_summary"]

#: the columns of the report's k table
K_COLUMNS = ["predictor", "role", "estimate", "se", "ci_low", "ci_high", "ci_method", "pattern"]


def k_summary(result: Any) -> tuple[pd.DataFrame, list[str]]:
    """The k table (empty for a model without k) and its sentences, headed by a title."""
    from dyadlab.models.apim import k_sentence

    extra = result.extra if isinstance(getattr(result, "extra", None), Mapping) else {}
    raw = extra.get("k")
    rows: list[dict[str, Any]] = (
        [{str(c): v for c, v in r.items()} for r in raw.to_dict("records")]
        if isinstance(raw, pd.DataFrame)
        else list(raw or [])
    )
    if not rows:
        return pd.DataFrame(columns=K_COLUMNS), []
    frame = pd.DataFrame(rows)
    frame = frame[[c for c in K_COLUMNS if c in frame.columns]]
    lines = ["k = partner / actor (Kenny & Ledermann 2010):"]
    for k in rows:
        who = f" [{k['role']}]" if k.get("role") is not None else ""
        lines.append(f"{k['predictor']}{who}: {k_sentence(k, result.level)}")
    return frame, lines
