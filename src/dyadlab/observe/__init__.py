"""Observation of the couple's interaction: coded sessions, agreement, sequences.

Read coded sessions (BORIS, ELAN, SDIS, CSV) into one structure, check coders'
agreement (Cohen, Fleiss, Gwet, Krippendorff, time-unit and event-aligned κ, ICCs) and
analyse sequences as GSEQ does (lag and time-window tables, adjusted residuals, Yule's
Q), per couple and pooled, then model per-couple statistics across couples.

Examples
--------
>>> import dyadlab as dl
>>> sorted(n for n in dl.observe.__all__  if n in ("agreement", "icc", "sequential"))
['agreement', 'icc', 'sequential']
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "agreement": "dyadlab.observe._agreement",
    "confusion_table": "dyadlab.observe._agreement",
    "icc": "dyadlab.observe._icc",
    "CodeBook": "dyadlab.observe.codebook",
    "CodedSessions": "dyadlab.observe.sessions",
    "coded_sessions": "dyadlab.observe.sessions",
    "couple_model": "dyadlab.observe._couple_model",
    "demand_withdraw": "dyadlab.observe._demand_withdraw",
    "event_kappa": "dyadlab.observe.time_agreement",
    "read_boris": "dyadlab.observe.readers",
    "read_boris_table": "dyadlab.observe.readers",
    "read_csv": "dyadlab.observe.readers",
    "read_elan": "dyadlab.observe.readers",
    "read_sds": "dyadlab.observe.readers",
    "scheme": "dyadlab.observe.codebook",
    "simulate_sessions": "dyadlab.observe.simulate",
    "time_unit_kappa": "dyadlab.observe.time_agreement",
    "time_units": "dyadlab.observe.time_agreement",
    "sequential": "dyadlab.observe._sequential",
    "window_table": "dyadlab.observe._window",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dyadlab.observe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
