"""The relational and sexual history interview: episodes → sequences → analyses.

Read episodes (``person, partner, type, start, end, start_precision, end_precision,
certainty``) with their imprecise dates placed on the calendar, turn them into monthly
(or daily, weekly, quarterly, yearly) state sequences with overlaps as combined states,
count and time them, compare sequences by optimal matching and cluster them, and export
them for TraMineR (wide) and for qualitative coding (REFI-QDA ``.qdpx``).

Examples
--------
>>> import dyadlab as dl
>>> "sequences" in dl.history.__all__
True
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "COLUMNS": "dyadlab.history.episodes",
    "PRECISIONS": "dyadlab.history.episodes",
    "TYPES": "dyadlab.history.episodes",
    "Episodes": "dyadlab.history.episodes",
    "TimeToEventResult": "dyadlab.history._survival",
    "cluster": "dyadlab.history._distances",
    "concurrency": "dyadlab.history._describe",
    "counts": "dyadlab.history._describe",
    "durations": "dyadlab.history._describe",
    "event_ages": "dyadlab.history._describe",
    "first_episodes": "dyadlab.history._describe",
    "milestone_ages": "dyadlab.history._describe",
    "time_to_event": "dyadlab.history._survival",
    "distances": "dyadlab.history._distances",
    "substitution_costs": "dyadlab.history._distances",
    "Sequence": "dyadlab.history._sequences",
    "SequenceResult": "dyadlab.history._sequences",
    "SimulatedHistory": "dyadlab.history.simulate",
    "parse_date": "dyadlab.history.episodes",
    "read_episodes": "dyadlab.history.episodes",
    "read_qdpx_notes": "dyadlab.history.qdpx",
    "read_wide": "dyadlab.history.wide",
    "to_qdpx": "dyadlab.history.qdpx",
    "sequences": "dyadlab.history._sequences",
    "simulate_episodes": "dyadlab.history.simulate",
    "to_wide": "dyadlab.history.wide",
    "write_history_report": "dyadlab.report.history_report",
}

__all__ = sorted(_LAZY)


# public modules reached as attributes (``dl.history.episodes.COLUMNS``)
_MODULES: frozenset[str] = frozenset({"episodes", "qdpx", "simulate", "wide"})


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"dyadlab.history.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dyadlab.history' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
